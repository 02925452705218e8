/**
 * Runs one decoded job: its handler, under its own timeout and the record's abort, wrapped (for an idempotent job,
 * when a store is configured) in its idempotency lease: begin (take the lease, or find the job completed or running
 * in another delivery), complete after success, release after failure. Resolves with `success` or `duplicate`;
 * a failure rejects, for the verdict stage to classify.
 */
import type { Context } from 'aws-lambda';
import type { RecordAbort } from './cancellation.ts';
import { JobTimeoutError, RetryableJobError } from './errors.ts';
import type { BeginResult, IdempotencyStore } from './idempotency-store.ts';
import type { JobContext, JobDefinition } from './job.ts';

/** Default idempotency memory: 7 days. */
const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600;
/** A lease outlives the longest the job may run by this much, so it never expires under a running job. */
const LEASE_SLACK_MS = 5_000;

const ignore = (): void => undefined;

/** One job about to run. */
export interface JobRun {
  readonly job: JobDefinition;
  /** The payload as the job's schema outputs it. */
  readonly payload: unknown;
  /** What the handler gets besides its payload. */
  readonly context: JobContext;
  /** The record's abort: its timeout and the invocation's deadline fire it. */
  readonly cancel: RecordAbort;
  /** Set once the handler is called: only then is a failure a run (an attempt). */
  handlerCalled?: boolean;
}

/** The idempotency lease one run takes. */
export interface IdempotencyLease {
  readonly store: IdempotencyStore;
  /** `<job type>#<key>`. */
  readonly key: string;
  readonly leaseMs: number;
  /** How long the completion is remembered. */
  readonly ttlSeconds: number;
}

/** When the lease is taken: the processor's safety margin and the invocation's remaining time. */
export interface LeaseTiming {
  readonly safetyMarginMs: number;
  readonly lambdaContext: Pick<Context, 'getRemainingTimeInMillis'>;
}

/**
 * The lease an idempotent job takes, or undefined when it runs without deduplication (not idempotent, no store,
 * or no key: the job's key function returned none, or the message has no `jobId`).
 */
export function idempotencyLease(run: JobRun, store: IdempotencyStore | undefined, timing: LeaseTiming): IdempotencyLease | undefined {
  const { job, payload, context } = run;
  if (!job.idempotency || !store) return undefined;
  const key = job.idempotency.key ? job.idempotency.key(payload, { jobId: context.jobId, messageId: context.messageId }) : context.jobId;
  if (key === undefined) return undefined;
  const remainingMs = timing.lambdaContext.getRemainingTimeInMillis?.() ?? job.timeoutMs;
  return {
    store,
    key: `${job.type}#${key}`,
    leaseMs: Math.min(job.timeoutMs + timing.safetyMarginMs, remainingMs) + LEASE_SLACK_MS,
    ttlSeconds: job.idempotency.ttlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS,
  };
}

/** Runs the job, through its lease when it has one. Rejects with the job's failure. */
export async function runJob(run: JobRun, lease: IdempotencyLease | undefined): Promise<'success' | 'duplicate'> {
  if (lease === undefined) {
    await runHandler(run);
    return 'success';
  }
  const begun = await beginLease(lease, run);
  if (begun === 'completed') {
    run.context.logger.info('job already completed: acknowledged without running again');
    return 'duplicate';
  }
  if (begun === 'in_progress') throw new RetryableJobError('the same job is running in another delivery');
  try {
    await runHandler(run);
  } catch (error) {
    await lease.store.release(lease.key).catch(ignore);
    throw error;
  }
  // The side effect happened: a failure to record it must not turn into a retry that repeats it.
  await lease.store.complete(lease.key, lease.ttlSeconds).catch((error: unknown) => {
    run.context.logger.error('could not record the job as completed', { error });
  });
  return 'success';
}

/**
 * Takes the lease, bounded by the invocation's deadline only: the job's own clock starts once it may run (taking
 * the lease may load the DynamoDB client on a sandbox's first idempotent job).
 */
async function beginLease({ store, key, leaseMs }: IdempotencyLease, { cancel }: JobRun): Promise<BeginResult> {
  const beginning = store.begin(key, leaseMs);
  return cancel.race(beginning).catch((error: unknown) => {
    // Aborted while taking the lease: a lease taken after all must be given back, or every redelivery
    // sees `in_progress` until it expires (and a short retry policy dead-letters a job that never ran).
    void beginning.then((late) => (late === 'started' ? store.release(key) : undefined)).catch(ignore);
    throw error;
  });
}

/** Runs the handler until it settles, its timeout fires or the record is aborted, whichever is first. */
async function runHandler(run: JobRun): Promise<void> {
  const { job, payload, context, cancel } = run;
  run.handlerCalled = true;
  const timer = setTimeout(() => cancel.abort(new JobTimeoutError(`job timed out after ${job.timeoutMs} ms`)), job.timeoutMs);
  try {
    await cancel.race(job.handler(payload, context));
  } finally {
    clearTimeout(timer);
  }
}
