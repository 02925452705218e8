/**
 * {@link IdempotencyStore} on a DynamoDB table (partition key `id`, TTL attribute `expiresAt` in epoch
 * seconds), created by the stack. One conditional write takes the lease, so two concurrent deliveries of
 * the same job never both run it.
 *
 * Why not Powertools' Idempotency utility: it memoises a function's *result* keyed by a hash of its
 * event, and surfaces a concurrent run as an exception thrown out of the wrapped function; here the
 * processor needs three explicit steps per record (lease, complete, release) that map onto outcomes
 * (`duplicate`, retry) and a lazily loaded client that keeps DynamoDB off the cold-start path.
 *
 * Expiry is checked in the condition as well as left to DynamoDB's TTL: AWS deletes expired items lazily
 * (up to days later), and the local stand-in (dynalite) has no TTL at all.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { BeginResult, IdempotencyStore } from './idempotency-store.ts';

type DynamoModule = typeof import('@aws-sdk/client-dynamodb');

/** The DynamoDB SDK and the sandbox's one client, loaded on first use. */
export type LoadDynamoDb = () => Promise<{ readonly sdk: DynamoModule; readonly client: DynamoDBClient }>;

/**
 * Longest one DynamoDB request may take (the client's `requestTimeout`, with `throwOnRequestTimeout`: without it the
 * SDK only logs a warning and the request waits on); callers also bound their wait.
 */
export const DYNAMODB_REQUEST_TIMEOUT_MS = 2_000;

/** Longest the worker waits for one DynamoDB call, the SDK's retries included. */
export const DYNAMODB_WAIT_MS = 2_000;

/** A DynamoDB call that did not answer within {@link DYNAMODB_WAIT_MS}. */
export class DynamoDbTimeoutError extends Error {
  override readonly name: string = 'DynamoDbTimeoutError';
}

/**
 * Settles with `task`, or rejects with a {@link DynamoDbTimeoutError} naming `what` once {@link DYNAMODB_WAIT_MS} have
 * passed. Every DynamoDB call of the worker goes through it, so a store that stops answering cannot hold an invocation
 * past its deadline (its batch would come back after the job's lease expired, and a completed job could run again).
 */
export function withinWait<T>(task: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DynamoDbTimeoutError(`${what} did not answer within ${DYNAMODB_WAIT_MS} ms`)), DYNAMODB_WAIT_MS);
  });
  return Promise.race([task, timeout]).finally(() => clearTimeout(timer));
}

/** Loads the SDK and creates `client` (default: the SDK's standard configuration, bounded requests) once, on first use. */
export function dynamoDbLoader(client?: DynamoDBClient): LoadDynamoDb {
  let loaded: ReturnType<LoadDynamoDb> | undefined;
  return () =>
    (loaded ??= import('@aws-sdk/client-dynamodb').then((sdk) => ({
      sdk,
      client:
        client ?? new sdk.DynamoDBClient({ requestHandler: { requestTimeout: DYNAMODB_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true } }),
    })));
}

/** Epoch seconds (DynamoDB's TTL unit) of a time in ms, as a DynamoDB number. */
function seconds(ms: number): string {
  return String(Math.ceil(ms / 1000));
}

/** Options of {@link createDynamoDbIdempotencyStore}. */
export interface DynamoDbIdempotencyStoreOptions {
  /** The table name (`IDEMPOTENCY_TABLE`). */
  readonly tableName: string;
  /** A client to use; default one created on first use with the SDK's standard configuration. */
  readonly client?: DynamoDBClient;
  /** Or the loader of a client shared with the failed-runs ledger. */
  readonly dynamo?: LoadDynamoDb;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

/** Creates the store. Nothing is loaded or connected until the first idempotent job runs. */
export function createDynamoDbIdempotencyStore(options: DynamoDbIdempotencyStoreOptions): IdempotencyStore {
  const { tableName } = options;
  const now = options.now ?? Date.now;
  const dynamo = options.dynamo ?? dynamoDbLoader(options.client);

  return {
    async begin(key: string, leaseMs: number): Promise<BeginResult> {
      const { sdk, client } = await dynamo();
      const at = now();
      try {
        await withinWait(
          client.send(
            new sdk.PutItemCommand({
              TableName: tableName,
              Item: { id: { S: key }, status: { S: 'in_progress' }, expiresAt: { N: seconds(at + leaseMs) } },
              ConditionExpression: 'attribute_not_exists(id) OR expiresAt < :now',
              ExpressionAttributeValues: { ':now': { N: seconds(at) } },
            }),
          ),
          'the idempotency store',
        );
        return 'started';
      } catch (error) {
        if (!(error instanceof sdk.ConditionalCheckFailedException)) throw error;
      }
      const existing = await withinWait(
        client.send(new sdk.GetItemCommand({ TableName: tableName, Key: { id: { S: key } }, ConsistentRead: true })),
        'the idempotency store',
      );
      // Gone between the two calls (released by a failed run): let the retry take the lease.
      if (!existing.Item) return 'in_progress';
      return existing.Item.status?.S === 'completed' ? 'completed' : 'in_progress';
    },
    async complete(key: string, ttlSeconds: number): Promise<void> {
      const { sdk, client } = await dynamo();
      await withinWait(
        client.send(
          new sdk.PutItemCommand({
            TableName: tableName,
            Item: { id: { S: key }, status: { S: 'completed' }, expiresAt: { N: seconds(now() + ttlSeconds * 1000) } },
          }),
        ),
        'the idempotency store',
      );
    },
    async release(key: string): Promise<void> {
      const { sdk, client } = await dynamo();
      try {
        await withinWait(
          client.send(
            new sdk.DeleteItemCommand({
              TableName: tableName,
              Key: { id: { S: key } },
              ConditionExpression: '#status = :inProgress',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':inProgress': { S: 'in_progress' } },
            }),
          ),
          'the idempotency store',
        );
      } catch (error) {
        if (!(error instanceof sdk.ConditionalCheckFailedException)) throw error;
      }
    },
  };
}
