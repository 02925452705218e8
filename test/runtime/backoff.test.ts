import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_POLICY,
  exponentialDelaySeconds,
  MAX_VISIBILITY_SECONDS,
  retryDelaySeconds,
  type RetryPolicy,
} from '../../functions/runtime/job.ts';

const policy: RetryPolicy = { maxAttempts: 8, baseDelaySeconds: 10, maxDelaySeconds: 300, jitter: 'none' };

describe('retry backoff', () => {
  it('doubles the delay with every failed attempt, starting at the base delay', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelaySeconds(policy, attempt))).toEqual([10, 20, 40, 80]);
  });

  it('never exceeds the policy cap', () => {
    expect(retryDelaySeconds(policy, 30)).toBe(300);
    expect(exponentialDelaySeconds(policy, 1000)).toBe(300);
  });

  it('with full jitter draws from zero up to the exponential delay', () => {
    const jittered: RetryPolicy = { ...policy, jitter: 'full' };
    expect(retryDelaySeconds(jittered, 3, undefined, () => 0)).toBe(0);
    expect(retryDelaySeconds(jittered, 3, undefined, () => 0.5)).toBe(20);
    expect(retryDelaySeconds(jittered, 3, undefined, () => 0.999_999)).toBe(40);
  });

  it("lets a peer's Retry-After win over the computed delay", () => {
    expect(retryDelaySeconds(policy, 1, 120)).toBe(120);
  });

  it('keeps a Retry-After within the 12 hours SQS allows', () => {
    expect(retryDelaySeconds(policy, 1, 10 * 86_400)).toBe(MAX_VISIBILITY_SECONDS);
  });

  it('defaults to full jitter', () => {
    expect(DEFAULT_RETRY_POLICY.jitter).toBe('full');
  });
});
