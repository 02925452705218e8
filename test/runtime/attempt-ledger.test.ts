import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbAttemptLedger, type AttemptLedger } from '../../functions/runtime/attempt-ledger.ts';
import { dynamoDbLoader } from '../../functions/runtime/dynamodb-idempotency-store.ts';
import { startDynalite, type LocalDynamo } from '../support/dynalite.ts';

const NOW = 1_800_000_000_000;

describe('the failed-runs ledger (on dynalite, in the idempotency table)', () => {
  let dynamo: LocalDynamo;
  let ledger: AttemptLedger;

  beforeAll(async () => {
    dynamo = await startDynalite();
    await dynamo.createTable('idempotency');
    ledger = createDynamoDbAttemptLedger({ tableName: 'idempotency', dynamo: dynamoDbLoader(dynamo.client), now: () => NOW });
  });
  afterAll(() => dynamo.close());

  it('reads no failed runs for a message it never counted', async () => {
    expect(await ledger.failedRuns(['never-failed'])).toEqual(new Map([['never-failed', 0]]));
  });

  it('counts each failed run of a message', async () => {
    await ledger.recordFailedRun('m-1');
    await ledger.recordFailedRun('m-1');
    await ledger.recordFailedRun('m-2');
    expect(await ledger.failedRuns(['m-1', 'm-2', 'm-3'])).toEqual(
      new Map([
        ['m-1', 2],
        ['m-2', 1],
        ['m-3', 0],
      ]),
    );
  });

  it('counts concurrent failed runs without losing one', async () => {
    await Promise.all(Array.from({ length: 10 }, () => ledger.recordFailedRun('m-4')));
    expect((await ledger.failedRuns(['m-4'])).get('m-4')).toBe(10);
  });

  it("keeps its items apart from the idempotency records, under the key prefix, with the table's TTL", async () => {
    await ledger.recordFailedRun('m-5');
    const { Item } = await dynamo.client.send(new GetItemCommand({ TableName: 'idempotency', Key: { id: { S: 'attempts#m-5' } } }));
    expect(Item).toEqual({ id: { S: 'attempts#m-5' }, failedRuns: { N: '1' }, expiresAt: { N: String(NOW / 1000 + 14 * 86_400) } });
  });

  it('reads more messages than one BatchGetItem call takes', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `many-${i}`);
    await ledger.recordFailedRun('many-149');
    const counts = await ledger.failedRuns(ids);
    expect(counts.size).toBe(150);
    expect(counts.get('many-149')).toBe(1);
  });

  it('answers nothing, without rejecting, when the table cannot be read, and rejects a count it cannot write', async () => {
    const missing = createDynamoDbAttemptLedger({ tableName: 'no-such-table', dynamo: dynamoDbLoader(dynamo.client) });
    expect(await missing.failedRuns(['m-1'])).toEqual(new Map());
    await expect(missing.recordFailedRun('m-1')).rejects.toThrow(/no-such-table|not found|ResourceNotFound/i);
  });
});
