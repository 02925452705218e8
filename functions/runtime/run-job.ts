/**
 * Runs one decoded job: its handler, under its own timeout and the record's abort, inside its idempotency lease when
 * the job is idempotent and a store is configured (begin: take the lease, or find the job completed or running
 * elsewhere; complete after success; release after failure). A failure rejects, for the verdict stage to classify.
 */
import type { Context } from 'aws-lambda';
import type { RecordAbort } from './cancellation.ts';
import { JobTimeoutError, RetryableJobError } from './errors.ts';
import type { JobContext, JobDefinition } from './job.ts';

/** Default idempotency memory: 7 days. */
const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600;
/** A lease outlives the longest the job may run by this much, so it never expires under a running job. */
const LEASE_SLACK_MS = 5_000;

const ignore = (): void => undefined;

/**
 * What {@link IdempotencyStore.begin} found: `started` (the caller now holds the lease and must `complete` or
 * `release` it), `completed` (within its TTL: acknowledge without running again) or `in_progress` (another delivery
 * holds an unexpired lease: retry later).
 */
export type BeginResult = 'started' | 'completed' | 'in_progress';

/**
 * Remembers which jobs ran, so a redelivered or concurrently delivered job runs its side effect once (on DynamoDB:
 * `dynamodb-idempotency-store.ts`).
 */
export interface IdempotencyStore {
  /** Takes a lease on `key` for `leaseMs` (a conditional write), unless the job completed or is leased. */
  begin(key: string, leaseMs: number): Promise<BeginResult>;
  /** Marks `key` completed, remembered for `ttlSeconds`. */
  complete(key: string, ttlSeconds: number): Promise<void>;
  /** Drops the lease after a failure, so a retry may run the job. */
  release(key: string): Promise<void>;
}

/** One job about to run: its payload (as its schema outputs it), its context and the record's abort. */
export interface JobRun {
  readonly job: JobDefinition;
  readonly payload: unknown;
  readonly context: JobContext;
  readonly cancel: RecordAbort;
  /** Set once the handler is called: only then is a failure a run (an attempt). */
  handlerCalled?: boolean;
}

/** The idempotency lease one run takes: `<job type>#<key>`, for `leaseMs`, its completion remembered `ttlSeconds`. */
interface IdempotencyLease {
  readonly store: IdempotencyStore;
  readonly key: string;
  readonly leaseMs: number;
  readonly ttlSeconds: number;
}

/**
 * The lease an idempotent job takes, or undefined when it runs without deduplication (not idempotent, no store, or no
 * key: the job's key function returned none, or the message has no `jobId`). It lasts the job's timeout plus the
 * safety margin, bounded by the invocation's remaining time, plus {@link LEASE_SLACK_MS}.
 */
export function idempotencyLease(
  { job, payload, context }: JobRun,
  store: IdempotencyStore | undefined,
  timing: { readonly safetyMarginMs: number; readonly lambdaContext: Pick<Context, 'getRemainingTimeInMillis'> },
): IdempotencyLease | undefined {
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
 * Takes the lease, bounded by the invocation's deadline only: the job's own clock starts once it may run (taking the
 * lease may load the DynamoDB client). A lease that lands after an abort is given back, or every redelivery would see
 * `in_progress` until it expired (and a short retry policy dead-letter a job that never ran).
 */
async function beginLease({ store, key, leaseMs }: IdempotencyLease, { cancel }: JobRun): Promise<BeginResult> {
  const beginning = store.begin(key, leaseMs);
  return cancel.race(beginning).catch((error: unknown) => {
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
