/**
 * The verdict on one record, and the one decision about a job that failed: dead-letter it (a permanent error, or
 * its last allowed attempt) or retry it after its backoff. Verdicts are values: a later stage that changes one
 * (a dead letter that could not be sent) returns a new verdict, it never edits the old one.
 */
import type { SQSRecord } from 'aws-lambda';
import { retryDelaySeconds } from './backoff.ts';
import { JobTimeoutError, PermanentJobError, RetryableJobError } from './errors.ts';
import type { RetryPolicy } from './job.ts';
import type { Logger } from './logger.ts';
import { UNKNOWN_JOB_TYPE, type DeadReason } from './metric-names.ts';

/** Done: Lambda deletes the message (`duplicate`: an idempotent job that had already completed). */
export interface DoneVerdict {
  readonly outcome: 'success' | 'duplicate';
  readonly jobType: string;
}

/** Returned in `batchItemFailures`, so SQS delivers the message again. */
export interface RetryVerdict {
  readonly outcome: 'retry';
  readonly jobType: string;
  readonly error: Error;
  /** Backoff before the next attempt, set as the message's visibility; undefined leaves the queue's own timeout. */
  readonly delaySeconds: number | undefined;
}

/** Sent to the dead-letter queue with its reason, and not returned as a failure. */
export interface DeadVerdict {
  readonly outcome: 'dead';
  readonly jobType: string;
  readonly reason: DeadReason;
  readonly error: Error;
}

/** What happens to one record. */
export type Verdict = DoneVerdict | RetryVerdict | DeadVerdict;

/** A record's verdict with what settling, metrics and logs need to know about it. */
export interface RecordResult {
  readonly record: SQSRecord;
  readonly verdict: Verdict;
  /** The producer's job id, when the message has one (every log line about the record carries it). */
  readonly jobId: string | undefined;
  /** When processing of the record began (ms since epoch); undefined when it was never started. */
  readonly startedAt: number | undefined;
  /** Milliseconds from the start of the record's processing to its verdict. */
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
  return {
    record,
    verdict: { outcome: 'retry', jobType: UNKNOWN_JOB_TYPE, error, delaySeconds: 0 },
    jobId: undefined,
    startedAt: undefined,
    durationMs: 0,
  };
}

/** A dead verdict whose dead letter could not be sent: retried after the queue's visibility timeout instead. */
export function retryUnsent(verdict: DeadVerdict): RetryVerdict {
  return { outcome: 'retry', jobType: verdict.jobType, error: verdict.error, delaySeconds: undefined };
}

/** How one failed attempt of a job is judged. */
export interface FailedAttempt {
  readonly jobType: string;
  readonly retry: RetryPolicy;
  /** 1 for the first delivery. */
  readonly attempt: number;
  /** Random source for the backoff's jitter. */
  readonly random: () => number;
}

/**
 * Classifies a job's failure: a {@link PermanentJobError} is dead (`permanent_error`); the last allowed attempt
 * is dead (`retries_exhausted`); anything else is retried after its backoff, or after the job's own
 * `retryAfterSeconds` when it gave one.
 */
export function classifyFailure(error: unknown, failed: FailedAttempt): DeadVerdict | RetryVerdict {
  const failure = error instanceof Error ? error : new Error(String(error));
  if (failure instanceof PermanentJobError) return dead('permanent_error', failed.jobType, failure);
  if (failed.attempt >= failed.retry.maxAttempts) return dead('retries_exhausted', failed.jobType, failure);
  const retryAfter = failure instanceof RetryableJobError ? failure.retryAfterSeconds : undefined;
  const delaySeconds = retryDelaySeconds(failed.retry, failed.attempt, retryAfter, failed.random);
  return { outcome: 'retry', jobType: failed.jobType, error: failure, delaySeconds };
}

/** Logs a job's failure as classified: errors for dead jobs, a warning for a retry. */
export function logFailure(logger: Logger, verdict: DeadVerdict | RetryVerdict, maxAttempts: number): void {
  if (verdict.outcome === 'retry') {
    logger.warn('job failed, will retry', { error: verdict.error.message, delaySeconds: verdict.delaySeconds });
  } else if (verdict.reason === 'permanent_error') {
    logger.error('job failed permanently', { error: verdict.error });
  } else {
    logger.error('job failed its last attempt', { error: verdict.error, maxAttempts });
  }
}
