/**
 * A focused fault run: a small seeded plan (test/faults/plan.ts, standard queue only) on the embedded local
 * environment with the chaos stack, for one injected fault at a time (test/faults/*-fault.test.ts). It sends the
 * plan's messages at a steady pace, tells the caller after every invocation (so it can inject and lift its fault
 * at a point of the run), waits until the queues are drained, reads the dead-letter queues and the journal, and
 * says which planned jobs did not end as the plan predicts (one side effect, or one dead letter with the reason).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalEnvironment } from '../../functions/local/environment.ts';
import type { InvocationReport } from '../../functions/local/event-source.ts';
import type { QueueSettings } from '../../infra/queue-settings.ts';
import { CHAOS_TASK_QUEUE } from './chaos-jobs.ts';
import { startChaosEnvironment, synthesizeChaosTemplate } from './chaos-stack.ts';
import { readJournal, type JournalLine } from './journal.ts';
import { buildPlan, type Plan, type PlannedJob } from './plan.ts';
import { drainDeadLetters, sendPaced, waitUntilDrained, type DeadLetter } from './queues.ts';

/** The lines the worker writes by design: a retried record (failed run or not run), a dead-lettered job. */
export const WORKER_LOGS = {
  retry: 'job failed, will retry',
  notStarted: 'job not started, will retry',
  permanent: 'job failed permanently',
  lastAttempt: 'job failed its last attempt',
} as const;
const EXPECTED_LOGS = new Set<string>(Object.values(WORKER_LOGS));

/** The fields of a worker log line a focused run reads. */
export interface WorkerLog {
  readonly message?: string;
  readonly messageId?: string;
  readonly jobId?: string;
  readonly receiveCount?: number;
  /** The invocation's request id (the event source's report has the same). */
  readonly requestId?: string;
  readonly error?: string;
}

/**
 * The plan of a focused run: `standardJobs` jobs on the standard queue only (no FIFO groups, no reloads), with the
 * scenario shares every focused run uses (retries, exhaustion, permanent failures, timeouts, Retry-After, duplicates).
 */
export function focusedPlan(seed: number, standardJobs: number): Plan {
  return buildPlan({
    seed,
    standardJobs,
    groups: 0,
    jobsPerGroup: 0,
    reloads: 0,
    shares: { recovers: 0.06, exhausted: 0.01, permanent: 0.02, 'timeout-recovers': 0.008, 'retry-after': 0.01, duplicate: 0.05 },
    orderedRecoverShare: 0,
    orderedPermanentShare: 0,
  });
}

/** Options of {@link startFocusedRun}. */
export interface FocusedRunOptions {
  /** Temporary directory prefix. */
  readonly name: string;
  /** Standard-queue jobs only (`groups: 0`, `reloads: 0`). */
  readonly plan: Plan;
  /** Queue settings of the chaos stack; default its own. */
  readonly queueSettings?: Readonly<Record<string, Partial<QueueSettings>>>;
  /** More sandbox variables (the DynamoDB endpoint of a proxy...). */
  readonly sandboxEnv?: Readonly<Record<string, string>>;
  /** Local cap on sandboxes. Default 2 (the machine is shared). */
  readonly concurrencyLimit?: number;
  /** Messages per second. Default 100. */
  readonly perSecond?: number;
  /** How long every attempt of every job works before its step (the chaos payload's `durationMs`). Default none. */
  readonly jobDurationMs?: number;
  /** Called after every invocation, with the records finished (deleted) so far. */
  readonly onInvocation?: (report: InvocationReport, finishedRecords: number) => void;
  /** Worker log lines beyond {@link WORKER_LOGS} that the fault may cause (others are unexpected). */
  readonly alsoExpected?: (log: WorkerLog) => boolean;
  readonly drainTimeoutMs?: number;
}

/** A focused run, started. */
export interface FocusedRun {
  readonly env: LocalEnvironment;
  readonly reports: InvocationReport[];
  /** Every worker line that parsed as JSON. */
  readonly logs: WorkerLog[];
  readonly unexpectedLogs: string[];
  /** Sends every planned message, waits until drained, reads the dead letters and the journal. */
  finish(): Promise<FocusedResult>;
  /** Stops the environment and removes the directory. */
  stop(): Promise<void>;
}

/** A focused run's end state. */
export interface FocusedResult {
  readonly sent: number;
  readonly journal: readonly JournalLine[];
  /** Dead letters per planned job id; letters of unplanned jobs apart. */
  readonly deadLetters: ReadonlyMap<string, readonly DeadLetter[]>;
  readonly unplannedDeadLetters: readonly DeadLetter[];
  readonly wallMs: number;
}

function bodyOf(job: PlannedJob, durationMs: number | undefined): string {
  return JSON.stringify({ type: job.type, jobId: job.jobId, payload: { steps: job.steps, durationMs } });
}

function parsed(line: string): WorkerLog | undefined {
  try {
    return JSON.parse(line) as WorkerLog;
  } catch {
    return undefined;
  }
}

/** Starts the environment for `options.plan`; {@link FocusedRun.finish} runs it. */
export async function startFocusedRun(options: FocusedRunOptions): Promise<FocusedRun> {
  const dir = mkdtempSync(join(tmpdir(), `${options.name}-`));
  const journalPath = join(dir, 'journal.jsonl');
  const template = await synthesizeChaosTemplate(options.queueSettings);
  const reports: InvocationReport[] = [];
  const logs: WorkerLog[] = [];
  const unexpectedLogs: string[] = [];
  let finished = 0;
  const env = await startChaosEnvironment({
    template,
    localDir: dir,
    journalPath,
    sandboxEnv: options.sandboxEnv,
    waitTimeSeconds: 1,
    concurrencyLimit: options.concurrencyLimit ?? 2,
    onInvocation: (report) => {
      reports.push(report);
      finished += report.deleted;
      options.onInvocation?.(report, finished);
    },
    onLog: (functionName, stream, line) => {
      const log = parsed(line);
      if (log !== undefined) logs.push(log);
      const expected = log?.message !== undefined && (EXPECTED_LOGS.has(log.message) || options.alsoExpected?.(log) === true);
      if (!expected) unexpectedLogs.push(`${functionName} ${stream}: ${line}`);
    },
    onNotice: (notice) => unexpectedLogs.push(`notice: ${notice}`),
  });
  const finish = async (): Promise<FocusedResult> => {
    const queue = env.queues.get(CHAOS_TASK_QUEUE);
    if (!queue?.deadLetter) throw new Error('the chaos stack lacks its standard queue');
    const started = Date.now();
    const messages = options.plan.standardSendOrder.map((index) => ({
      body: bodyOf(options.plan.jobs[index] as PlannedJob, options.jobDurationMs),
    }));
    const ids = await sendPaced(env.client, queue.url, messages, { perSecond: options.perSecond ?? 100 });
    await waitUntilDrained(env.sqs, [queue.name], options.drainTimeoutMs ?? 240_000);
    while (env.workers.some((worker) => worker.running() > 0)) await sleep(50);
    const wallMs = Date.now() - started;
    const planned = new Set(options.plan.jobs.map((job) => job.jobId));
    const deadLetters = new Map<string, DeadLetter[]>();
    const unplannedDeadLetters: DeadLetter[] = [];
    for (const letter of await drainDeadLetters(env.client, queue.deadLetter.url)) {
      const jobId = (JSON.parse(letter.body) as { jobId?: string }).jobId ?? '';
      if (planned.has(jobId)) deadLetters.set(jobId, [...(deadLetters.get(jobId) ?? []), letter]);
      else unplannedDeadLetters.push(letter);
    }
    return { sent: ids.length, journal: readJournal(journalPath), deadLetters, unplannedDeadLetters, wallMs };
  };
  return {
    env,
    reports,
    logs,
    unexpectedLogs,
    finish,
    async stop() {
      await env.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Side effects per job id. */
export function effectsByJob(journal: readonly JournalLine[]): Map<string, number> {
  const effects = new Map<string, number>();
  for (const line of journal) if (line.event === 'effect') effects.set(line.jobId ?? '', (effects.get(line.jobId ?? '') ?? 0) + 1);
  return effects;
}

/**
 * The planned jobs that did not end as the plan says: a job that completes has exactly one side effect and no dead
 * letter; a job that fails has no side effect and exactly one dead letter, with the planned reason.
 */
export function planMismatches(plan: Plan, result: FocusedResult): { jobId: string; expected: string; effects: number; dead: string[] }[] {
  const effects = effectsByJob(result.journal);
  return plan.jobs.flatMap((job) => {
    const n = effects.get(job.jobId) ?? 0;
    const dead = (result.deadLetters.get(job.jobId) ?? []).map((letter) => letter.reason ?? 'none (SQS redrive)');
    const expected = job.expected.kind === 'completed' ? 'completed' : job.expected.reason;
    const ok = job.expected.kind === 'completed' ? n === 1 && dead.length === 0 : n === 0 && dead.length === 1 && dead[0] === expected;
    return ok ? [] : [{ jobId: job.jobId, expected, effects: n, dead }];
  });
}

/** Dead letters per reason. */
export function deadByReason(result: FocusedResult): string {
  const counts = new Map<string, number>();
  for (const letter of [...result.deadLetters.values()].flat()) {
    const reason = letter.reason ?? 'none (SQS redrive)';
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return (
    [...counts]
      .toSorted()
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ') || 'none'
  );
}
