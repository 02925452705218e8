/**
 * Builds what the environment's `IDEMPOTENCY_TABLE` gives a worker: the idempotency store and the failed-runs ledger,
 * sharing one lazily created DynamoDB client; neither without the table (idempotent jobs then run without
 * deduplication, and attempts are counted by SQS receives).
 */
import { createDynamoDbAttemptLedger, type AttemptLedger } from './attempt-ledger.ts';
import { createDynamoDbIdempotencyStore, dynamoDbLoader } from './dynamodb-idempotency-store.ts';
import type { IdempotencyStore } from './idempotency-store.ts';

/** The store and the ledger for this sandbox; both undefined when `IDEMPOTENCY_TABLE` is not set. */
export function idempotencyFromEnv(env: NodeJS.ProcessEnv): { idempotencyStore?: IdempotencyStore; attemptLedger?: AttemptLedger } {
  const tableName = env.IDEMPOTENCY_TABLE;
  if (!tableName) return {};
  const dynamo = dynamoDbLoader();
  return {
    idempotencyStore: createDynamoDbIdempotencyStore({ tableName, dynamo }),
    attemptLedger: createDynamoDbAttemptLedger({ tableName, dynamo }),
  };
}
