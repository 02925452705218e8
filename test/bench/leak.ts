/**
 * Benchmark 1, the leak: the real worker vs the seed's pattern vs a client per invocation, each in its own
 * process under Lambda's 1,024-descriptor limit, sending to a DogStatsD listener in yet another process.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runChild } from './child.ts';
import { workerEnv } from './fixtures.ts';
import type { LeakDone, LeakSample } from './leak-child.ts';
import { startListener } from './listener-client.ts';
import { bytes, int, num, percent, signed, type Bench, type BenchReport } from './report.ts';
import { slope } from './stats.ts';

/** Lambda's open-file limit. */
const LAMBDA_FD_LIMIT = 1024;
/** Heap limit for the seed way: the default queue's Lambda memory size (infra/queue-settings.ts). */
const SEED_HEAP_LIMIT_MB = 512;

interface Variant {
  readonly id: 'worker' | 'worker-module' | 'per-invocation' | 'seed';
  readonly label: string;
  /** Invocations in a full and in a quick run. */
  readonly invocations: { readonly full: number; readonly quick: number };
  readonly maxOldSpaceMb?: number;
}

const VARIANTS: readonly Variant[] = [
  {
    id: 'worker',
    label: 'worker: one module-scope client, flushed per invocation (worker.ts assembly, no-op job)',
    invocations: { full: 100_000, quick: 2_000 },
  },
  {
    id: 'worker-module',
    label: 'the real functions/handlers/worker.ts, send-email job (.eml files)',
    invocations: { full: 20_000, quick: 1_000 },
  },
  {
    // hot-shots' close() waits at least its closingFlushInterval (50 ms) for stragglers: fewer invocations.
    id: 'per-invocation',
    label: 'a client per invocation, close() awaited at its end (no-op job)',
    invocations: { full: 500, quick: 40 },
  },
  {
    id: 'seed',
    label: 'seed way: a client per record, never closed (no-op job)',
    invocations: { full: 100_000, quick: 1_000 },
    maxOldSpaceMb: SEED_HEAP_LIMIT_MB,
  },
];

/** Result of one variant. */
interface VariantResult {
  readonly invocations: number;
  readonly sampleEvery: number;
  readonly kernelDrops: number;
  readonly id: Variant['id'];
  readonly label: string;
  readonly samples: LeakSample[];
  readonly done: LeakDone | undefined;
  readonly exit: string;
  readonly heapSlope: number;
  readonly rssSlope: number;
  readonly fdSlope: number;
  readonly linesReceived: number;
  readonly linesRejected: number;
  readonly datagrams: number;
  readonly stderrLines: number;
  readonly wallMs: number;
}

/** Fits on the samples after the first `skip` of the run (10 %: JIT and caches warm up there). */
function fitted(samples: readonly LeakSample[], pick: (s: LeakSample) => number, skip = 0.1): number {
  if (samples.length === 0) return Number.NaN;
  const last = samples.at(-1)?.invocation ?? 0;
  let used = samples.filter((s) => s.invocation >= last * skip);
  if (used.length < 2) used = [...samples];
  return slope(
    used.map((s) => s.invocation),
    used.map(pick),
  );
}

export const leak: Bench = async ({ quick, log }): Promise<BenchReport> => {
  const outboxRoot = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const results: VariantResult[] = [];

  for (const variant of VARIANTS) {
    const invocations = quick ? variant.invocations.quick : variant.invocations.full;
    // About 100 samples in a full run, 20 in a quick one.
    const sampleEvery = Math.max(1, Math.round(invocations / (quick ? 20 : 100)));
    log(`leak: ${variant.id}, ${int(invocations)} invocations`);
    const listener = await startListener();
    const outbox = mkdtempSync(path.join(outboxRoot, 'bench-outbox-'));
    try {
      const outcome = await runChild<LeakSample | LeakDone>('leak-child.ts', {
        args: [variant.id, String(invocations), String(sampleEvery)],
        env: { ...workerEnv(listener.port, outbox), BENCH_FD_LIMIT: String(LAMBDA_FD_LIMIT) },
        exposeGc: true,
        fdLimit: LAMBDA_FD_LIMIT,
        ...(variant.maxOldSpaceMb === undefined ? {} : { maxOldSpaceMb: variant.maxOldSpaceMb }),
        timeoutMs: quick ? 120_000 : 900_000,
      });
      const stats = await listener.settle();
      const samples = outcome.lines.filter((line): line is LeakSample => line.type === 'sample');
      const done = outcome.lines.find((line): line is LeakDone => line.type === 'done');
      const crash = outcome.stderrTail.find((line) => /heap out of memory|FATAL ERROR|Error:/.test(line));
      const exit =
        done !== undefined
          ? 'completed'
          : `died after ${int(samples.at(-1)?.invocation ?? 0)} invocations (${outcome.signal ?? `exit ${outcome.exitCode}`}${crash ? `: ${crash.trim().slice(0, 120)}` : ''})`;
      results.push({
        invocations,
        sampleEvery,
        kernelDrops: stats.kernelDrops,
        id: variant.id,
        label: variant.label,
        samples,
        done,
        exit,
        heapSlope: fitted(samples, (s) => s.heapUsed),
        // RSS grows in steps (V8 and malloc reserving memory) before it levels off: fit the second half.
        rssSlope: fitted(samples, (s) => s.rss, 0.5),
        // Descriptors: fitted below the limit only (once there, the count cannot grow).
        fdSlope: fitted(
          samples.filter((s) => s.fds < LAMBDA_FD_LIMIT - 1),
          (s) => s.fds,
        ),
        linesReceived: stats.accepted,
        linesRejected: Object.values(stats.rejected).reduce((a, b) => a + b, 0),
        datagrams: stats.datagrams,
        stderrLines: outcome.stderrLines,
        wallMs: outcome.wallMs,
      });
    } finally {
      await listener.stop();
      rmSync(outbox, { recursive: true, force: true });
    }
  }

  const rows = results.map((r) => {
    const first = r.samples[0];
    const last = r.samples.at(-1);
    const ran = r.done?.invocations ?? last?.invocation ?? 0;
    const sent = r.done?.metricsSent ?? last?.metricsSent;
    return [
      r.label,
      int(ran),
      first && last ? `${bytes(first.heapUsed)} -> ${bytes(last.heapUsed)}` : 'n/a',
      signed(r.heapSlope, 'B'),
      first && last ? `${bytes(first.rss)} -> ${bytes(last.rss)}` : 'n/a',
      signed(r.rssSlope, 'B'),
      first && last
        ? `${first.fds} -> ${last.fds}${r.done?.fdLimitReachedAt ? ` (limit at invocation ${int(r.done.fdLimitReachedAt)})` : ''}`
        : 'n/a',
      r.done?.fdLimitReachedAt ? signed((LAMBDA_FD_LIMIT - (first?.fds ?? 0)) / r.done.fdLimitReachedAt, '') : signed(r.fdSlope, ''),
      sent === undefined
        ? `${int(r.linesReceived)} received`
        : `${int(r.linesReceived)} / ${r.done ? '' : '>= '}${int(sent)} (${r.done ? '' : '>= '}${percent(sent === 0 ? 1 : Math.max(0, 1 - r.linesReceived / sent))} lost)`,
      r.kernelDrops < 0 ? 'n/a' : int(r.kernelDrops),
      r.done
        ? `${int(r.done.failedRecords)}${r.done.firstFailureAt === null ? '' : ` (from invocation ${int(r.done.firstFailureAt)})`}`
        : `${int(last?.failedRecords ?? 0)}`,
      r.exit,
      `${num(r.wallMs / 1000)} s`,
    ];
  });

  const worker = results.find((r) => r.id === 'worker');
  const seed = results.find((r) => r.id === 'seed');
  const workerFds = worker?.samples.map((s) => s.fds) ?? [];
  const fdsConstant = workerFds.length > 1 && Math.max(...workerFds) === Math.min(...workerFds);

  return {
    name: 'leak',
    title: 'Leak: heap, RSS and descriptors over warm invocations',
    method:
      'Warm invocations of 10-record batches, each variant in its own process ' +
      `(Node.js 24, --expose-gc, ulimit -n ${LAMBDA_FD_LIMIT}), sampled after two full GCs about 100 times per run (20 in --quick); ` +
      'slopes are least-squares fits over the samples after the first 10 % of the run (RSS: the second half, as it grows in steps before it levels off). Metrics go to a DogStatsD listener in a separate process ' +
      "(default receive buffer) that checks every line with the Lambda extension's rules.",
    tables: [
      {
        columns: [
          'variant',
          'invocations',
          'heap after GC',
          'heap / invocation',
          'RSS after GC',
          'RSS / invocation (second half)',
          'open fds',
          'fds / invocation',
          'metric lines received / sent',
          'dropped by the kernel (datagrams)',
          'failed records',
          'end',
          'wall',
        ],
        rows,
      },
    ],
    targets: [
      {
        what: 'worker heap slope',
        target: '< 1 B per invocation',
        measured: signed(worker?.heapSlope ?? Number.NaN, 'B'),
        met: Math.abs(worker?.heapSlope ?? Number.POSITIVE_INFINITY) < 1,
      },
      {
        what: 'worker open fds',
        target: 'constant',
        measured: fdsConstant ? `constant (${workerFds.at(-1)})` : `${Math.min(...workerFds)} to ${Math.max(...workerFds)}`,
        met: fdsConstant,
      },
    ],
    notes: [
      `The seed way runs with a ${SEED_HEAP_LIMIT_MB} MB heap limit (--max-old-space-size, the default queue's Lambda memory size); it may die before the end.`,
      "The no-op variants run worker.ts's assembly (createBatchProcessor + flush-metrics middleware, the benchmark-only job with the send-email payload schema) and differ only in the metrics client's lifecycle; the worker-module row imports functions/handlers/worker.ts itself, so its job writes .eml files (to tmpfs).",
      'Descriptors are counted from /proc/self/fd (hot-shots unrefs its socket, so process.getActiveResourcesInfo() does not see it); "fds / invocation" is fitted below the limit, or (limit - first) / invocations to reach it.',
      ...(seed?.done || seed?.samples.length
        ? [
            `Seed way: the lost metrics are lost silently: hot-shots reports the failed sends nowhere (its default socket error listener logs only under NODE_DEBUG=hot-shots) and the jobs still succeed; the process wrote ${int(seed.stderrLines)} lines to stderr in all (the crash report, when it died).`,
          ]
        : []),
      'Lines lost by the no-op worker rows were dropped by the kernel at the listener (see the next column): those variants run thousands of invocations per second back to back; the delivery benchmark below measures delivery at a realistic rate.',
      'In a quick run slopes are noisy (JIT and caches still warming up); the full run is the figure to quote.',
    ],
    data: results.map(({ samples, ...rest }) => ({ ...rest, samples })),
  };
};
