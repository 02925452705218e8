import { describe, expect, it } from 'vitest';
import { JobTimeoutError, PermanentJobError, RetryableJobError } from '../../../functions/runtime/errors.ts';
import type { RetryPolicy } from '../../../functions/runtime/job.ts';
import { classifyFailure, dead, deadIfLastReceive, notStarted, retryUnsent } from '../../../functions/runtime/verdict.ts';
import { sqsRecord } from '../../support/lambda.ts';

const retry: RetryPolicy = { maxAttempts: 3, baseDelaySeconds: 10, maxDelaySeconds: 100, jitter: 'none' };
const attempt = (n: number, receiveCount = n, lastReceive = false, ran = true) => ({
  jobType: 'test-job',
  retry,
  attempt: n,
  receiveCount,
  lastReceive,
  ran,
  random: () => 0.5,
});

describe('classifying a failed job', () => {
  it('dead-letters a PermanentJobError at once, even on the first attempt', () => {
    const error = new PermanentJobError('the recipient does not exist');
    expect(classifyFailure(error, attempt(1))).toEqual({ outcome: 'dead', reason: 'permanent_error', jobType: 'test-job', error });
  });

  it('dead-letters the last allowed attempt as retries_exhausted, with its error', () => {
    const error = new Error('boom');
    expect(classifyFailure(error, attempt(3))).toEqual({ outcome: 'dead', reason: 'retries_exhausted', jobType: 'test-job', error });
  });

  it('retries an ordinary error with the exponential backoff for its attempt', () => {
    expect(classifyFailure(new Error('boom'), attempt(2))).toMatchObject({ outcome: 'retry', delaySeconds: 20 });
  });

  it("retries after the job's own retryAfterSeconds when it gave one", () => {
    const error = new RetryableJobError('slow down', { retryAfterSeconds: 77 });
    expect(classifyFailure(error, attempt(1))).toMatchObject({ outcome: 'retry', delaySeconds: 77, error });
  });

  it('draws the delay from the random source when the policy has full jitter', () => {
    const jittered = { ...attempt(2), retry: { ...retry, jitter: 'full' as const }, random: () => 0.25 };
    expect(classifyFailure(new Error('boom'), jittered)).toMatchObject({ delaySeconds: 5 });
  });

  it("dead-letters a failed run on the queue's last receive as retries_exhausted, though attempts remain", () => {
    const error = new Error('boom');
    expect(classifyFailure(error, attempt(2, 8, true))).toEqual({
      outcome: 'dead',
      reason: 'retries_exhausted',
      jobType: 'test-job',
      error,
    });
  });

  it('retries a job that did not run on its last allowed attempt, as no attempt, backing off by its receive count', () => {
    const error = new RetryableJobError('the same job is running in another delivery');
    expect(classifyFailure(error, attempt(3, 4, false, false))).toEqual({
      outcome: 'retry',
      jobType: 'test-job',
      error,
      delaySeconds: 80,
      ran: false,
    });
  });

  it('marks the retry of a failed run as a run', () => {
    expect(classifyFailure(new Error('boom'), attempt(1))).toMatchObject({ outcome: 'retry', ran: true });
  });

  it('wraps a thrown value that is not an Error, so the dead letter still says what it was', () => {
    const verdict = classifyFailure('just a string', attempt(1));
    expect(verdict.error).toBeInstanceOf(Error);
    expect(verdict.error.message).toBe('just a string');
  });
});

describe('verdicts that later stages derive', () => {
  it('turns a dead letter that could not be sent into a retry without a delay, as a new verdict', () => {
    const original = dead('invalid_json', 'unknown', new Error('not JSON'));
    const retried = retryUnsent(original);
    expect(retried).toEqual({ outcome: 'retry', jobType: 'unknown', error: original.error, delaySeconds: undefined, ran: false });
    expect(original.outcome).toBe('dead');
  });

  it('retries a record that was never started at once, with no start time', () => {
    const record = sqsRecord('{}');
    const result = notStarted(record);
    expect(result).toMatchObject({ record, startedAt: undefined, durationMs: 0, verdict: { outcome: 'retry', delaySeconds: 0 } });
    expect(result.verdict.outcome === 'retry' && result.verdict.error).toBeInstanceOf(JobTimeoutError);
  });
});

const cut = (receiveCount: number) =>
  notStarted(sqsRecord('{}', { receiveCount }), new JobTimeoutError('not started before the invocation deadline'));

describe("a record that did not run, on the queue's last receive", () => {
  it('is dead with reason not_started and an error saying why, instead of reason-less redrive by SQS', () => {
    const result = deadIfLastReceive(cut(10), 10);
    expect(result.verdict).toMatchObject({ outcome: 'dead', reason: 'not_started' });
    expect(result.verdict.outcome === 'dead' && result.verdict.error.message).toBe(
      "not started on the queue's last receive (10 of 10): not started before the invocation deadline",
    );
  });

  it('is still retried before the last receive', () => {
    const result = cut(9);
    expect(deadIfLastReceive(result, 10)).toBe(result);
  });

  it('is left to SQS when the queue does not say its receive count', () => {
    const result = cut(10);
    expect(deadIfLastReceive(result, undefined)).toBe(result);
  });

  it('leaves a failed run to the retry decision', () => {
    const result = {
      ...cut(10),
      verdict: { outcome: 'retry' as const, jobType: 'test-job', error: new Error('boom'), delaySeconds: 1, ran: true },
    };
    expect(deadIfLastReceive(result, 10)).toBe(result);
  });
});
