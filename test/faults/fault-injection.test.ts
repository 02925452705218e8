/**
 * The fault-injection run (issue 5): 5,000 jobs on the embedded local environment (fauxqs, dynalite, the
 * DogStatsD listener, the emulated SQS event sources running the chaos worker in worker-thread sandboxes),
 * synthesized from the real CDK app for the chaos job catalog (test/faults/chaos-stack.ts).
 *
 * A seeded plan (test/faults/plan.ts) decides per job: succeed, fail retryably a few times then succeed, fail
 * retryably more often than maxAttempts (-> DLQ `retries_exhausted`), fail permanently (-> DLQ
 * `permanent_error`), overrun the job timeout (-> JobTimeoutError, retried), ask for a later retry
 * (`Retry-After`), or be sent twice under the same job id (idempotent: one side effect). 500 of the jobs go
 * to a FIFO queue in 20 message groups with sequence numbers, some failing once. Every sandbox is reloaded
 * (a new cold sandbox) at seeded points of the run. The jobs journal every attempt and every side effect
 * (test/faults/journal.ts); the checks compare the journal, the dead-letter queues and the DogStatsD
 * listener with the plan. Prints the accounting table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEnvironment } from '../../functions/local/environment.ts';
import type { InvocationReport } from '../../functions/local/event-source.ts';
import { METRIC, TAG } from '../../functions/runtime/metric-names.ts';
import { CHAOS_ORDERED_QUEUE, CHAOS_RETRY, CHAOS_TASK_QUEUE, TIMEOUT_STEP_MS } from './chaos-jobs.ts';
import { CHAOS_VISIBILITY_TIMEOUT_MS, startChaosEnvironment, synthesizeChaosTemplate } from './chaos-stack.ts';
import { readJournal, type JournalLine } from './journal.ts';
import { holdLeases, type HeldLeases } from './held-leases.ts';
import { buildPlan, minimumGapSeconds, planHeldLeases, type PlannedJob } from './plan.ts';
import { drainDeadLetters, sendPaced, waitUntilDrained, type DeadLetter, type OutgoingMessage } from './queues.ts';
import { quantile, renderTable, type TableRow } from './table.ts';

const SEED = Number(process.env.FAULT_INJECTION_SEED ?? 20_261_129);
const plan = buildPlan({
  seed: SEED,
  standardJobs: 4500,
  groups: 20,
  jobsPerGroup: 25,
  reloads: 6,
  shares: {
    recovers: 0.06,
    exhausted: 0.01,
    permanent: 0.02,
    'timeout-recovers': 0.008,
    'timeout-exhausted': 0.001,
    'retry-after': 0.01,
    duplicate: 0.05,
  },
  orderedRecoverShare: 0.1,
  orderedPermanentShare: 0.02,
});
/** Issue 13: jobs whose lease another delivery holds for their first receives (FIFO heads: more than maxAttempts). */
const heldLeases = planHeldLeases(plan, { fifoHeads: 3, standard: 20 });
/** The producer: at most this many messages per second per queue, and at most this many visible on the standard queue. */
const SEND_RATE = 250;
const MAX_VISIBLE = 150;
/** Clock tolerance when comparing a gap with its minimum. */
const GAP_TOLERANCE_MS = 50;
const DRAIN_TIMEOUT_MS = 150_000;
/** Error log lines the worker writes by design (one per dead-lettered job). */
const EXPECTED_ERROR_LOGS = new Set(['job failed permanently', 'job failed its last attempt']);
/** The warnings the worker writes for every retried record (its handler failed; it did not run), and the error of a retry because the other copy holds the lease. */
const RETRY_LOG = 'job failed, will retry';
const NOT_STARTED_LOG = 'job not started, will retry';
const LEASE_HELD = 'the same job is running in another delivery';

/** The fields of a worker log line the run reads. */
interface WorkerLogLine {
  readonly message?: string;
  readonly jobId?: string;
  readonly messageId?: string;
  readonly receiveCount?: number;
  /** The job's attempt (failed runs + 1). */
  readonly attempt?: number;
  readonly error?: string;
}

let env: LocalEnvironment;
let dir: string;
let leases: HeldLeases | undefined;
const reports: InvocationReport[] = [];
const unexpectedLogs: string[] = [];
const retryLogs: WorkerLogLine[] = [];
/** SQS message id -> job id, from the send results. */
const jobOfMessage = new Map<string, string>();
const metricWarnings: string[] = [];
const reloads: { afterRecords: number; ms: number }[] = [];
const reloadErrors: string[] = [];
let journal: JournalLine[] = [];
const deadLetters = new Map<string, DeadLetter[]>();
const unplannedDeadLetters: DeadLetter[] = [];
let sent = 0;
let wallMs = 0;
let runMs = 0;

const jobsById = new Map(plan.jobs.map((job) => [job.jobId, job]));
const plannedMessages = plan.standardSendOrder.length + plan.orderedSendOrder.length;
const expectCompleted = plan.jobs.filter((job) => job.expected.kind === 'completed');
const expectDead = plan.jobs.filter((job) => job.expected.kind === 'dead');
const duplicates = plan.jobs.filter((job) => job.copies > 1);

function bodyOf(job: PlannedJob): string {
  return JSON.stringify({
    type: job.type,
    jobId: job.jobId,
    payload: { steps: job.steps, ...(job.group === undefined ? {} : { group: job.group, seq: job.seq }) },
  });
}

function linesOf(event: JournalLine['event']): JournalLine[] {
  return journal.filter((line) => line.event === event);
}

function countBy<T>(items: readonly T[], key: (item: T) => string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item) ?? 'undefined';
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** Handler attempts per message id, in attempt order. */
function attemptsByMessage(): Map<string, JournalLine[]> {
  const byMessage = new Map<string, JournalLine[]>();
  for (const line of linesOf('attempt')) {
    const list = byMessage.get(line.messageId ?? '') ?? [];
    list.push(line);
    byMessage.set(line.messageId ?? '', list);
  }
  for (const list of byMessage.values()) list.sort((a, b) => (a.attempt ?? 0) - (b.attempt ?? 0));
  return byMessage;
}

interface Gap {
  readonly jobId: string;
  readonly messageId: string;
  readonly from: number;
  readonly to: number;
  readonly gapMs: number;
  readonly minimumMs: number;
}

/** Every gap between two handler attempts of one message, with the least the policy allows. */
function retryGaps(): Gap[] {
  const gaps: Gap[] = [];
  for (const [messageId, attempts] of attemptsByMessage()) {
    const job = jobsById.get(attempts[0]?.jobId ?? '');
    if (!job) continue;
    const ran = new Set(attempts.map((line) => line.attempt));
    for (let i = 1; i < attempts.length; i += 1) {
      const from = attempts[i - 1] as JournalLine;
      const to = attempts[i] as JournalLine;
      gaps.push({
        jobId: job.jobId,
        messageId,
        from: from.attempt ?? 0,
        to: to.attempt ?? 0,
        gapMs: to.at - from.at,
        minimumMs: minimumGapSeconds(job.steps, from.attempt ?? 0, to.attempt ?? 0, (attempt) => ran.has(attempt)) * 1000,
      });
    }
  }
  return gaps;
}

/** Why each retried delivery was retried. */
interface RetryCauses {
  /** The job's handler failed (its step: retry, retry-after, timeout). */
  readonly inJob: number;
  /** The other copy of a duplicate job held the lease. */
  readonly leaseHeldByCopy: number;
  /** The plan held the lease elsewhere (issue 13). */
  readonly leaseHeldByPlan: number;
  /** Retries that came before the handler for another reason (a lease not taken within the job's timeout). */
  readonly beforeJob: WorkerLogLine[];
  /** `in_progress` for a job that was sent once: a lease nobody holds (the bug late-lease.test.ts shows). */
  readonly orphanedLease: WorkerLogLine[];
}

function retryCauses(): RetryCauses {
  const attempts = new Map(linesOf('attempt').map((line) => [`${line.messageId}#${line.attempt}`, line]));
  let inJob = 0;
  let leaseHeldByCopy = 0;
  let leaseHeldByPlan = 0;
  const beforeJob: WorkerLogLine[] = [];
  const orphanedLease: WorkerLogLine[] = [];
  for (const log of retryLogs) {
    // A failed run is the journal's attempt of that number; a retry that did not run has none.
    const attempt = log.message === RETRY_LOG ? attempts.get(`${log.messageId}#${log.attempt}`) : undefined;
    if (attempt !== undefined && attempt.step !== 'ok' && attempt.step !== 'permanent') inJob += 1;
    else if (log.error === LEASE_HELD && (log.receiveCount ?? 0) <= (leases?.released.get(log.jobId ?? '') ?? 0)) leaseHeldByPlan += 1;
    else if (log.error === LEASE_HELD && (jobsById.get(jobOfMessage.get(log.messageId ?? '') ?? '')?.copies ?? 1) > 1) leaseHeldByCopy += 1;
    else if (log.error === LEASE_HELD) orphanedLease.push(log);
    else beforeJob.push(log);
  }
  return { inJob, leaseHeldByCopy, leaseHeldByPlan, beforeJob, orphanedLease };
}

/** Per FIFO group: attempts out of sequence order, or completions other than the plan's (in order). */
function fifoProblems(): string[] {
  const groups = new Map<string, JournalLine[]>();
  for (const line of journal) {
    if (line.group === undefined || (line.event !== 'attempt' && line.event !== 'effect')) continue;
    groups.set(line.group, [...(groups.get(line.group) ?? []), line]);
  }
  const problems: string[] = [];
  for (const [group, lines] of groups) {
    const attempted = lines.filter((line) => line.event === 'attempt').map((line) => line.seq ?? -1);
    if (attempted.some((seq, i) => i > 0 && seq < (attempted[i - 1] as number)))
      problems.push(`${group}: attempts out of order ${attempted.join(',')}`);
    const completed = lines.filter((line) => line.event === 'effect').map((line) => line.seq ?? -1);
    const expected = plan.jobs.filter((job) => job.group === group && job.expected.kind === 'completed').map((job) => job.seq ?? -1);
    if (completed.join(',') !== expected.join(','))
      problems.push(`${group}: completed ${completed.join(',')}, expected ${expected.join(',')}`);
  }
  return problems;
}

let finishedRecords = 0;
let reloading: Promise<void> | undefined;
/** Reloads every sandbox when the run passes the plan's next reload point (one reload at a time). */
function maybeReload(): void {
  if (reloading !== undefined || reloads.length >= plan.reloadAfterRecords.length) return;
  const next = plan.reloadAfterRecords[reloads.length] as number;
  if (finishedRecords < next) return;
  const started = Date.now();
  reloading = env
    .reloadWorkers()
    .then(
      () => void reloads.push({ afterRecords: finishedRecords, ms: Date.now() - started }),
      (error: unknown) => {
        reloadErrors.push(String(error));
        reloads.push({ afterRecords: finishedRecords, ms: Date.now() - started });
      },
    )
    .finally(() => {
      reloading = undefined;
      maybeReload();
    });
}

beforeAll(async () => {
  const runStarted = Date.now();
  dir = mkdtempSync(join(tmpdir(), 'fault-injection-'));
  const journalPath = join(dir, 'journal.jsonl');
  const template = await synthesizeChaosTemplate();
  env = await startChaosEnvironment({
    template,
    localDir: dir,
    journalPath,
    waitTimeSeconds: 2,
    concurrencyLimit: 4,
    onInvocation: (report) => {
      reports.push(report);
      finishedRecords += report.deleted;
      maybeReload();
    },
    onLog: (functionName, stream, line) => {
      let parsed: WorkerLogLine | undefined;
      try {
        parsed = JSON.parse(line) as WorkerLogLine;
      } catch {
        parsed = undefined;
      }
      if (parsed?.message === NOT_STARTED_LOG) leases?.notStarted(parsed.jobId, parsed.receiveCount);
      if (parsed?.message === RETRY_LOG || parsed?.message === NOT_STARTED_LOG) retryLogs.push(parsed);
      else if (parsed?.message === undefined || !EXPECTED_ERROR_LOGS.has(parsed.message))
        unexpectedLogs.push(`${functionName} ${stream}: ${line}`);
    },
    onMetricWarning: (warning) => metricWarnings.push(JSON.stringify(warning)),
    onNotice: (notice) => unexpectedLogs.push(`notice: ${notice}`),
  });
  const standard = env.queues.get(CHAOS_TASK_QUEUE);
  const ordered = env.queues.get(CHAOS_ORDERED_QUEUE);
  if (!standard?.deadLetter || !ordered?.deadLetter || !ordered.fifo || standard.fifo)
    throw new Error('the chaos stack lacks its standard or FIFO queue');

  leases = await holdLeases(env, heldLeases);
  const sendStarted = Date.now();
  const standardMessages = plan.standardSendOrder.map((index): OutgoingMessage => ({ body: bodyOf(plan.jobs[index] as PlannedJob) }));
  // Each FIFO group in sequence order, the groups interleaved (a batch of 10 keeps its order).
  const interleaved = plan.orderedSendOrder
    .map((index) => plan.jobs[index] as PlannedJob)
    .toSorted((a, b) => (a.seq ?? 0) - (b.seq ?? 0) || (a.group ?? '').localeCompare(b.group ?? ''))
    .map((job): OutgoingMessage => ({ body: bodyOf(job), groupId: job.group, deduplicationId: job.jobId }));
  const [standardIds, orderedIds] = await Promise.all([
    sendPaced(env.client, standard.url, standardMessages, {
      perSecond: SEND_RATE,
      maxVisible: MAX_VISIBLE,
      visible: async () => (await env.sqs.counts()).get(standard.name)?.visible ?? 0,
    }),
    sendPaced(env.client, ordered.url, interleaved, { perSecond: SEND_RATE }),
  ]);
  for (const [ids, messages] of [
    [standardIds, standardMessages],
    [orderedIds, interleaved],
  ] as const) {
    ids.forEach((id, index) => jobOfMessage.set(id, (JSON.parse(messages[index]?.body ?? '{}') as { jobId: string }).jobId));
  }
  sent = standardIds.length + orderedIds.length;

  await waitUntilDrained(env.sqs, [standard.name, ordered.name], DRAIN_TIMEOUT_MS);
  while (env.workers.some((worker) => worker.running() > 0)) await sleep(50);
  wallMs = Date.now() - sendStarted;
  for (let running = reloading; running !== undefined; running = reloading) await running;
  const records = reports.reduce((sum, report) => sum + report.messageIds.length, 0);
  await env.listener.waitFor(METRIC.processed, records, { timeoutMs: 10_000 }).catch(() => undefined);

  for (const queue of [standard, ordered]) {
    for (const letter of await drainDeadLetters(env.client, queue.deadLetter?.url ?? '')) {
      const jobId = (JSON.parse(letter.body) as { jobId?: string }).jobId ?? '';
      if (!jobsById.has(jobId)) {
        unplannedDeadLetters.push(letter);
        continue;
      }
      deadLetters.set(jobId, [...(deadLetters.get(jobId) ?? []), letter]);
    }
  }
  journal = readJournal(journalPath);
  runMs = Date.now() - runStarted;
  console.log(accountingTable());
}, 900_000); // about 2 minutes on an idle machine; a loaded one needs several times that

afterAll(async () => {
  await leases?.close();
  await env?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function accountingTable(): string {
  const outcomes = env.listener.countBy(METRIC.processed, TAG.outcome);
  const reasons = env.listener.countBy(METRIC.processed, TAG.reason, { [TAG.outcome]: 'dead' });
  const attempts = linesOf('attempt');
  const causes = retryCauses();
  const retried = outcomes.get('retry') ?? 0;
  const excess = retryGaps().map((gap) => gap.gapMs - gap.minimumMs);
  const dead = [...deadLetters.values()].flat();
  const byReason = countBy(dead, (letter) => letter.reason);
  const started = new Map(attempts.map((line) => [`${line.messageId}#${line.attempt}`, line.at]));
  const abortDelays = linesOf('aborted').map((line) => line.at - (started.get(`${line.messageId}#${line.attempt}`) ?? line.at));
  const rows: TableRow[] = [
    ['jobs planned', plan.jobs.length],
    ['  standard queue', plan.jobs.length - plan.orderedSendOrder.length],
    [`  FIFO queue (${plan.options.groups} groups x ${plan.options.jobsPerGroup})`, plan.orderedSendOrder.length],
    ['messages sent (each duplicate job twice)', sent],
    ['completed (one side effect each)', new Set(linesOf('effect').map((line) => line.jobId)).size],
    ['side effects run', linesOf('effect').length],
    ['duplicate copies acknowledged without running', outcomes.get('duplicate') ?? 0],
    ['deliveries retried', retried],
    ['  retryable error or timeout in the job', causes.inJob],
    ['    of which timeouts (signal aborted)', linesOf('aborted').length],
    [
      '      abort after the handler started p50 / max',
      `${quantile(abortDelays, 0.5).toFixed(0)} / ${Math.max(...abortDelays).toFixed(0)} ms`,
    ],
    ['    of which Retry-After', attempts.filter((line) => line.step === 'retry-after').length],
    ['  lease held by the other copy of a duplicate job', causes.leaseHeldByCopy],
    ['  lease held elsewhere by the plan (no attempt)', causes.leaseHeldByPlan],
    ['  lease not taken within the job timeout', causes.beforeJob.length],
    ['  lease held by nobody (orphaned)', causes.orphanedLease.length],
    ['dead-lettered', dead.length],
    ...[...byReason].toSorted().map(([reason, n]): TableRow => [`  ${reason}`, n]),
    [
      'jobs.processed received (success/duplicate/retry/dead)',
      `${[...outcomes.values()].reduce((a, b) => a + b, 0)} (${['success', 'duplicate', 'retry', 'dead'].map((o) => outcomes.get(o) ?? 0).join('/')})`,
    ],
    [
      '  dead by reason tag',
      [...reasons]
        .toSorted()
        .map(([reason, n]) => `${reason} ${n}`)
        .join(', '),
    ],
    [
      'FIFO groups run and completed in sequence order',
      `${plan.options.groups - new Set(fifoProblems().map((problem) => problem.split(':')[0])).size} / ${plan.options.groups}`,
    ],
    ['retry gaps checked', excess.length],
    [
      '  gap over the policy delay p50 / p95 / max',
      `${quantile(excess, 0.5).toFixed(0)} / ${quantile(excess, 0.95).toFixed(0)} / ${Math.max(...excess).toFixed(0)} ms`,
    ],
    ['sandbox reloads', reloads.length],
    ['cold starts (module loads)', linesOf('init').length],
    ['invocations', reports.length],
    ['wall time, first send to drained', seconds(wallMs)],
    ['wall time, whole run (synth, start, checks)', seconds(runMs)],
  ];
  return renderTable(`Fault-injection run, seed ${SEED}`, rows);
}

describe('fault-injection run: 5,000 jobs with retries, timeouts, permanent failures, duplicates and sandbox reloads', () => {
  it('plans 5,000 jobs and sends every planned message', () => {
    expect(plan.jobs).toHaveLength(5000);
    expect(sent).toBe(plannedMessages);
  });

  it('ends every invocation by itself (no error, timeout or crash) and logs nothing unexpected', () => {
    const failed = reports.filter((report) => report.status !== 'success' && report.status !== 'partial');
    expect(failed.map((report) => `${report.status}: ${report.error}`)).toEqual([]);
    expect(unexpectedLogs).toEqual([]);
    expect(metricWarnings).toEqual([]);
  });

  it('leaves every queue empty, dead-letter queues read', async () => {
    const counts = await env.sqs.counts();
    const left = [...counts].filter(([, count]) => count.visible + count.inFlight + count.delayed > 0);
    expect(left).toEqual([]);
  });

  it('completes each job the plan says completes exactly once: one side effect, no dead letter', () => {
    const effects = countBy(linesOf('effect'), (line) => line.jobId);
    const wrong = expectCompleted
      .filter((job) => effects.get(job.jobId) !== 1 || deadLetters.has(job.jobId))
      .map((job) => ({
        jobId: job.jobId,
        scenario: job.scenario,
        effects: effects.get(job.jobId) ?? 0,
        dead: deadLetters.get(job.jobId)?.map((letter) => letter.reason),
      }));
    expect(wrong).toEqual([]);
  });

  it('dead-letters each job the plan says fails, once, with the expected reason, last error and number of runs, and without its side effect', () => {
    const effects = countBy(linesOf('effect'), (line) => line.jobId);
    const attempts = new Map(linesOf('attempt').map((line) => [`${line.jobId}#${line.attempt}`, line]));
    const runs = countBy(linesOf('attempt'), (line) => line.jobId);
    const wrong = expectDead.flatMap((job) => {
      if (job.expected.kind !== 'dead') return [];
      const letters = deadLetters.get(job.jobId) ?? [];
      const letter = letters[0];
      const receiveCount = Number(letter?.receiveCount);
      // The last attempt's error: the script's when the handler ran it; a JobTimeoutError when the lease was
      // not taken within the job's timeout (a busy machine). Attempts count runs: receives that did not run the
      // handler (the other copy held the lease) come on top.
      const last = attempts.get(`${job.jobId}#${runs.get(job.jobId) ?? 0}`);
      const errorName = last === undefined ? 'JobTimeoutError' : job.expected.errorName;
      const ok =
        letters.length === 1 &&
        (effects.get(job.jobId) ?? 0) === 0 &&
        letter?.reason === job.expected.reason &&
        letter.error?.startsWith(`${errorName}: `) === true &&
        (job.expected.reason === 'retries_exhausted'
          ? runs.get(job.jobId) === CHAOS_RETRY.maxAttempts && receiveCount >= CHAOS_RETRY.maxAttempts
          : last?.step === 'permanent');
      return ok
        ? []
        : [
            {
              jobId: job.jobId,
              scenario: job.scenario,
              steps: job.steps,
              expected: job.expected,
              letters,
              effects: effects.get(job.jobId) ?? 0,
            },
          ];
    });
    expect(wrong).toEqual([]);
    expect(unplannedDeadLetters).toEqual([]);
  });

  it('accounts for every job: completed + dead-lettered = planned, and no side effect for a job that was not planned', () => {
    const completed = new Set(linesOf('effect').map((line) => line.jobId));
    const unplanned = [...completed].filter((jobId) => jobId === undefined || !jobsById.has(jobId));
    expect(unplanned).toEqual([]);
    expect({ completed: completed.size, dead: deadLetters.size, total: completed.size + deadLetters.size }).toEqual({
      completed: expectCompleted.length,
      dead: expectDead.length,
      total: plan.jobs.length,
    });
  });

  it('runs the side effect of a job sent twice only once, and acknowledges the other copy as a duplicate', () => {
    const effects = countBy(linesOf('effect'), (line) => line.jobId);
    expect(duplicates.filter((job) => effects.get(job.jobId) !== 1).map((job) => job.jobId)).toEqual([]);
    expect(env.listener.countBy(METRIC.processed, TAG.outcome).get('duplicate') ?? 0).toBe(duplicates.length);
    // Both copies reached the worker: each duplicate job's attempts came from two messages.
    const copies = new Map<string, Set<string>>();
    for (const line of linesOf('attempt'))
      copies.set(line.jobId ?? '', (copies.get(line.jobId ?? '') ?? new Set()).add(line.messageId ?? ''));
    const deliveredTwice = duplicates.filter((job) => job.steps.length > 0 && (copies.get(job.jobId)?.size ?? 0) === 2);
    expect(deliveredTwice.length).toBeGreaterThan(0);
  });

  it('explains every retry: a failure in the job, or the lease held by the other copy of a duplicate job; no orphaned lease', () => {
    const retried = env.listener.countBy(METRIC.processed, TAG.outcome).get('retry') ?? 0;
    expect(retryLogs).toHaveLength(retried);
    const causes = retryCauses();
    expect(causes.orphanedLease).toEqual([]);
    // Handler failures: exactly the failing attempts of the journal, but the last allowed ones (dead-lettered).
    const failing = linesOf('attempt').filter(
      (line) => line.step !== 'ok' && line.step !== 'permanent' && (line.attempt ?? 0) < CHAOS_RETRY.maxAttempts,
    );
    expect(causes.inJob).toBe(failing.length);
    expect(causes.inJob + causes.leaseHeldByCopy + causes.leaseHeldByPlan + causes.beforeJob.length).toBe(retried);
  });

  it('spends no attempt on receives that did not run: a job whose lease was held elsewhere runs as planned, a held FIFO head after more receives than maxAttempts', () => {
    const runs = countBy(linesOf('attempt'), (line) => line.jobId);
    const wrong = heldLeases.filter((lease) => {
      const job = jobsById.get(lease.jobId);
      const released = leases?.released.get(lease.jobId);
      const planned = job?.expected.kind === 'completed' ? job.steps.length + 1 : undefined;
      return released !== lease.receives || (planned !== undefined && runs.get(lease.jobId) !== planned);
    });
    expect(wrong.map((lease) => ({ ...lease, released: leases?.released.get(lease.jobId), runs: runs.get(lease.jobId) }))).toEqual([]);
    expect(
      heldLeases.filter((lease) => jobsById.get(lease.jobId)?.seq === 0).every((lease) => lease.receives > CHAOS_RETRY.maxAttempts),
    ).toBe(true);
    expect(Math.max(...runs.values())).toBeLessThanOrEqual(CHAOS_RETRY.maxAttempts);
  });

  it('waits at least the backoff delay (or the Retry-After) between two attempts, and less than the queue visibility timeout', () => {
    const gaps = retryGaps();
    expect(gaps.length).toBeGreaterThan(500);
    const early = gaps.filter((gap) => gap.gapMs < gap.minimumMs - GAP_TOLERANCE_MS);
    const late = gaps.filter((gap) => gap.to === gap.from + 1 && gap.gapMs >= CHAOS_VISIBILITY_TIMEOUT_MS);
    expect({ early: early.slice(0, 5), late: late.slice(0, 5) }).toEqual({ early: [], late: [] });
  });

  it('aborts each overrunning attempt through its signal before it ends by itself, without the side effect', () => {
    const overruns = linesOf('attempt').filter((line) => line.step === 'timeout');
    const aborted = new Map(linesOf('aborted').map((line) => [`${line.messageId}#${line.attempt}`, line]));
    expect(overruns.length).toBeGreaterThan(20);
    // The job's clock starts before its idempotency lease is taken, so the abort comes up to the lease's
    // duration before CHAOS_TIMEOUT_MS after the handler started; it must come before the step would end.
    const wrong = overruns.filter((line) => {
      const abort = aborted.get(`${line.messageId}#${line.attempt}`);
      return abort === undefined || abort.at - line.at >= TIMEOUT_STEP_MS;
    });
    expect(wrong).toEqual([]);
    expect(aborted.size).toBe(overruns.length);
  });

  it('runs each FIFO group in sequence order, retries included, and completes every job of it but the dead ones', () => {
    expect(new Set(journal.flatMap((line) => (line.group === undefined ? [] : [line.group]))).size).toBe(plan.options.groups);
    expect(fifoProblems()).toEqual([]);
  });

  it('reports jobs.processed to the DogStatsD listener for every delivery, with the outcomes and reasons of the plan', () => {
    const records = reports.reduce((sum, report) => sum + report.messageIds.length, 0);
    const outcomes = env.listener.countBy(METRIC.processed, TAG.outcome);
    expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(records);
    expect({ success: outcomes.get('success'), dead: outcomes.get('dead') }).toEqual({
      success: expectCompleted.length,
      dead: expectDead.length,
    });
    const reasons = env.listener.countBy(METRIC.processed, TAG.reason, { [TAG.outcome]: 'dead' });
    const planned = countBy(expectDead, (job) => (job.expected.kind === 'dead' ? job.expected.reason : undefined));
    expect(new Map([...reasons].toSorted())).toEqual(new Map([...planned].toSorted()));
  });

  it('reloads the sandboxes at every planned point, and each reload cold-starts new ones', () => {
    expect(reloadErrors).toEqual([]);
    expect(reloads).toHaveLength(plan.options.reloads);
    expect(linesOf('init').length).toBeGreaterThan(plan.options.reloads);
  });
});
