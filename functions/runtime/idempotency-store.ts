/** The contract between the batch processor and the store that remembers completed jobs (on DynamoDB: `dynamodb-idempotency-store.ts`). */

/**
 * What {@link IdempotencyStore.begin} found: `started` (the caller now holds the lease and must `complete` or
 * `release` it), `completed` (within its TTL: acknowledge without running again) or `in_progress` (another delivery
 * holds an unexpired lease: retry later).
 */
export type BeginResult = 'started' | 'completed' | 'in_progress';

/** Remembers which jobs ran, so a redelivered or concurrently delivered job runs its side effect once. */
export interface IdempotencyStore {
  /** Takes a lease on `key` for `leaseMs` (a conditional write), unless the job completed or is leased. */
  begin(key: string, leaseMs: number): Promise<BeginResult>;
  /** Marks `key` completed, remembered for `ttlSeconds`. */
  complete(key: string, ttlSeconds: number): Promise<void>;
  /** Drops the lease after a failure, so a retry may run the job. */
  release(key: string): Promise<void>;
}
