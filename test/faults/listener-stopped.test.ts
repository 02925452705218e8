/**
 * Fault: the DogStatsD listener (the Datadog extension's stand-in) stops in the middle of the run and comes back
 * later on the same port (issue 13). A seeded plan of 1,500 standard-queue jobs (retries, permanent failures,
 * timeouts, Retry-After, duplicates) runs on the chaos stack; the listener is closed once a quarter of the records
 * are finished and a new one is started on its port at three quarters. Meanwhile every sandbox's metrics client
 * keeps sending into a closed UDP port: jobs must not notice (every job ends as the plan says), nothing may grow (the
 * sandboxes' heap and the process's open descriptors, sampled from the sandbox pools through the outage), socket errors
 * go to hot-shots' errorHandler (counted; a warning on the 1st and every 100th), and the restarted listener receives
 * `jobs.processed` for every invocation that began after it was back. Prints its accounting.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDogStatsdListener, type DogStatsdListener } from '../../functions/local/dogstatsd-listener.ts';
import { METRIC, METRICS_WARNING, TAG } from '../../functions/runtime/metric-names.ts';
import { deadByReason, planMismatches, focusedPlan, startFocusedRun, type FocusedResult, type FocusedRun } from './focused-run.ts';
import { renderTable } from './table.ts';

const plan = focusedPlan(20_261_207, 1500);
const messages = plan.standardSendOrder.length;
/** The listener stops after this many finished records, and is back after this many. */
const STOP_AFTER = Math.round(messages / 4);
const RESTART_AFTER = Math.round((messages * 3) / 4);
const SAMPLE_EVERY_MS = 250;
/** Open descriptors the process may gain through the outage (pollers' and SDK sockets come and go); a leak per job or per invocation is hundreds. */
const FD_SLACK = 16;
/**
 * Heap floor a sandbox may gain through the outage: the samples are not taken after a full collection (the pool
 * cannot force one in a sandbox), so the old generation's own growth between mark-compacts shows as several MB.
 */
const HEAP_SLACK_BYTES = 16 * 1024 * 1024;

/** One sample of the sandboxes and the process during the outage. */
interface Sample {
  readonly at: number;
  readonly openFds: number;
  /** Heap in use per sandbox id. */
  readonly heap: ReadonlyMap<string, number>;
}

let run: FocusedRun;
let result: FocusedResult;
let restarted: DogStatsdListener | undefined;
let stoppedAt = 0;
let restartedAt = 0;
const samples: Sample[] = [];
const reportedAt = new Map<string, number>();

async function sample(): Promise<Sample> {
  const pools = await Promise.all(run.env.workers.map((worker) => worker.snapshot()));
  const heap = new Map(
    pools.flatMap((pool) => pool.sandboxes.map((sandbox): [string, number] => [sandbox.id, sandbox.heapUsedBytes ?? 0])),
  );
  return { at: Date.now(), openFds: pools[0]?.openFds ?? -1, heap };
}

const listenerBack = (): boolean => restartedAt !== 0;

/** Samples until the listener is back. */
async function sampleOutage(): Promise<void> {
  while (!listenerBack()) {
    samples.push(await sample());
    await sleep(SAMPLE_EVERY_MS);
  }
  samples.push(await sample());
}

let outage: Promise<void> | undefined;
let restarting: Promise<void> | undefined;
function injectOutage(finished: number): void {
  if (stoppedAt === 0 && finished >= STOP_AFTER) {
    stoppedAt = Date.now();
    outage = run.env.listener.close().then(sampleOutage);
  } else if (stoppedAt !== 0 && restarting === undefined && finished >= RESTART_AFTER) {
    restarting = startDogStatsdListener({
      port: run.env.listener.port,
      onWarning: (warning) => run.unexpectedLogs.push(JSON.stringify(warning)),
    }).then((listener) => {
      restarted = listener;
      restartedAt = Date.now();
    });
  }
}

const metricWarnings = (): number => run.logs.filter((log) => log.message?.startsWith(METRICS_WARNING.sendFailed) === true).length;

beforeAll(async () => {
  run = await startFocusedRun({
    name: 'listener-stopped',
    plan,
    onInvocation: (report, finished) => {
      reportedAt.set(report.requestId, Date.now());
      injectOutage(finished);
    },
    alsoExpected: (log) => log.message?.startsWith(METRICS_WARNING.sendFailed) === true,
  });
  result = await run.finish();
  await restarting;
  await outage;
  const after = run.reports.filter((report) => (reportedAt.get(report.requestId) ?? 0) - report.durationMs > restartedAt);
  await restarted?.waitFor(METRIC.processed, recordsOf(after), { timeoutMs: 10_000 }).catch(() => undefined);
  console.log(accounting());
}, 600_000);

afterAll(async () => {
  await restarted?.close();
  await run?.stop();
});

const recordsOf = (reports: typeof run.reports): number => reports.reduce((sum, report) => sum + report.messageIds.length, 0);
const invocationsAfterRestart = () =>
  run.reports.filter((report) => (reportedAt.get(report.requestId) ?? 0) - report.durationMs > restartedAt);
const invocationsInOutage = () =>
  run.reports.filter((report) => {
    const at = reportedAt.get(report.requestId) ?? 0;
    return at - report.durationMs > stoppedAt && at < restartedAt;
  });

/** The least heap of sandbox `id` among `of`. */
function floorOf(of: readonly Sample[], id: string): number {
  return Math.min(...of.map((s) => s.heap.get(id) ?? 0));
}

/**
 * Per sandbox alive through the whole outage: its heap's floor (the least sample, i.e. after a collection) in the
 * first and in the second half of the outage, and the most seen. A leak raises the floor; garbage only the peaks.
 */
function heapThroughOutage(): { id: string; firstFloor: number; lastFloor: number; max: number }[] {
  const half = Math.floor(samples.length / 2);
  const head = samples.slice(0, half);
  const tail = samples.slice(half);
  const ids = [...(samples[0]?.heap.keys() ?? [])].filter((id) => samples.every((s) => s.heap.has(id)));
  return ids.map((id) => ({
    id,
    firstFloor: floorOf(head, id),
    lastFloor: floorOf(tail, id),
    max: Math.max(...samples.map((s) => s.heap.get(id) ?? 0)),
  }));
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

function accounting(): string {
  const records = recordsOf(run.reports);
  const first = run.env.listener.query(METRIC.processed)?.count ?? 0;
  const second = restarted?.query(METRIC.processed)?.count ?? 0;
  const fds = samples.map((s) => s.openFds);
  const heap = heapThroughOutage();
  return renderTable(`Fault: DogStatsD listener stopped mid-run, seed ${plan.options.seed}`, [
    ['jobs planned / messages sent', `${plan.jobs.length} / ${result.sent}`],
    ['jobs not ending as planned', planMismatches(plan, result).length],
    ['dead-lettered', deadByReason(result)],
    ['invocations (during the outage)', `${run.reports.length} (${invocationsInOutage().length})`],
    ['listener down', `${((restartedAt - stoppedAt) / 1000).toFixed(1)} s, records ${STOP_AFTER}-${RESTART_AFTER}`],
    ['jobs.processed: before / after / lost (records)', `${first} / ${second} / ${records - first - second} (${records})`],
    ['  of invocations begun after the restart', `${recordsOf(invocationsAfterRestart())} records`],
    ['metrics send-failure warnings logged', metricWarnings()],
    ['samples through the outage', samples.length],
    ['open fds first / max / last', `${fds[0]} / ${Math.max(...fds)} / ${fds.at(-1)}`],
    ...heap.map((h): [string, string] => [
      `heap ${h.id.replace(/^.*-/, '')}: floor 1st half / 2nd half, max`,
      `${mb(h.firstFloor)} / ${mb(h.lastFloor)}, ${mb(h.max)}`,
    ]),
    ['wall time, first send to drained', `${(result.wallMs / 1000).toFixed(1)} s`],
  ]);
}

describe('fault: the DogStatsD listener stops in the middle of the run', () => {
  it('stops the listener after a quarter of the records and restarts it at three quarters, with invocations in between', () => {
    expect(stoppedAt).toBeGreaterThan(0);
    expect(restartedAt).toBeGreaterThan(stoppedAt);
    expect(invocationsInOutage().length).toBeGreaterThan(10);
  });

  it('ends every invocation by itself and logs nothing unexpected', () => {
    expect(run.reports.filter((report) => report.status !== 'success' && report.status !== 'partial').map((r) => r.error)).toEqual([]);
    expect(run.unexpectedLogs).toEqual([]);
  });

  it('ends every job as the plan says: one side effect, or one dead letter with its reason', () => {
    expect(result.sent).toBe(messages);
    expect(planMismatches(plan, result)).toEqual([]);
    expect(result.unplannedDeadLetters).toEqual([]);
  });

  it('keeps the open descriptors and every sandbox heap flat while metrics go to a closed port', () => {
    expect(samples.length).toBeGreaterThan(8);
    const fds = samples.map((s) => s.openFds);
    expect(Math.max(...fds)).toBeLessThanOrEqual((fds[0] ?? 0) + FD_SLACK);
    const heap = heapThroughOutage();
    expect(heap.length).toBeGreaterThan(0);
    expect(heap.filter((h) => h.lastFloor - h.firstFloor > HEAP_SLACK_BYTES)).toEqual([]);
  });

  it('warns about failed metric sends at most on the 1st and every 100th error per sandbox, as the metrics client bounds it', () => {
    const sandboxes = new Set(run.reports.map((report) => report.sandboxId)).size;
    // Each record sends 3 lines, each invocation 3 runtime lines: at most one error per line.
    const lines = 3 * recordsOf(run.reports) + 3 * run.reports.length;
    expect(metricWarnings()).toBeLessThanOrEqual(sandboxes + Math.floor(lines / 100));
  });

  it('reports jobs.processed to the restarted listener for every record of an invocation begun after it was back', () => {
    const after = recordsOf(invocationsAfterRestart());
    expect(after).toBeGreaterThan(0);
    expect(restarted?.query(METRIC.processed)?.count ?? 0).toBeGreaterThanOrEqual(after);
    expect(restarted?.countBy(METRIC.processed, TAG.outcome).get('success') ?? 0).toBeGreaterThan(0);
  });
});
