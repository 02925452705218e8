import { describe, expect, it } from 'vitest';
import { JobTimeoutError, PermanentJobError, RetryableJobError } from '../../../functions/runtime/errors.ts';
import type { RetryPolicy } from '../../../functions/runtime/job.ts';
import { classifyFailure, dead, notStarted, retryUnsent } from '../../../functions/runtime/verdict.ts';
import { sqsRecord } from '../../support/lambda.ts';

const retry: RetryPolicy = { maxAttempts: 3, baseDelaySeconds: 10, maxDelaySeconds: 100, jitter: 'none' };
const attempt = (n: number) => ({ jobType: 'test-job', retry, attempt: n, random: () => 0.5 });

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
    expect(retried).toEqual({ outcome: 'retry', jobType: 'unknown', error: original.error, delaySeconds: undefined });
    expect(original.outcome).toBe('dead');
  });

  it('retries a record that was never started at once, with no start time', () => {
    const record = sqsRecord('{}');
    const result = notStarted(record);
    expect(result).toMatchObject({ record, startedAt: undefined, durationMs: 0, verdict: { outcome: 'retry', delaySeconds: 0 } });
    expect(result.verdict.outcome === 'retry' && result.verdict.error).toBeInstanceOf(JobTimeoutError);
  });
});
