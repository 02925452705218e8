/**
 * The DogStatsD parser applies the rules of the Datadog Lambda extension the stack pins (layer 99: the `dogstatsd`
 * crate of DataDog/serverless-components at d0c7f44, metric.rs and dogstatsd.rs): what it records, and every line
 * it drops, with the reason.
 */
import { describe, expect, it } from 'vitest';
import {
  DATADOG_EXTENSION_LAYER_VERSION,
  dogstatsdRevisionOf,
  EXTENSION_BUFFER_BYTES,
  EXTENSION_MAX_TAGS,
} from '../../functions/datadog-extension.ts';
import { PARSER_REVISION, parseDatagram, parseLine, type DropCode } from '../../functions/local/dogstatsd-parser.ts';

function tagList(count: number): string {
  return Array.from({ length: count }, (_, i) => `t${i}:v`).join(',');
}

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

describe('the revision the parser follows', () => {
  it('is the DogStatsD revision of the extension layer the stack pins (change both together)', () => {
    expect(PARSER_REVISION).toBe(dogstatsdRevisionOf(DATADOG_EXTENSION_LAYER_VERSION));
  });

  it('is known for every layer the table lists, and a layer without one is refused with what to do', () => {
    expect(() => dogstatsdRevisionOf(DATADOG_EXTENSION_LAYER_VERSION + 1)).toThrow(/add the serverless-components revision/);
  });

  it('is named in the parser module header', async () => {
    const { readFile } = await import('node:fs/promises');
    const source = await readFile(new URL('../../functions/local/dogstatsd-parser.ts', import.meta.url), 'utf8');
    expect(source.slice(0, source.indexOf('*/'))).toContain(PARSER_REVISION);
  });
});

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

  it('accepts the optional fields in any order', () => {
    expect(accepted('m:1|d|@1|#a:b|c:abc123|T1656581409')).toMatchObject({ containerId: 'abc123', timestamp: 1656581409, tags: ['a:b'] });
    expect(accepted('m:1|d|T1656581409|c:abc123|#a:b|@1')).toMatchObject({ containerId: 'abc123', timestamp: 1656581409, tags: ['a:b'] });
  });

  it('keeps a line with |T before |#', () => {
    expect(accepted('m:1|d|T1656581409|#a:b')).toMatchObject({ timestamp: 1656581409, tags: ['a:b'] });
  });

  it('keeps a line with |c: before |#', () => {
    expect(accepted('m:1|d|c:abc123|#a:b')).toMatchObject({ containerId: 'abc123', tags: ['a:b'] });
  });

  it('keeps a line with |#tags before |@rate', () => {
    expect(accepted('m:1|d|#a:b|@0.5')).toMatchObject({ sampleRate: 0.5, tags: ['a:b'] });
  });

  it('keeps a line with a field it does not know, such as the cardinality field, and notes that it is ignored', () => {
    const metric = accepted('m:1|d|#a:b|card:high');
    expect(metric.tags).toEqual(['a:b']);
    expect(metric.notes.join()).toContain('"|card:high" is not one the extension reads');
  });

  it('keeps a line with an |e: field', () => {
    expect(accepted('m:1|d|e:foo').value).toBe(1);
  });

  it('keeps a line with an empty field', () => {
    expect(accepted('m:1|d||#a:b').tags).toEqual(['a:b']);
  });

  it('keeps a line ending in |', () => {
    expect(accepted('m:1|d|').kind).toBe('distribution');
  });

  it('keeps a line with an empty |# section, without tags', () => {
    expect(accepted('m:1|d|#').tags).toEqual([]);
  });

  it('keeps the last of two |# sections', () => {
    const metric = accepted('m:1|d|#a:1|#b:2');
    expect(metric.tags).toEqual(['b:2']);
    expect(metric.notes.join()).toContain('keeps only the last');
  });

  it('rounds a decimal timestamp to whole seconds, halves away from zero', () => {
    expect(accepted('m:1|d|T1656581409.6').timestamp).toBe(1656581410);
    expect(accepted('m:1|d|T1656581409.4').timestamp).toBe(1656581409);
    expect(accepted('m:1|d|T-2.5').timestamp).toBe(-3);
    expect(accepted('m:1|d|T1656581409.6').notes.join()).toContain('rounded');
  });

  it('accepts a sample rate in scientific notation', () => {
    expect(accepted('m:1|d|@1e-3').sampleRate).toBe(0.001);
  });

  it('keeps a tag without a value as its key, removes adjacent duplicates and sorts', () => {
    expect(accepted('m:1|d|#b:2,a,a,b:2,c:').tags).toEqual(['a', 'b:2', 'b:2', 'c']);
  });

  it('accepts numbers as Rust parses them: signs, exponents, a bare fraction', () => {
    expect(accepted('m:-1.5e3|g').value).toBe(-1500);
    expect(accepted('m:.25|d').value).toBe(0.25);
    expect(accepted('m:+7|c').value).toBe(7);
  });

  it('keeps a line with 33 tags', () => {
    expect(accepted(`m:1|d|#${tagList(33)}`).tags).toHaveLength(33);
  });

  it('keeps a line with exactly 100 tags, its limit', () => {
    expect(EXTENSION_MAX_TAGS).toBe(100);
    expect(accepted(`m:1|d|#${tagList(100)}`).tags).toHaveLength(100);
  });

  it('notes names that Datadog would rename', () => {
    expect(accepted('1st metric:1|d').notes.join()).toContain('naming rules');
    expect(accepted('jobs.queue_latency:1|d').notes).toEqual([]);
  });
});

describe('lines the extension drops', () => {
  it('drops a line with 101 tags', () => {
    expect(dropCode(`m:1|d|#${tagList(101)}`)).toBe('too_many_tags');
  });

  it('counts tags after removing adjacent duplicates', () => {
    expect(accepted(`m:1|d|#${tagList(100)},t99:v`).tags).toHaveLength(100);
  });

  it('drops a line when any of its |# sections has more than 100 tags, even if a later one is short', () => {
    expect(dropCode(`m:1|d|#${tagList(101)}|#a:b`)).toBe('too_many_tags');
  });

  it('drops a line with a malformed timestamp', () => {
    expect(dropCode('m:1|d|Tabc')).toBe('invalid_timestamp');
  });

  it('drops a line with an empty timestamp', () => {
    expect(dropCode('m:1|d|T')).toBe('invalid_timestamp');
  });

  it('drops a line with a malformed sample rate', () => {
    expect(dropCode('m:1|d|@1.0.0')).toBe('invalid_sample_rate');
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

  it('drops a line ending in a carriage return (the extension splits on \\n only, so the type is "d\\r")', () => {
    expect(dropCode('m:1|d\r')).toBe('invalid_type');
  });

  it('checks the value before the type, as the extension does', () => {
    expect(dropCode('m:abc|h')).toBe('invalid_value');
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

  it('drops the whole datagram when it is not valid UTF-8', () => {
    const result = parseDatagram(Buffer.concat([Buffer.from('a:1|d\nb:2|d\n'), Buffer.from([0xff, 0xfe])]));
    expect(result.metrics).toEqual([]);
    expect(result.rejected.map((line) => line.code)).toEqual(['invalid_utf8', 'invalid_utf8', 'invalid_utf8']);
  });

  it('drops the whole datagram when the 8,192-byte cut splits a UTF-8 character', () => {
    const prefix = `m:1|d|#k:${'v'.repeat(EXTENSION_BUFFER_BYTES - 10)}`;
    const datagram = Buffer.from(`${prefix}é tail`);
    expect(datagram.length).toBeGreaterThan(EXTENSION_BUFFER_BYTES);
    expect(datagram[EXTENSION_BUFFER_BYTES - 1]).toBe(0xc3);
    const result = parseDatagram(datagram);
    expect(result.metrics).toEqual([]);
    expect(result.rejected[0]?.code).toBe('invalid_utf8');
  });
});
