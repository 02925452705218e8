import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatagram, type ParsedMetric } from '../../functions/local/dogstatsd-parser.ts';
import { METRIC, TAG } from '../../functions/runtime/metric-names.ts';
import { MAX_DATAGRAM_BYTES } from '../../functions/runtime/metric-limits.ts';
import { job, lambdaContext, sqsEvent, sqsRecord } from '../support/lambda.ts';
import { startUdpCollector, type UdpCollector } from '../support/udp-collector.ts';
import { loadWorker, workerEnv } from '../support/worker-module.ts';

const INVOCATIONS = 1000;
const RECORDS = 3;
// 3 metrics per record and 3 runtime metrics per invocation.
const METRICS_PER_INVOCATION = RECORDS * 3 + 3;

/** Metric lines received so far. */
function linesIn(collector: UdpCollector): number {
  return collector.datagrams.reduce((n, d) => n + d.toString().split('\n').length, 0);
}

describe('metrics on a real UDP socket over 1,000 warm invocations', () => {
  let collector: UdpCollector;
  const parsed: ParsedMetric[] = [];
  const rejected: string[] = [];
  let truncated = 0;

  beforeAll(async () => {
    collector = await startUdpCollector();
    const worker = await loadWorker(
      workerEnv({ DD_AGENT_HOST: '127.0.0.1', DD_DOGSTATSD_PORT: String(collector.port), DD_SERVICE: 'jobs-test', DD_ENV: 'test' }),
    );
    for (let i = 0; i < INVOCATIONS; i++) {
      const records = Array.from({ length: RECORDS }, (_, r) =>
        sqsRecord(job('send-email', { to: 'someone@example.com', subject: 'hi', text: 'hello' }, { jobId: `job-${r}` })),
      );
      await worker.handler(sqsEvent(records), lambdaContext());
    }
    await collector.waitFor(() => linesIn(collector) >= INVOCATIONS * METRICS_PER_INVOCATION);
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

  it('flushes every invocation on its own: no datagram carries lines of two invocations', () => {
    // Without the flush at the end of each invocation, hot-shots would pack several invocations' lines into
    // one datagram of up to maxBufferSize (each invocation's 12 lines take about 1.5 KB).
    const linesPerDatagram = collector.datagrams.map((d) => d.toString().split('\n').length);
    expect(Math.max(...linesPerDatagram)).toBeLessThanOrEqual(METRICS_PER_INVOCATION);
  });
});
