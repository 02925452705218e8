import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbIdempotencyStore } from '../../functions/runtime/dynamodb-idempotency-store.ts';
import type { IdempotencyStore } from '../../functions/runtime/idempotency-store.ts';
import { startDynalite, type LocalDynamo } from '../support/dynalite.ts';

describe('DynamoDB idempotency store (on dynalite)', () => {
  let dynamo: LocalDynamo;
  let clock = 1_800_000_000_000;
  let store: IdempotencyStore;

  beforeAll(async () => {
    dynamo = await startDynalite();
    await dynamo.createTable('idempotency');
    store = createDynamoDbIdempotencyStore({ tableName: 'idempotency', client: dynamo.client, now: () => clock });
  });
  afterAll(() => dynamo.close());

  it('gives the lease to the first delivery of a job', async () => {
    expect(await store.begin('job-a', 30_000)).toBe('started');
  });

  it('tells a concurrent delivery that the job is in progress', async () => {
    await store.begin('job-b', 30_000);
    expect(await store.begin('job-b', 30_000)).toBe('in_progress');
  });

  it('lets only one of many concurrent deliveries take the lease', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => store.begin('job-c', 30_000)));
    expect(results.filter((r) => r === 'started')).toHaveLength(1);
  });

  it('reports a completed job as completed', async () => {
    await store.begin('job-d', 30_000);
    await store.complete('job-d', 3600);
    expect(await store.begin('job-d', 30_000)).toBe('completed');
  });

  it('lets a retry run the job after a failed delivery released its lease', async () => {
    await store.begin('job-e', 30_000);
    await store.release('job-e');
    expect(await store.begin('job-e', 30_000)).toBe('started');
  });

  it('never releases a completed job', async () => {
    await store.begin('job-f', 30_000);
    await store.complete('job-f', 3600);
    await store.release('job-f');
    expect(await store.begin('job-f', 30_000)).toBe('completed');
  });

  it('takes over a lease that expired (its holder died), checked in code since dynalite has no TTL', async () => {
    await store.begin('job-g', 1_000);
    clock += 5_000;
    expect(await store.begin('job-g', 1_000)).toBe('started');
  });

  it('forgets a completion after its TTL', async () => {
    await store.begin('job-h', 1_000);
    await store.complete('job-h', 60);
    clock += 120_000;
    expect(await store.begin('job-h', 1_000)).toBe('started');
  });
});
