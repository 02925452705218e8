/**
 * Benchmark 2, overhead per record: the full worker against the raw loop, middy + sqs-partial-batch-failure
 * and Powertools, interleaved in one process (test/bench/overhead-child.ts), metrics to a listener process.
 * Target: the worker's own cost, metrics included, stays under Lambda's 1 ms billing unit per 10-record
 * invocation (the job itself is a no-op, so all of the worker's time is its own).
 */
import { runChild } from './child.ts';
import { BATCH_SIZE, workerEnv } from './fixtures.ts';
import { startListener } from './listener-client.ts';
import type { OverheadResult } from './overhead-child.ts';
import { int, num, ratio, us, type Bench, type BenchReport } from './report.ts';
import { median, range } from './stats.ts';

const LABELS: Readonly<Record<string, string>> = {
  raw: 'raw async loop over the batch (JSON.parse, await the job)',
  'middy-partial': 'middy + @middy/sqs-partial-batch-failure',
  powertools: 'Powertools BatchProcessor + processPartialResponse',
  'powertools-zod': 'the same + zod/mini parse (envelope and payload)',
  'powertools-parser': 'Powertools batch parser integration (innerSchema, zod)',
  'worker-no-metrics': 'worker, metrics switched off (routing, validation, deadlines, partial batch response)',
  'worker-hot-shots': "worker, metrics through hot-shots' own buffered client (baseline emitter, written from its README)",
  worker: 'full worker: the above + metrics.ts (hot-shots distribution(), maxBufferSize 8,192) + flush per invocation',
};

/** Lambda's billing unit: the worker's own cost per 10-record invocation must stay under it. */
const TARGET_MS_PER_INVOCATION = 1;

/** Milliseconds per 10-record invocation from nanoseconds per record. */
const msPerInvocation = (nsPerRecord: number | undefined): number => ((nsPerRecord ?? Number.NaN) * BATCH_SIZE) / 1e6;
const ms = (value: number): string => `${num(value)} ms`;

export const overhead: Bench = async ({ quick, log }): Promise<BenchReport> => {
  const rounds = quick ? 5 : 30;
  const perRound = quick ? 100 : 500;
  log(`overhead: ${rounds} rounds x ${perRound} invocations x 10 records per variant`);
  const listener = await startListener();
  let result: OverheadResult | undefined;
  let received = 0;
  try {
    const outcome = await runChild<OverheadResult>('overhead-child.ts', {
      args: [String(rounds), String(perRound)],
      env: workerEnv(listener.port),
      timeoutMs: quick ? 120_000 : 900_000,
    });
    result = outcome.lines.find((line) => line.type === 'result');
    if (result === undefined)
      throw new Error(`the overhead process wrote no result (exit ${outcome.exitCode}): ${outcome.stderrTail.join('\n')}`);
    received = (await listener.settle()).lines;
  } finally {
    await listener.stop();
  }

  const rawVariant = result.variants.find((v) => v.id === 'raw');
  const raw = median(rawVariant?.nsPerRecord ?? []);
  const rawCpu = median(rawVariant?.cpuNsPerRecord ?? []);
  const rows = result.variants.map((variant) => {
    const mid = median(variant.nsPerRecord);
    const cpu = median(variant.cpuNsPerRecord);
    const [low, high] = range(variant.nsPerRecord);
    return {
      id: variant.id,
      mid,
      cpu,
      cells: [
        LABELS[variant.id] ?? variant.id,
        us(mid),
        `${num(low / 1000)}-${num(high / 1000)} us`,
        ratio(mid / raw),
        us(cpu),
        ratio(cpu / rawCpu),
        int(variant.failures),
      ],
    };
  });
  const worker = rows.find((row) => row.id === 'worker');
  const hotShots = rows.find((row) => row.id === 'worker-hot-shots');
  const noMetrics = rows.find((row) => row.id === 'worker-no-metrics');
  const workerMs = msPerInvocation(worker?.mid);
  const workerCpuMs = msPerInvocation(worker?.cpu);

  return {
    name: 'overhead',
    title: 'Overhead per record (10-record batches)',
    method:
      `${rounds} rounds x ${int(perRound)} invocations of a 10-record batch per variant, interleaved in one process in a new random order each round ` +
      '(after a warm-up); every variant runs the same no-op job on the same send-email payload. Median of the rounds, min-max, and ratio to the raw loop; ' +
      "wall time, and the process's CPU time (user + system, which other processes on the machine disturb less).",
    tables: [
      {
        columns: [
          'variant',
          'wall per record (median)',
          'min-max',
          'x raw loop',
          'CPU per record (median)',
          'CPU x raw loop',
          'failed records',
        ],
        rows: rows.map((row) => row.cells),
      },
    ],
    targets: [
      {
        what: "full worker's own cost incl. metrics, per 10-record invocation (wall)",
        target: `<= ${TARGET_MS_PER_INVOCATION} ms`,
        measured: `${ms(workerMs)} (raw loop ${ms(msPerInvocation(raw))}, no metrics ${ms(msPerInvocation(noMetrics?.mid))}, hot-shots baseline ${ms(msPerInvocation(hotShots?.mid))})`,
        met: workerMs <= TARGET_MS_PER_INVOCATION,
      },
      {
        what: "full worker's own cost incl. metrics, per 10-record invocation (CPU)",
        target: `<= ${TARGET_MS_PER_INVOCATION} ms`,
        measured: `${ms(workerCpuMs)} (raw loop ${ms(msPerInvocation(rawCpu))}, no metrics ${ms(msPerInvocation(noMetrics?.cpu))}, hot-shots baseline ${ms(msPerInvocation(hotShots?.cpu))})`,
        met: workerCpuMs <= TARGET_MS_PER_INVOCATION,
      },
    ],
    notes: [
      "The worker rows are functions/handlers/worker.ts's assembly (createBatchProcessor + flush-metrics middleware) around the benchmark-only no-op job, so the job costs nothing and what is left is the worker's own overhead; metrics go to a DogStatsD listener in a separate process.",
      ...(worker && hotShots && noMetrics
        ? [
            `Metrics cost ${us(worker.mid - noMetrics.mid)} per record through metrics.ts, ${us(hotShots.mid - noMetrics.mid)} through the hot-shots baseline emitter (3 lines per record + 3 runtime lines and one flush per invocation).`,
          ]
        : []),
      `The listener received ${int(received)} metric lines; the clients counted ${int(Object.values(result.metricErrors).reduce((a, b) => a + b, 0))} socket errors.`,
    ],
    data: result,
  };
};
