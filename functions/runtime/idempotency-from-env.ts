/**
 * Builds the idempotency store the environment asks for: DynamoDB when `IDEMPOTENCY_TABLE` is set,
 * none otherwise (idempotent jobs then run without deduplication).
 */
import { createDynamoDbIdempotencyStore } from './dynamodb-idempotency-store.ts';
import type { IdempotencyStore } from './idempotency-store.ts';

/** The store for this sandbox, or undefined when `IDEMPOTENCY_TABLE` is not set. */
export function idempotencyStoreFromEnv(env: NodeJS.ProcessEnv): IdempotencyStore | undefined {
  const tableName = env.IDEMPOTENCY_TABLE;
  return tableName ? createDynamoDbIdempotencyStore({ tableName }) : undefined;
}
