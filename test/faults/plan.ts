/**
 * The seeded plan of the fault-injection run: which jobs exist, what each attempt of each job does, which
 * jobs are sent twice, when the sandboxes are reloaded, and what the end state must be.
 *
 * Everything random comes from one seeded PRNG, so a seed always gives the same plan. A script says what
 * attempt n does, and an attempt can fail before the handler runs (a duplicate's other copy holds the lease,
 * or the lease is not taken within the job's timeout on a busy machine). So the scripts leave slack: a job
 * that recovers fails at most maxAttempts - 2 times, a job meant to fail permanently fails permanently from
 * its first failing attempt on, at most at attempt 2; then one attempt lost before the handler does not
 * change a job's fate, and the predicted end state does not depend on timing.
 */
import { CHAOS_ORDERED, CHAOS_RETRY, CHAOS_TASK, RETRY_AFTER_SECONDS, type Step } from './chaos-jobs.ts';
import { exponentialDelaySeconds } from '../../functions/runtime/job.ts';
import type { DeadReason } from '../../functions/runtime/metric-names.ts';

/** mulberry32: a small, well-mixed 32-bit PRNG; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** What a job is meant to do. */
export type Scenario =
  | 'ok'
  | 'recovers'
  | 'exhausted'
  | 'permanent'
  | 'timeout-recovers'
  | 'timeout-exhausted'
  | 'retry-after'
  | 'duplicate'
  | 'ordered'
  | 'ordered-recovers'
  | 'ordered-permanent';

/** How a job must end. */
export type Expected = { readonly kind: 'completed' } | { readonly kind: 'dead'; readonly reason: DeadReason; readonly errorName: string };

/** One planned job. */
export interface PlannedJob {
  readonly jobId: string;
  readonly type: typeof CHAOS_TASK | typeof CHAOS_ORDERED;
  readonly scenario: Scenario;
  readonly steps: readonly Step[];
  /** Messages sent for it: 2 for a duplicate. */
  readonly copies: number;
  readonly group?: string;
  readonly seq?: number;
  readonly expected: Expected;
}

/** Sizes and shares of a plan. */
export interface PlanOptions {
  readonly seed: number;
  /** Jobs on the standard queue. */
  readonly standardJobs: number;
  /** FIFO message groups and jobs per group. */
  readonly groups: number;
  readonly jobsPerGroup: number;
  /** Sandbox reloads during the run. */
  readonly reloads: number;
  /** Share of each scenario among the standard jobs (the rest are `ok`). */
  readonly shares: Readonly<Partial<Record<Scenario, number>>>;
  /** Share of FIFO jobs failing once, and permanently. */
  readonly orderedRecoverShare: number;
  readonly orderedPermanentShare: number;
}

/** The whole plan. */
export interface Plan {
  readonly options: PlanOptions;
  readonly jobs: readonly PlannedJob[];
  /** The standard queue's messages in send order (duplicates included), as indexes into `jobs`. */
  readonly standardSendOrder: readonly number[];
  /** FIFO jobs in send order (per group in sequence). */
  readonly orderedSendOrder: readonly number[];
  /** Reload points: after this many records have been finished (deleted) by the event sources. */
  readonly reloadAfterRecords: readonly number[];
}

const RETRYABLE_ERROR = 'Error';

/** What the worker must do with a script, attempt by attempt. */
export function expectedEnd(steps: readonly Step[], maxAttempts: number = CHAOS_RETRY.maxAttempts): Expected {
  for (let attempt = 1; ; attempt += 1) {
    const step = steps[attempt - 1];
    if (step === undefined) return { kind: 'completed' };
    if (step === 'permanent') return { kind: 'dead', reason: 'permanent_error', errorName: 'PermanentJobError' };
    if (attempt >= maxAttempts) {
      const errorName = step === 'timeout' ? 'JobTimeoutError' : step === 'retry-after' ? 'RetryableJobError' : RETRYABLE_ERROR;
      return { kind: 'dead', reason: 'retries_exhausted', errorName };
    }
  }
}

/**
 * The least time between the start of attempt `from` and the start of attempt `to` of one message: the sum
 * of the delays the worker must set after each failed attempt in between (the policy's, or a step's
 * `Retry-After`). `ranHandler(a)` tells whether attempt a reached the handler (else its failure came from
 * the lease: the policy delay applies).
 */
export function minimumGapSeconds(steps: readonly Step[], from: number, to: number, ranHandler: (attempt: number) => boolean): number {
  let seconds = 0;
  for (let attempt = from; attempt < to; attempt += 1) {
    const step = ranHandler(attempt) ? steps[attempt - 1] : undefined;
    seconds += step === 'retry-after' ? RETRY_AFTER_SECONDS : exponentialDelaySeconds(CHAOS_RETRY, attempt);
  }
  return seconds;
}

function repeat(step: Step, times: number): Step[] {
  return Array.from({ length: times }, () => step);
}

/** Builds the plan for `options`: same options, same plan. */
export function buildPlan(options: PlanOptions): Plan {
  const random = seededRandom(options.seed);
  const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  const max = CHAOS_RETRY.maxAttempts;
  const jobs: PlannedJob[] = [];
  const add = (job: Omit<PlannedJob, 'expected'>): void => {
    jobs.push({ ...job, expected: expectedEnd(job.steps) });
  };

  // Standard queue: a scenario per job, drawn by share.
  const shares = Object.entries(options.shares) as [Scenario, number][];
  for (let index = 0; index < options.standardJobs; index += 1) {
    let draw = random();
    let scenario: Scenario = 'ok';
    for (const [candidate, share] of shares) {
      if (draw < share) {
        scenario = candidate;
        break;
      }
      draw -= share;
    }
    let steps: Step[] = [];
    switch (scenario) {
      case 'recovers':
        steps = repeat('retry', int(1, max - 2));
        break;
      case 'exhausted':
        steps = repeat('retry', max + int(0, 1));
        break;
      case 'permanent':
        // Permanent from its first failing attempt on, whatever attempt that turns out to be.
        steps = [...repeat('retry', int(0, 1)), ...repeat('permanent', max + 1)];
        break;
      case 'timeout-recovers':
        steps = random() < 0.5 ? ['timeout'] : ['retry', 'timeout'];
        break;
      case 'timeout-exhausted':
        steps = repeat('timeout', max);
        break;
      case 'retry-after':
        steps = ['retry-after'];
        break;
      case 'duplicate':
        steps = random() < 0.5 ? [] : ['retry'];
        break;
      default:
        steps = [];
    }
    add({ jobId: `std-${options.seed}-${index}`, type: CHAOS_TASK, scenario, steps, copies: scenario === 'duplicate' ? 2 : 1 });
  }

  // FIFO queue: groups of sequenced jobs; some fail once, a few fail permanently (the group goes on).
  const orderedSendOrder: number[] = [];
  for (let group = 0; group < options.groups; group += 1) {
    for (let seq = 0; seq < options.jobsPerGroup; seq += 1) {
      const draw = random();
      const scenario: Scenario =
        draw < options.orderedPermanentShare
          ? 'ordered-permanent'
          : draw < options.orderedPermanentShare + options.orderedRecoverShare
            ? 'ordered-recovers'
            : 'ordered';
      const steps: Step[] =
        scenario === 'ordered-permanent' ? repeat('permanent', max + 1) : scenario === 'ordered-recovers' ? ['retry'] : [];
      orderedSendOrder.push(jobs.length);
      add({ jobId: `fifo-${options.seed}-${group}-${seq}`, type: CHAOS_ORDERED, scenario, steps, copies: 1, group: `group-${group}`, seq });
    }
  }

  // Standard send order: shuffled; a duplicate's second copy right after the first (same batch: concurrent
  // deliveries) or somewhere later (a redelivery after completion).
  const standard = jobs.flatMap((job, index) => (job.type === CHAOS_TASK ? [index] : []));
  for (let i = standard.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [standard[i], standard[j]] = [standard[j] as number, standard[i] as number];
  }
  const standardSendOrder: number[] = [];
  const later: { index: number; at: number }[] = [];
  for (const index of standard) {
    standardSendOrder.push(index);
    if ((jobs[index]?.copies ?? 1) < 2) continue;
    if (random() < 0.5) standardSendOrder.push(index);
    else later.push({ index, at: standardSendOrder.length + int(20, 600) });
  }
  for (const { index, at } of later.toSorted((a, b) => b.at - a.at)) {
    standardSendOrder.splice(Math.min(at, standardSendOrder.length), 0, index);
  }

  // Reload points, spread over 5-85 % of the records.
  const records = standardSendOrder.length + orderedSendOrder.length;
  const reloadAfterRecords = Array.from({ length: options.reloads }, () => Math.round(records * (0.05 + 0.8 * random()))).toSorted(
    (a, b) => a - b,
  );

  return { options, jobs, standardSendOrder, orderedSendOrder, reloadAfterRecords };
}

/** Issue 13: a job whose idempotency lease another delivery holds for its first `receives` receives (none is an attempt). */
export interface HeldLease {
  readonly jobId: string;
  readonly type: PlannedJob['type'];
  readonly receives: number;
}

/**
 * The plan's held leases, drawn with a PRNG of their own (the plan's own draws stay as they were): `fifoHeads` FIFO
 * group heads held for more receives than maxAttempts (their group waits behind them), and `standard` jobs sent once
 * that recover within maxAttempts - 1 runs held for 1 to 3 receives. Their planned end does not change: receives that
 * did not run the handler are no attempt, and held receives + runs stay within the queue's 9 receives.
 */
export function planHeldLeases(plan: Plan, counts: { readonly fifoHeads: number; readonly standard: number }): HeldLease[] {
  const random = seededRandom(plan.options.seed ^ 0x13_13_13);
  const max = CHAOS_RETRY.maxAttempts;
  const pick = <T>(items: readonly T[], n: number): T[] => {
    const pool = [...items];
    return Array.from({ length: Math.min(n, pool.length) }, () => pool.splice(Math.floor(random() * pool.length), 1)[0] as T);
  };
  const heads = plan.jobs.filter((job) => job.seq === 0);
  const standard = plan.jobs.filter((job) => job.type === CHAOS_TASK && job.copies === 1 && job.steps.length <= max - 2);
  return [
    ...pick(heads, counts.fifoHeads).map((job) => ({ jobId: job.jobId, type: job.type, receives: max + 1 + Math.floor(random() * 2) })),
    ...pick(standard, counts.standard).map((job) => ({ jobId: job.jobId, type: job.type, receives: 1 + Math.floor(random() * 3) })),
  ];
}
