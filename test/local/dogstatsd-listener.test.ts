/**
 * The local DogStatsD listener on a real UDP socket (127.0.0.1, ephemeral port): aggregates, loud reports of
 * what the Datadog extension would drop, and the worker's own metrics client arriving intact.
 */
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { startDogStatsdListener, type DogStatsdListener, type ListenerWarning } from '../../functions/local/dogstatsd-listener.ts';
import { PortInUseError } from '../../functions/local/local-server.ts';
import { METRIC, TAG } from '../../functions/runtime/metric-names.ts';
import { createMetrics } from '../../functions/runtime/metrics.ts';

const open: DogStatsdListener[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((listener) => listener.close()));
});

async function listen(onWarning?: (warning: ListenerWarning) => void): Promise<DogStatsdListener> {
  const listener = await startDogStatsdListener({ port: 0, onWarning: onWarning ?? (() => undefined) });
  open.push(listener);
  return listener;
}

async function send(port: number, datagram: string): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => socket.send(datagram, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
  socket.close();
}

describe('DogStatsD listener', () => {
  it('binds 127.0.0.1 only', async () => {
    const listener = await listen();
    expect(listener.host).toBe('127.0.0.1');
    expect(listener.port).toBeGreaterThan(0);
  });

  it('keeps count, p50 and p95 per name and tags', async () => {
    const listener = await listen();
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    await send(listener.port, values.map((value) => `jobs.duration:${value}|d|#queue:default`).join('\n'));
    await send(listener.port, 'jobs.duration:5000|d|#queue:webhooks');
    const aggregate = await listener.waitFor(METRIC.duration, 100, { where: { queue: 'default' }, timeoutMs: 5000 });
    expect(aggregate).toMatchObject({ count: 100, min: 1, max: 100, p50: 50, p95: 95, sum: 5050 });
    const all = await listener.waitFor(METRIC.duration, 101, { timeoutMs: 5000 });
    expect(all.max).toBe(5000);
    expect(listener.series()).toHaveLength(2);
  });

  it('counts a metric per value of one tag', async () => {
    const listener = await listen();
    await send(
      listener.port,
      ['success', 'success', 'retry', 'dead'].map((outcome) => `jobs.processed:1|d|#outcome:${outcome}`).join('\n'),
    );
    await listener.waitFor(METRIC.processed, 4, { timeoutMs: 5000 });
    expect(Object.fromEntries(listener.countBy(METRIC.processed, TAG.outcome))).toEqual({ success: 2, retry: 1, dead: 1 });
  });

  it('reports every line the extension would drop, and every metric that is not a distribution', async () => {
    const warnings: ListenerWarning[] = [];
    const listener = await listen((warning) => warnings.push(warning));
    await send(listener.port, 'ok:1|d\ntimer:3|ms\nbad:1|d|Tabc\nhits:1|c\nlevel:2|g');
    await listener.waitFor('level', 1, { timeoutMs: 5000 });
    expect(
      warnings.filter((warning) => warning.kind === 'dropped').map((warning) => warning.kind === 'dropped' && warning.rejected.code),
    ).toEqual(['unsupported_type', 'invalid_timestamp']);
    expect(
      warnings
        .filter((warning) => warning.kind === 'not_distribution')
        .map((warning) => warning.kind === 'not_distribution' && warning.metric.name),
    ).toEqual(['hits', 'level']);
    expect(listener.totals()).toMatchObject({ metrics: 3, dropped: 2, notDistribution: 2 });
    expect(listener.rejected().map((line) => line.line)).toEqual(['timer:3|ms', 'bad:1|d|Tabc']);
  });

  it("says by: 'extension' for exactly the lines production drops or changes, and by: 'project' for our own rules", async () => {
    const warnings: ListenerWarning[] = [];
    const listener = await listen((warning) => warnings.push(warning));
    await send(listener.port, 'lost:1|d|@1.0.0\nfirst:1:2|d\ncounter:1|c');
    await listener.waitFor('counter', 1, { timeoutMs: 5000 });
    expect(warnings.map((warning) => [warning.kind, warning.by])).toEqual([
      ['dropped', 'extension'],
      ['changed', 'extension'],
      ['not_distribution', 'project'],
    ]);
  });

  it("keeps a line with 33 tags, as the extension does, and flags it by: 'project' (the worker's cap is 32)", async () => {
    const warnings: ListenerWarning[] = [];
    const listener = await listen((warning) => warnings.push(warning));
    const tags = Array.from({ length: 33 }, (_, i) => `t${i}:v`).join(',');
    await send(listener.port, `wide:1|d|#${tags}`);
    const aggregate = await listener.waitFor('wide', 1, { timeoutMs: 5000 });
    expect(aggregate.tags).toHaveLength(33);
    expect(warnings).toMatchObject([{ kind: 'too_many_tags', by: 'project' }]);
    expect(listener.totals()).toMatchObject({ dropped: 0, overTagLimit: 1 });
  });

  it('says at start which extension layer and DogStatsD revision it follows', async () => {
    const listener = await listen();
    expect(listener.extension).toEqual({ layer: 99, revision: 'd0c7f44191445e20d309734675d5e8b91d2a5d51' });
    expect(listener.standsInFor).toBe('the Datadog Lambda extension layer 99 (DataDog/serverless-components@d0c7f44 crates/dogstatsd)');
  });

  it("receives the worker's metrics client output with nothing dropped", async () => {
    const listener = await listen();
    const metrics = createMetrics({ host: '127.0.0.1', port: listener.port, globalTags: { service: 'test', functionname: 'worker' } });
    try {
      for (let i = 0; i < 300; i += 1) {
        metrics.recordJob({ jobType: 'send-email', queue: 'default', outcome: 'success', durationMs: i, queueLatencyMs: 10 });
      }
      metrics.recordJob({
        jobType: 'send-email',
        queue: 'default',
        outcome: 'dead',
        reason: 'invalid_json',
        durationMs: 1,
        queueLatencyMs: 1,
      });
      metrics.recordRuntime();
      await metrics.flush(1000);
      await listener.waitFor(METRIC.processed, 301, { timeoutMs: 5000 });
      await listener.waitFor(METRIC.heapUsed, 1, { timeoutMs: 5000 });
    } finally {
      await metrics.close();
    }
    expect(listener.totals()).toMatchObject({ dropped: 0, notDistribution: 0, truncatedDatagrams: 0 });
    expect(listener.query(METRIC.processed, { outcome: 'dead', reason: 'invalid_json' })?.count).toBe(1);
  });

  it('cuts datagrams at the configured buffer size (DD_DOGSTATSD_BUFFER_SIZE=1024)', async () => {
    const warnings: ListenerWarning[] = [];
    const listener = await startDogStatsdListener({ port: 0, bufferBytes: 1024, onWarning: (warning) => warnings.push(warning) });
    open.push(listener);
    const lines = Array.from({ length: 40 }, (_, i) => `jobs.processed:1|d|#job_type:send-email,queue:default,n:${i}`);
    await send(listener.port, lines.join('\n'));
    for (let tries = 0; listener.totals().datagrams === 0 && tries < 500; tries += 1)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(listener.totals().truncatedDatagrams).toBe(1);
    expect(listener.totals().metrics).toBeLessThan(lines.length);
    expect(warnings.some((warning) => warning.kind === 'dropped' && warning.rejected.code === 'beyond_buffer')).toBe(true);
  });

  it('rejects waitFor with a clear message when the metrics do not arrive', async () => {
    const listener = await listen();
    await expect(listener.waitFor(METRIC.processed, 1, { timeoutMs: 50 })).rejects.toThrow(/waited 50 ms for 1 × jobs.processed, got 0/);
  });

  it('says which port is taken and which variable moves it', async () => {
    const first = await listen();
    const error = await startDogStatsdListener({ port: first.port }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PortInUseError);
    expect((error as Error).message).toBe(
      `The DogStatsD listener cannot listen on UDP 127.0.0.1:${first.port}: the port is already in use ` +
        '(another local environment, an ElasticMQ or a Datadog agent?). Stop it, or pick another port with LOCAL_DOGSTATSD_PORT=<port>.',
    );
  });

  it('refuses a port number out of range', async () => {
    await expect(startDogStatsdListener({ port: 70_000 })).rejects.toThrow(RangeError);
  });
});
