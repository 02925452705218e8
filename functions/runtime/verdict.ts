/**
 * The verdict on one record, and the one decision about a job that failed: dead-letter it (a permanent error, or its
 * last allowed attempt) or retry it after its backoff. Verdicts are values: a later stage that changes one returns a
 * new verdict.
 */
import type { SQSRecord } from 'aws-lambda';
import { JobNotStartedError, JobTimeoutError, PermanentJobError, RetryableJobError } from './errors.ts';
import { retryDelaySeconds, type RetryPolicy } from './job.ts';
import type { Logger } from './logger.ts';
import { UNKNOWN_JOB_TYPE, type DeadReason } from './metric-names.ts';

/** Returned in `batchItemFailures`, so SQS delivers the message again. */
export interface RetryVerdict {
  readonly outcome: 'retry';
  readonly jobType: string;
  readonly error: Error;
  /** Backoff before the next attempt, set as the message's visibility; undefined leaves the queue's own timeout. */
  readonly delaySeconds: number | undefined;
  /** Whether the handler ran (a failed run, counted as an attempt) or the record came back unprocessed. */
  readonly ran: boolean;
}

/** Sent to the dead-letter queue with its reason, and not returned as a failure. */
export interface DeadVerdict {
  readonly outcome: 'dead';
  readonly jobType: string;
  readonly reason: DeadReason;
  readonly error: Error;
}

/** What happens to one record: done and deleted by Lambda (`duplicate`: an idempotent job already completed), retried or dead. */
export type Verdict = { readonly outcome: 'success' | 'duplicate'; readonly jobType: string } | RetryVerdict | DeadVerdict;

/** A record's verdict with what settling, metrics and logs need to know about it. */
export interface RecordResult {
  readonly record: SQSRecord;
  readonly verdict: Verdict;
  /** The producer's job id, when the message has one. */
  readonly jobId: string | undefined;
  /** When processing of the record began (ms since epoch); undefined when it was never started. */
  readonly startedAt: number | undefined;
  readonly durationMs: number;
  /** When a delayed or scheduled job was meant to run (ms since epoch): queue latency counts from it. */
  readonly scheduledAt?: number | undefined;
}

/** A dead verdict. */
export function dead(reason: DeadReason, jobType: string, error: Error): DeadVerdict {
  return { outcome: 'dead', reason, jobType, error };
}

/** The result for a record that was never started: retried at once. */
export function notStarted(
  record: SQSRecord,
  error: Error = new JobTimeoutError('not started before the invocation deadline'),
): RecordResult {
  const verdict: RetryVerdict = { outcome: 'retry', jobType: UNKNOWN_JOB_TYPE, error, delaySeconds: 0, ran: false };
  return { record, verdict, jobId: undefined, startedAt: undefined, durationMs: 0 };
}

/** A dead verdict whose dead letter could not be sent: retried after the queue's visibility timeout instead. */
export function retryUnsent(verdict: DeadVerdict): RetryVerdict {
  return { outcome: 'retry', jobType: verdict.jobType, error: verdict.error, delaySeconds: undefined, ran: false };
}

/**
 * How one failed attempt of a job is judged: its policy, its attempt (failed runs + 1), its receive count (the backoff
 * of a record that did not run), whether this is the queue's last receive, whether the handler ran (a failure before
 * it, the lease or the deadline, is no attempt), and the jitter's random source.
 */
export interface FailedAttempt {
  readonly jobType: string;
  readonly retry: RetryPolicy;
  readonly attempt: number;
  readonly receiveCount: number;
  readonly lastReceive: boolean;
  readonly ran: boolean;
  readonly random: () => number;
}

/**
 * Classifies a job's failure: a {@link PermanentJobError} is dead (`permanent_error`); a failed run on the last allowed
 * attempt, or on the queue's last receive, is dead (`retries_exhausted`); anything else is retried after its backoff
 * (by attempt, or by receive count when the handler did not run) or after the job's own `retryAfterSeconds`.
 */
export function classifyFailure(error: unknown, failed: FailedAttempt): DeadVerdict | RetryVerdict {
  const failure = error instanceof Error ? error : new Error(String(error));
  if (failure instanceof PermanentJobError) return dead('permanent_error', failed.jobType, failure);
  const { ran } = failed;
  if (ran && (failed.attempt >= failed.retry.maxAttempts || failed.lastReceive)) return dead('retries_exhausted', failed.jobType, failure);
  const retryAfter = failure instanceof RetryableJobError ? failure.retryAfterSeconds : undefined;
  const delaySeconds = retryDelaySeconds(failed.retry, ran ? failed.attempt : failed.receiveCount, retryAfter, failed.random);
  return { outcome: 'retry', jobType: failed.jobType, error: failure, delaySeconds, ran };
}

/** 1 for the first delivery, from `ApproximateReceiveCount`. */
export function receiveCountOf(record: SQSRecord): number {
  return Number(record.attributes.ApproximateReceiveCount) || 1;
}

/** Whether this receive is the queue's last (`maxReceiveCount`; without one, no receive is known to be the last). */
export function isLastReceive(receiveCount: number, maxReceiveCount: number | undefined): boolean {
  return maxReceiveCount !== undefined && receiveCount >= maxReceiveCount;
}

/**
 * On the queue's last receive (`maxReceiveCount`), a record that would come back unprocessed is dead instead
 * (`not_started`, saying why): SQS's own redrive would move it to the DLQ without a reason.
 */
export function deadIfLastReceive(result: RecordResult, maxReceiveCount: number | undefined): RecordResult {
  const { verdict, record } = result;
  const receives = receiveCountOf(record);
  if (verdict.outcome !== 'retry' || verdict.ran || !isLastReceive(receives, maxReceiveCount)) return result;
  const why = `not started on the queue's last receive (${receives} of ${maxReceiveCount}): ${verdict.error.message}`;
  return { ...result, verdict: dead('not_started', verdict.jobType, new JobNotStartedError(why, { cause: verdict.error })) };
}

/** Logs a job's failure as classified: errors for dead jobs, a warning for a retry. */
export function logFailure(logger: Logger, verdict: DeadVerdict | RetryVerdict, maxAttempts: number): void {
  if (verdict.outcome === 'retry') {
    const message = verdict.ran ? 'job failed, will retry' : 'job not started, will retry';
    logger.warn(message, { error: verdict.error.message, delaySeconds: verdict.delaySeconds });
  } else if (verdict.reason === 'permanent_error') {
    logger.error('job failed permanently', { error: verdict.error });
  } else {
    logger.error('job failed its last attempt', { error: verdict.error, maxAttempts });
  }
}
