/**
 * The metric delivery benchmark's sending process (started by test/bench/delivery.ts). The same worker
 * assembly runs with up to three metrics emitters, each sending to its own listener process (the emitters
 * named in BENCH_PORTS, JSON `{id: port}`), interleaved in rounds so each sees the same machine:
 * - `worker`: functions/runtime/metrics.ts (lines built once per tag set, datagrams <= 8,192 bytes);
 * - `hot-shots-8192`: hot-shots' distribution() with maxBufferSize 8,192 (metrics.ts before this benchmark);
 * - `hot-shots-0`: hot-shots' default maxBufferSize 0, one datagram per metric (the baseline).
 *
 * With a rate, invocations are paced to about that many per second (the gap a real sandbox has between
 * invocations, for its runtime API round trips): in groups of rate/100, each group starting at least
 * 10 ms after the previous one (timers are too coarse for 1 ms; no catching up in bursts after a late
 * start). Without a rate they run back to back. The variants' order changes every round.
 *
 * Usage: delivery-child.ts <invocationsPerVariant> <rounds> [invocationsPerSecond]
 */
import type { JobMetrics } from '../../functions/runtime/metrics.ts';
import { benchJob, findBenchJob, lambdaContext, LINES_PER_INVOCATION, sqsEvent } from './fixtures.ts';
import { emitResult } from './result-file.ts';
import { shuffled } from './stats.ts';
import { assembledWorker, hotShotsMetrics, projectMetrics, stubSqs } from './workers.ts';

/** What one variant sent. */
export interface DeliverySent {
  readonly id: string;
  readonly invocations: number;
  readonly linesSent: number;
  readonly socketErrors: number;
  readonly failedRecords: number;
  readonly elapsedMs: number;
}

/** The child's result. */
export interface DeliveryResult {
  readonly type: 'result';
  readonly variants: DeliverySent[];
}

const [invocationsText = '600', roundsText = '4', rateText = '0'] = process.argv.slice(2);
const invocations = Number(invocationsText);
const rounds = Number(roundsText);
const rate = Number(rateText);
const PACING_WINDOW_MS = 10;
const groupSize = rate > 0 ? Math.max(1, Math.round((rate * PACING_WINDOW_MS) / 1000)) : 0;
const ports = JSON.parse(process.env.BENCH_PORTS ?? '{}') as Record<string, number>;

const factories: Record<string, (port: number) => JobMetrics> = {
  worker: (port) => projectMetrics('127.0.0.1', port),
  'hot-shots-8192': (port) => hotShotsMetrics({ host: '127.0.0.1', port, maxBufferSize: 8192 }),
  'hot-shots-0': (port) => hotShotsMetrics({ host: '127.0.0.1', port, maxBufferSize: 0 }),
};
const emitters = Object.entries(ports).map(([id, port]) => {
  const factory = factories[id];
  if (factory === undefined) throw new Error(`unknown emitter ${id}`);
  return { id, metrics: factory(port) };
});
const variants = emitters.map(({ id, metrics }) => ({
  id,
  metrics,
  handler: assembledWorker(metrics, { findJob: findBenchJob, sqs: stubSqs() }),
  invocations: 0,
  failedRecords: 0,
  elapsedMs: 0,
}));

const event = sqsEvent(benchJob.type);
for (let round = 0; round < rounds; round++) {
  const share = Math.floor(invocations / rounds) + (round < invocations % rounds ? 1 : 0);
  for (const variant of shuffled(variants)) {
    const started = performance.now();
    let groupStarted = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < share; i++) {
      if (groupSize > 0 && i % groupSize === 0) {
        const wait = groupStarted + PACING_WINDOW_MS - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        groupStarted = performance.now();
      }
      const response = await variant.handler(event, lambdaContext);
      variant.failedRecords += response.batchItemFailures.length;
      variant.invocations += 1;
    }
    variant.elapsedMs += performance.now() - started;
  }
}

const result: DeliveryResult = {
  type: 'result',
  variants: variants.map((v) => ({
    id: v.id,
    invocations: v.invocations,
    linesSent: v.invocations * LINES_PER_INVOCATION,
    socketErrors: v.metrics.errors,
    failedRecords: v.failedRecords,
    elapsedMs: v.elapsedMs,
  })),
};
emitResult(result);
for (const variant of variants) await variant.metrics.close();
process.exit(0);
