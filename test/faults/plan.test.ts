/**
 * The fault-injection run's plan (test/faults/plan.ts): seeded, and its predictions follow the worker's rules.
 */
import { describe, expect, it } from 'vitest';
import { CHAOS_RETRY, RETRY_AFTER_SECONDS } from './chaos-jobs.ts';
import { buildPlan, expectedEnd, minimumGapSeconds, planHeldLeases, seededRandom, type PlanOptions } from './plan.ts';

const options: PlanOptions = {
  seed: 42,
  standardJobs: 2000,
  groups: 4,
  jobsPerGroup: 10,
  reloads: 3,
  shares: { recovers: 0.1, exhausted: 0.05, permanent: 0.05, 'timeout-recovers': 0.05, 'retry-after': 0.05, duplicate: 0.1 },
  orderedRecoverShare: 0.2,
  orderedPermanentShare: 0.1,
};

const always = (): boolean => true;

describe('the fault-injection plan', () => {
  it('is the same for the same seed, and different for another', () => {
    expect(buildPlan(options)).toEqual(buildPlan(options));
    expect(buildPlan({ ...options, seed: 43 }).jobs.map((job) => job.steps)).not.toEqual(buildPlan(options).jobs.map((job) => job.steps));
    expect(Array.from({ length: 3 }, seededRandom(1))).toEqual(Array.from({ length: 3 }, seededRandom(1)));
  });

  it('predicts completion, retries_exhausted at maxAttempts, or permanent_error, as the worker decides', () => {
    expect(expectedEnd([])).toEqual({ kind: 'completed' });
    expect(expectedEnd(['retry', 'timeout', 'retry-after'])).toEqual({ kind: 'completed' });
    expect(expectedEnd(['retry', 'retry', 'retry', 'retry'])).toEqual({ kind: 'dead', reason: 'retries_exhausted', errorName: 'Error' });
    expect(expectedEnd(['timeout', 'timeout', 'timeout', 'timeout'])).toEqual({
      kind: 'dead',
      reason: 'retries_exhausted',
      errorName: 'JobTimeoutError',
    });
    expect(expectedEnd(['retry', 'permanent'])).toEqual({ kind: 'dead', reason: 'permanent_error', errorName: 'PermanentJobError' });
  });

  it('leaves every recovering job one spare attempt, so one attempt lost before the handler does not change its fate', () => {
    const jobs = buildPlan(options).jobs;
    const completedSteps = jobs.filter((job) => job.expected.kind === 'completed').map((job) => job.steps.length);
    const permanentAt = jobs
      .filter((job) => job.expected.kind === 'dead' && job.expected.reason === 'permanent_error')
      .map((job) => job.steps.indexOf('permanent'));
    expect(Math.max(...completedSteps)).toBeLessThanOrEqual(CHAOS_RETRY.maxAttempts - 2);
    expect(Math.max(...permanentAt)).toBeLessThanOrEqual(1);
  });

  it('sends each duplicate job twice and every other job once, FIFO jobs in sequence per group', () => {
    const plan = buildPlan(options);
    const sends = new Map<number, number>();
    for (const index of plan.standardSendOrder) sends.set(index, (sends.get(index) ?? 0) + 1);
    for (const [index, count] of sends) expect(count).toBe(plan.jobs[index]?.copies);
    expect(plan.orderedSendOrder.map((index) => plan.jobs[index]?.seq)).toEqual(
      Array.from({ length: 4 }, () => Array.from({ length: 10 }, (_, i) => i)).flat(),
    );
    expect(plan.reloadAfterRecords).toHaveLength(3);
  });

  it('adds up the policy delays between two attempts, a Retry-After for a step that asked for one', () => {
    expect(minimumGapSeconds(['retry', 'retry', 'retry'], 1, 4, always)).toBe(1 + 2 + 2);
    expect(minimumGapSeconds(['retry-after'], 1, 2, always)).toBe(RETRY_AFTER_SECONDS);
    // Attempt 1 never reached the handler (the lease): the policy delay, whatever its step would have done.
    expect(minimumGapSeconds(['retry-after'], 1, 2, () => false)).toBe(1);
  });

  it('holds the leases of a few FIFO heads for more receives than maxAttempts, and of standard jobs for 1-3, the same for the same seed', () => {
    const plan = buildPlan(options);
    const held = planHeldLeases(plan, { fifoHeads: 2, standard: 10 });
    expect(planHeldLeases(plan, { fifoHeads: 2, standard: 10 })).toEqual(held);
    const jobs = new Map(plan.jobs.map((job) => [job.jobId, job]));
    const heads = held.filter((lease) => jobs.get(lease.jobId)?.seq === 0);
    expect(heads).toHaveLength(2);
    expect(heads.every((lease) => lease.receives > CHAOS_RETRY.maxAttempts)).toBe(true);
    expect(
      held
        .filter((lease) => jobs.get(lease.jobId)?.seq === undefined)
        .map((lease) => lease.receives <= 3 && jobs.get(lease.jobId)?.copies === 1),
    ).toEqual(Array.from({ length: 10 }, () => true));
  });
});
