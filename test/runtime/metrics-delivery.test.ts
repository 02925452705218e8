import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatagram, type ParsedMetric } from '../../functions/local/dogstatsd-parser.ts';
import { METRIC, TAG } from '../../functions/runtime/metric-names.ts';
import { MAX_DATAGRAM_BYTES } from '../../functions/runtime/metrics.ts';
import { job, lambdaContext, sqsEvent, sqsRecord } from '../support/lambda.ts';
import { startUdpCollector, type UdpCollector } from '../support/udp-collector.ts';
import { loadWorker, workerEnv } from '../support/worker-module.ts';

const INVOCATIONS = 1000;
const RECORDS = 3;
// 3 metrics per record and 3 runtime metrics per invocation.
const METRICS_PER_INVOCATION = RECORDS * 3 + 3;

describe('metrics on a real UDP socket over 1,000 warm invocations', () => {
  let collector: UdpCollector;
  let pendingAfterSettle = 0;
  const parsed: ParsedMetric[] = [];
  const rejected: string[] = [];
  let truncated = 0;

  beforeAll(async () => {
    collector = await startUdpCollector();
    const worker = await loadWorker(
      workerEnv({ DD_AGENT_HOST: '127.0.0.1', DD_DOGSTATSD_PORT: String(collector.port), DD_SERVICE: 'jobs-test', DD_ENV: 'test' }),
    );
    const client = worker.metrics.client as unknown as { bufferHolder: { buffer: string }; messagesInFlight: number };
    for (let i = 0; i < INVOCATIONS; i++) {
      const records = Array.from({ length: RECORDS }, (_, r) =>
        sqsRecord(job('send-email', { to: 'someone@example.com', subject: 'hi', text: 'hello' }, { jobId: `job-${r}` })),
      );
      await worker.handler(sqsEvent(records), lambdaContext());
      // Nothing left in our datagram, in hot-shots' buffer, or on its way to the socket.
      if (worker.metrics.bufferedBytes > 0 || client.bufferHolder.buffer.length > 0 || client.messagesInFlight > 0) pendingAfterSettle += 1;
    }
    await collector.waitFor(
      () => collector.datagrams.reduce((n, d) => n + d.toString().split('\n').length, 0) >= INVOCATIONS * METRICS_PER_INVOCATION,
    );
    for (const datagram of collector.datagrams) {
      const result = parseDatagram(datagram);
      parsed.push(...result.metrics);
      rejected.push(...result.rejected.map((r) => r.line));
      if (result.truncated) truncated += 1;
    }
    await worker.metrics.close();
  });
  afterAll(() => collector.close());

  it('receives every metric the worker sends', () => {
    expect(parsed).toHaveLength(INVOCATIONS * METRICS_PER_INVOCATION);
    expect(parsed.filter((m) => m.name === METRIC.processed)).toHaveLength(INVOCATIONS * RECORDS);
  });

  it("has every line accepted under the Datadog Lambda extension's parsing rules", () => {
    expect(rejected).toEqual([]);
    expect(truncated).toBe(0);
  });

  it('sends only distributions', () => {
    expect(new Set(parsed.map((m) => m.kind))).toEqual(new Set(['distribution']));
  });

  it('keeps every datagram within what the extension reads', () => {
    expect(Math.max(...collector.datagrams.map((d) => d.length))).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
  });

  it('tags jobs.processed with job type, queue and outcome, plus the global service and env tags', () => {
    const processed = parsed.find((m) => m.name === METRIC.processed);
    expect(processed?.tags).toEqual(
      expect.arrayContaining([
        `${TAG.jobType}:send-email`,
        `${TAG.queue}:default`,
        `${TAG.outcome}:success`,
        'service:jobs-test',
        'env:test',
      ]),
    );
  });

  it('leaves nothing buffered when the handler promise settles', () => {
    expect(pendingAfterSettle).toBe(0);
  });
});
