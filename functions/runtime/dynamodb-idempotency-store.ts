/**
 * {@link IdempotencyStore} on a DynamoDB table (partition key `id`, TTL attribute `expiresAt` in epoch seconds),
 * created by the stack. One conditional write takes the lease, so two concurrent deliveries never both run a job.
 * Not Powertools' Idempotency utility: it memoises a function's result and surfaces a concurrent run as an exception,
 * where the processor needs three explicit steps (lease, complete, release) and a client loaded on first use.
 * Expiry is checked in the condition too: DynamoDB's TTL deletes lazily (days later), and dynalite has no TTL.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadedOnce } from './remembered.ts';
import type { BeginResult, IdempotencyStore } from './run-job.ts';

/** The DynamoDB SDK and the sandbox's one client, and their loader. */
export type DynamoDb = { readonly sdk: typeof import('@aws-sdk/client-dynamodb'); readonly client: DynamoDBClient };
export type LoadDynamoDb = () => Promise<DynamoDb>;

/** Longest the worker waits for one DynamoDB call, the SDK's retries included. */
export const DYNAMODB_WAIT_MS = 2_000;

/**
 * Longest one DynamoDB request may take (`requestTimeout`; `throwOnRequestTimeout`, or the SDK only warns and waits on):
 * half the wait, so a request that stalls (a connection that died while the sandbox was frozen) is retried inside it.
 */
const DYNAMODB_REQUEST_TIMEOUT_MS = DYNAMODB_WAIT_MS / 2;

/** A DynamoDB call that did not answer within {@link DYNAMODB_WAIT_MS}. */
export class DynamoDbTimeoutError extends Error {
  override readonly name: string = 'DynamoDbTimeoutError';
}

/** The loaded SDK and client, and the signal that ends this call's requests when the worker stops waiting for it. */
export type DynamoDbCall = DynamoDb & { readonly abortSignal: AbortSignal };

/**
 * Makes one DynamoDB call of `what` (the store, the ledger) on the loaded SDK; it rejects with a
 * {@link DynamoDbTimeoutError} after {@link DYNAMODB_WAIT_MS}: a store that stops answering must not hold an invocation
 * past its deadline (its batch would come back after the job's lease expired, and a completed job could run again).
 * Then its requests are aborted: the SDK sends no retry of a call the worker gave up on (a lease taken then would be
 * held by nobody until it expired).
 */
export async function dynamoDbCall<T>(dynamo: LoadDynamoDb, what: string, call: (api: DynamoDbCall) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const task = call({ ...(await dynamo()), abortSignal: abort.signal });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new DynamoDbTimeoutError(`${what} did not answer within ${DYNAMODB_WAIT_MS} ms`));
      abort.abort();
    }, DYNAMODB_WAIT_MS);
  });
  return Promise.race([task, timeout]).finally(() => clearTimeout(timer));
}

/** Loads the SDK and creates `client` (default: the SDK's standard configuration, bounded requests) once, on first use. */
export function dynamoDbLoader(client?: DynamoDBClient): LoadDynamoDb {
  return loadedOnce(() =>
    import('@aws-sdk/client-dynamodb').then((sdk) => ({
      sdk,
      client:
        client ?? new sdk.DynamoDBClient({ requestHandler: { requestTimeout: DYNAMODB_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true } }),
    })),
  );
}

/** Epoch seconds (DynamoDB's TTL unit) of a time in ms, as a DynamoDB number. */
function seconds(ms: number): { N: string } {
  return { N: String(Math.ceil(ms / 1000)) };
}

/** A conditional write as a call that resolves whether it was made: false when its condition failed; rejects with any other error. */
function conditionally(write: (api: DynamoDbCall) => Promise<unknown>): (api: DynamoDbCall) => Promise<boolean> {
  return (api) =>
    write(api).then(
      () => true,
      (error: unknown) => {
        if (error instanceof api.sdk.ConditionalCheckFailedException) return false;
        throw error;
      },
    );
}

const idKey = (key: string) => ({ id: { S: key } });

/** Options of {@link createDynamoDbIdempotencyStore}: the table (`IDEMPOTENCY_TABLE`), the client's loader (default {@link dynamoDbLoader}), a clock. */
export interface DynamoDbIdempotencyStoreOptions {
  readonly tableName: string;
  readonly dynamo?: LoadDynamoDb;
  readonly now?: () => number;
}

/** Creates the store. Nothing is loaded or connected until the first idempotent job runs. */
export function createDynamoDbIdempotencyStore(options: DynamoDbIdempotencyStoreOptions): IdempotencyStore {
  const { tableName: TableName } = options;
  const now = options.now ?? Date.now;
  const dynamo = options.dynamo ?? dynamoDbLoader();
  const call = <T>(send: (api: DynamoDbCall) => Promise<T>): Promise<T> => dynamoDbCall(dynamo, 'the idempotency store', send);
  return {
    async begin(key: string, leaseMs: number): Promise<BeginResult> {
      const at = now();
      const Item = { ...idKey(key), status: { S: 'in_progress' }, expiresAt: seconds(at + leaseMs) };
      const ConditionExpression = 'attribute_not_exists(id) OR expiresAt < :now';
      const lease = { TableName, Item, ConditionExpression, ExpressionAttributeValues: { ':now': seconds(at) } };
      const leased = await call(
        conditionally(({ sdk, client, abortSignal }) => client.send(new sdk.PutItemCommand(lease), { abortSignal })),
      );
      if (leased) return 'started';
      const existing = await call(({ sdk, client, abortSignal }) =>
        client.send(new sdk.GetItemCommand({ TableName, Key: idKey(key), ConsistentRead: true }), { abortSignal }),
      );
      // Gone between the two calls (released by a failed run): let the retry take the lease.
      return existing.Item?.status?.S === 'completed' ? 'completed' : 'in_progress';
    },
    async complete(key: string, ttlSeconds: number): Promise<void> {
      const Item = { ...idKey(key), status: { S: 'completed' }, expiresAt: seconds(now() + ttlSeconds * 1000) };
      await call(({ sdk, client, abortSignal }) => client.send(new sdk.PutItemCommand({ TableName, Item }), { abortSignal }));
    },
    async release(key: string): Promise<void> {
      const release = {
        TableName,
        Key: idKey(key),
        ConditionExpression: '#status = :inProgress',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':inProgress': { S: 'in_progress' } },
      };
      await call(conditionally(({ sdk, client, abortSignal }) => client.send(new sdk.DeleteItemCommand(release), { abortSignal })));
    },
  };
}
