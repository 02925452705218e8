/**
 * The failed-runs ledger: how often a message's handler ran and failed, so a job's attempt number counts runs, not SQS
 * receives (a receive that returned the record unprocessed is no attempt). Kept in the idempotency table, item
 * `attempts#<messageId>` with `failedRuns` and the table's TTL `expiresAt`; read once per batch (BatchGetItem, only
 * records received before), counted once per failed run (UpdateItem ADD).
 */
import { dynamoDbCall, type DynamoDbCall, type LoadDynamoDb } from './dynamodb-idempotency-store.ts';

/** The key prefix of ledger items (the stack's grant is limited to it). */
export const ATTEMPTS_KEY_PREFIX = 'attempts#';
/** How long a count is kept: SQS's longest retention (14 days). */
const LEDGER_TTL_SECONDS = 14 * 86_400;
/** BatchGetItem's limit of keys per call. */
const MAX_KEYS_PER_READ = 100;

/** Counts failed runs per SQS message. */
export interface AttemptLedger {
  /** Failed runs of each message read; a message whose count could not be read is absent. Never rejects. */
  failedRuns(messageIds: readonly string[]): Promise<Map<string, number>>;
  /** Counts one failed run of the message. Rejects when it could not be recorded. */
  recordFailedRun(messageId: string): Promise<void>;
}

const key = (messageId: string) => ({ id: { S: `${ATTEMPTS_KEY_PREFIX}${messageId}` } });

/** The failed runs of up to {@link MAX_KEYS_PER_READ} messages; one whose key came back unprocessed is left out. */
async function readSome(
  { sdk, client, abortSignal }: DynamoDbCall,
  tableName: string,
  messageIds: readonly string[],
): Promise<[string, number][]> {
  const output = await client.send(
    new sdk.BatchGetItemCommand({
      RequestItems: {
        [tableName]: {
          Keys: messageIds.map(key),
          ConsistentRead: true,
          ProjectionExpression: '#id, #runs',
          ExpressionAttributeNames: { '#id': 'id', '#runs': 'failedRuns' },
        },
      },
    }),
    { abortSignal },
  );
  const unread = new Set((output.UnprocessedKeys?.[tableName]?.Keys ?? []).map((item) => item.id?.S));
  const found = new Map((output.Responses?.[tableName] ?? []).map((item) => [item.id?.S, Number(item.failedRuns?.N ?? 0)]));
  return messageIds.flatMap((messageId): [string, number][] => {
    const id = key(messageId).id.S;
    return unread.has(id) ? [] : [[messageId, found.get(id) ?? 0]];
  });
}

/** The ledger on the idempotency table `tableName`. */
export function createDynamoDbAttemptLedger(options: { tableName: string; dynamo: LoadDynamoDb; now?: () => number }): AttemptLedger {
  const { tableName, dynamo } = options;
  const now = options.now ?? Date.now;
  const call = <T>(send: (api: DynamoDbCall) => Promise<T>): Promise<T> => dynamoDbCall(dynamo, 'the failed-runs ledger', send);
  return {
    async failedRuns(messageIds) {
      const reads: Promise<[string, number][]>[] = [];
      for (let at = 0; at < messageIds.length; at += MAX_KEYS_PER_READ) {
        reads.push(call((api) => readSome(api, tableName, messageIds.slice(at, at + MAX_KEYS_PER_READ))).catch(() => []));
      }
      return new Map((await Promise.all(reads)).flat());
    },
    async recordFailedRun(messageId) {
      const expires = String(Math.ceil(now() / 1000) + LEDGER_TTL_SECONDS);
      const update = {
        TableName: tableName,
        Key: key(messageId),
        UpdateExpression: 'ADD failedRuns :one SET expiresAt = :expires',
        ExpressionAttributeValues: { ':one': { N: '1' }, ':expires': { N: expires } },
      };
      await call(({ sdk, client, abortSignal }) => client.send(new sdk.UpdateItemCommand(update), { abortSignal }));
    },
  };
}
