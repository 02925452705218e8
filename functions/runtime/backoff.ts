/** Retry delays: exponential backoff with (by default) full jitter, as AWS's "Exponential Backoff And Jitter" recommends. */
import { MAX_VISIBILITY_SECONDS, type RetryPolicy } from './job.ts';

/** The un-jittered delay after `attempt` failed attempts: base x 2^(attempt-1), capped. */
export function exponentialDelaySeconds(policy: RetryPolicy, attempt: number): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  return Math.min(policy.maxDelaySeconds, policy.baseDelaySeconds * 2 ** exponent);
}

/**
 * The delay in whole seconds after attempt `attempt` (1-based) failed, within SQS's 12 hours: full jitter draws from
 * [0, exponential delay]; `retryAfterSeconds` (a peer's `Retry-After`) wins when given.
 */
export function retryDelaySeconds(
  policy: RetryPolicy,
  attempt: number,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds)) {
    return Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(retryAfterSeconds)));
  }
  const ceiling = exponentialDelaySeconds(policy, attempt);
  const delay = policy.jitter === 'full' ? random() * ceiling : ceiling;
  return Math.min(MAX_VISIBILITY_SECONDS, Math.round(delay));
}
