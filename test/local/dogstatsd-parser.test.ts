/**
 * The DogStatsD parser applies the Datadog Lambda extension's rules (DataDog/libdatadog, dogstatsd/src/metric.rs
 * and dogstatsd.rs): what it records, and every line it drops, with the reason.
 */
import { describe, expect, it } from 'vitest';
import {
  EXTENSION_BUFFER_BYTES,
  EXTENSION_MAX_TAGS,
  parseDatagram,
  parseLine,
  type DropCode,
} from '../../functions/local/dogstatsd-parser.ts';

function accepted(line: string) {
  const result = parseLine(line);
  if (!result.ok) throw new Error(`expected "${line}" to be accepted, got ${result.rejected.code}: ${result.rejected.reason}`);
  return result.metric;
}

function dropCode(line: string): DropCode {
  const result = parseLine(line);
  if (result.ok) throw new Error(`expected "${line}" to be dropped`);
  return result.rejected.code;
}

describe('lines the extension records', () => {
  it('reads a distribution with tags as the worker writes it', () => {
    const metric = accepted('jobs.processed:1|d|#job_type:send-email,queue:default,outcome:success');
    expect(metric).toMatchObject({ name: 'jobs.processed', value: 1, kind: 'distribution', notes: [] });
    expect(metric.tags).toEqual(['job_type:send-email', 'outcome:success', 'queue:default']);
  });

  it('records counts and gauges too (they are not distributions, which the listener reports)', () => {
    expect(accepted('page.views:3|c').kind).toBe('count');
    expect(accepted('queue.depth:7.5|g').kind).toBe('gauge');
  });

  it('keeps only the first of several values', () => {
    const metric = accepted('jobs.duration:12:13:14|d');
    expect(metric.value).toBe(12);
    expect(metric.notes.join()).toContain('keeps only the first');
  });

  it('accepts the sample rate but notes that the value is not scaled', () => {
    const metric = accepted('jobs.duration:5|d|@0.5|#queue:default');
    expect(metric.sampleRate).toBe(0.5);
    expect(metric.value).toBe(5);
    expect(metric.notes.join()).toContain('ignored');
  });

  it('accepts the optional fields in the order @rate, #tags, c:container, Ttimestamp', () => {
    const metric = accepted('m:1|d|@1|#a:b|c:abc123|T1656581409');
    expect(metric).toMatchObject({ containerId: 'abc123', timestamp: 1656581409, tags: ['a:b'] });
  });

  it('accepts an unparsable timestamp and notes that the current time is used', () => {
    expect(accepted('m:1|d|Tsoon').notes.join()).toContain('current time');
  });

  it('keeps a tag without a value as its key, removes adjacent duplicates and sorts', () => {
    expect(accepted('m:1|d|#b:2,a,a,b:2,c:').tags).toEqual(['a', 'b:2', 'b:2', 'c']);
  });

  it('accepts numbers as Rust parses them: signs, exponents, a bare fraction', () => {
    expect(accepted('m:-1.5e3|g').value).toBe(-1500);
    expect(accepted('m:.25|d').value).toBe(0.25);
    expect(accepted('m:+7|c').value).toBe(7);
  });

  it('accepts exactly 32 tags', () => {
    const tags = Array.from({ length: EXTENSION_MAX_TAGS }, (_, i) => `t${i}:v`).join(',');
    expect(accepted(`m:1|d|#${tags}`).tags).toHaveLength(32);
  });

  it('notes names that Datadog would rename', () => {
    expect(accepted('1st metric:1|d').notes.join()).toContain('naming rules');
    expect(accepted('jobs.queue_latency:1|d').notes).toEqual([]);
  });
});

describe('lines the extension drops', () => {
  it('drops a line with 33 tags', () => {
    const tags = Array.from({ length: EXTENSION_MAX_TAGS + 1 }, (_, i) => `t${i}:v`).join(',');
    expect(dropCode(`m:1|d|#${tags}`)).toBe('too_many_tags');
  });

  it('drops histograms, sets and timers (silently, in the extension)', () => {
    expect(dropCode('m:1|h')).toBe('unsupported_type');
    expect(dropCode('m:1|s')).toBe('unsupported_type');
    expect(dropCode('m:1|ms')).toBe('unsupported_type');
  });

  it('drops unknown types', () => {
    expect(dropCode('m:1|x')).toBe('invalid_type');
    expect(dropCode('m:1|D')).toBe('invalid_type');
  });

  it('drops fields it does not know, such as the cardinality field hot-shots adds in datadog mode', () => {
    expect(dropCode('m:1|d|#a:b|card:low')).toBe('format');
    expect(dropCode('m:1|d|e:external')).toBe('format');
  });

  it('drops a line whose optional fields are out of order', () => {
    expect(dropCode('m:1|d|#a:b|@0.5')).toBe('format');
  });

  it('drops a sample rate in scientific notation', () => {
    expect(dropCode('m:1|d|@1e-3')).toBe('format');
  });

  it('drops a value Rust cannot parse', () => {
    expect(dropCode('m:abc|d')).toBe('invalid_value');
    expect(dropCode('m:1_000|d')).toBe('invalid_value');
    expect(dropCode('m::1|d')).toBe('invalid_value');
  });

  it('drops a line without a name, value or type', () => {
    expect(dropCode('|d')).toBe('format');
    expect(dropCode('m|d')).toBe('format');
    expect(dropCode('m:1')).toBe('format');
    expect(dropCode('somerandomstring|c+a;slda')).toBe('format');
  });

  it('drops a line ending in a carriage return (the extension splits on \\n only)', () => {
    expect(dropCode('m:1|d\r')).toBe('format');
  });

  it('skips service checks, events and aws.lambda.enhanced.invocations', () => {
    expect(dropCode('_sc|db.up|0')).toBe('service_check');
    expect(dropCode('_e{5,10}:title|some text')).toBe('event');
    expect(dropCode('aws.lambda.enhanced.invocations:1|d')).toBe('filtered');
  });
});

describe('datagrams', () => {
  it('splits on newlines and skips empty lines', () => {
    const result = parseDatagram('a:1|d\n\nb:2|d\nc:3|h\n');
    expect(result.metrics.map((metric) => metric.name)).toEqual(['a', 'b']);
    expect(result.rejected.map((line) => line.code)).toEqual(['unsupported_type']);
    expect(result.truncated).toBe(false);
  });

  it('prefixes the configured namespace', () => {
    expect(parseDatagram('jobs.processed:1|d', { namespace: 'app' }).metrics[0]?.name).toBe('app.jobs.processed');
  });

  it('accepts a datagram of exactly the buffer size', () => {
    const line = 'jobs.duration:1|d|#queue:default';
    const filler = `x:${'1'.repeat(EXTENSION_BUFFER_BYTES - line.length - 5)}|d`;
    const datagram = `${line}\n${filler}`;
    expect(Buffer.byteLength(datagram)).toBe(EXTENSION_BUFFER_BYTES);
    const result = parseDatagram(datagram);
    expect(result).toMatchObject({ truncated: false, rejected: [] });
    expect(result.metrics).toHaveLength(2);
  });

  it('cuts a longer datagram at 8,192 bytes: later lines are lost, the cut line is parsed as the extension would', () => {
    const lines = Array.from({ length: 300 }, (_, i) => `jobs.duration:${i}|d|#job_type:send-email,queue:default`);
    const result = parseDatagram(lines.join('\n'));
    expect(result.truncated).toBe(true);
    const cut = result.rejected.filter((line) => line.code === 'cut_by_buffer');
    const lost = result.rejected.filter((line) => line.code === 'beyond_buffer');
    expect(cut).toHaveLength(1);
    const whole = result.metrics.filter((metric) => !metric.notes.join().includes('cut at'));
    expect(whole.length + cut.length + lost.length).toBe(lines.length);
    // The cut line still parsed, with a truncated tag: recorded under a wrong tag set.
    const last = result.metrics.at(-1);
    expect(last?.notes.join()).toContain('cut at the 8192-byte buffer');
    expect(last?.tags.join(',')).not.toBe('job_type:send-email,queue:default');
  });

  it('loses the whole datagram when it is not valid UTF-8 (the extension panics)', () => {
    const result = parseDatagram(Buffer.concat([Buffer.from('a:1|d\nb:2|d\n'), Buffer.from([0xff, 0xfe])]));
    expect(result.metrics).toEqual([]);
    expect(result.rejected.map((line) => line.code)).toEqual(['invalid_utf8', 'invalid_utf8', 'invalid_utf8']);
  });

  it('loses the whole datagram when the 8,192-byte cut splits a UTF-8 character', () => {
    const prefix = `m:1|d|#k:${'v'.repeat(EXTENSION_BUFFER_BYTES - 10)}`;
    const datagram = Buffer.from(`${prefix}é tail`);
    expect(datagram.length).toBeGreaterThan(EXTENSION_BUFFER_BYTES);
    expect(datagram[EXTENSION_BUFFER_BYTES - 1]).toBe(0xc3);
    const result = parseDatagram(datagram);
    expect(result.metrics).toEqual([]);
    expect(result.rejected[0]?.code).toBe('invalid_utf8');
  });
});
