/**
 * Found by the fault-injection run: after a sandbox reload, the first idempotent job of a cold sandbox could
 * spend its whole timeout taking its lease (the DynamoDB SDK loads on first use). The timeout aborted the
 * wait, but the conditional write still went through afterwards, and nothing released that lease: every
 * redelivery within the lease's lifetime saw `in_progress`, and with a short retry policy the job was
 * dead-lettered as `retries_exhausted` without ever having run. Since then the job's clock starts after the
 * lease, and only the invocation's deadline can abort the wait for it; a lease that lands after that abort is
 * still given back.
 *
 * Real DynamoDB store on dynalite; the store's first call is delayed past the job's timeout (as a cold SDK
 * load is); SQS calls recorded (the processor's decisions are what is checked).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { createDynamoDbIdempotencyStore, dynamoDbLoader } from '../../functions/runtime/dynamodb-idempotency-store.ts';
import type { IdempotencyStore } from '../../functions/runtime/run-job.ts';
import { defineJob, type JobDefinition } from '../../functions/runtime/job.ts';
import { createBatchProcessor } from '../../functions/runtime/processor.ts';
import { startDynalite, type LocalDynamo } from '../support/dynalite.ts';
import { job, lambdaContext, sqsEvent, sqsRecord } from '../support/lambda.ts';
import { recordedSqsActions, recordingMetrics } from '../support/recorders.ts';

const TABLE = 'late-lease-idempotency';
const JOB_TIMEOUT_MS = 50;
const SLOW_FIRST_CALL_MS = 300;

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
  await dynamo.createTable(TABLE);
});
afterAll(async () => {
  await dynamo?.close();
});

/** The real store, whose first `begin` takes {@link SLOW_FIRST_CALL_MS} before it writes (a cold SDK load). */
function slowFirstCallStore(): IdempotencyStore & { settled: Promise<void> } {
  const store = createDynamoDbIdempotencyStore({ tableName: TABLE, dynamo: dynamoDbLoader(dynamo.client) });
  let first = true;
  const { promise: settled, resolve: settle } = Promise.withResolvers<void>();
  return {
    settled,
    async begin(key, leaseMs) {
      if (!first) return store.begin(key, leaseMs);
      first = false;
      await sleep(SLOW_FIRST_CALL_MS);
      try {
        return await store.begin(key, leaseMs);
      } finally {
        settle();
      }
    },
    complete: (key, ttl) => store.complete(key, ttl),
    release: (key) => store.release(key),
  };
}

describe('an idempotency lease taken after the job timed out', () => {
  it('is released, so the next delivery runs the job', async () => {
    const runs: string[] = [];
    const once = defineJob({
      type: 'late-lease-job',
      schema: z.object({ id: z.string() }),
      timeoutMs: JOB_TIMEOUT_MS,
      idempotency: true,
      retry: { maxAttempts: 4, baseDelaySeconds: 1, maxDelaySeconds: 2, jitter: 'none' },
      handler: async ({ id }) => void runs.push(id),
    });
    const store = slowFirstCallStore();
    const processBatch = createBatchProcessor({
      findJob: (type) => (type === once.type ? (once as JobDefinition) : undefined),
      metrics: recordingMetrics(),
      deadLetterQueueUrl: 'http://127.0.0.1:1/000000000000/late-lease-dlq',
      queueUrl: 'http://127.0.0.1:1/000000000000/late-lease',
      sqs: recordedSqsActions(),
      idempotencyStore: store,
    });
    const body = job(once.type, { id: 'x' }, { jobId: 'job-late-lease' });

    // 200 ms left in the invocation: its deadline (less the margin) falls while the lease is being taken.
    const first = await processBatch(sqsEvent([sqsRecord(body, { messageId: 'm', receiveCount: 1 })]), lambdaContext(200));
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm' }]);
    // The write the deadline gave up on lands now; then (as SQS would after the backoff) the message comes back.
    await store.settled;
    await sleep(50);
    const second = await processBatch(sqsEvent([sqsRecord(body, { messageId: 'm', receiveCount: 2 })]), lambdaContext());

    expect(second.batchItemFailures).toEqual([]);
    expect(runs).toEqual(['x']);
  });
});

describe('a slow idempotency lease', () => {
  it("does not count against the job's own timeout", async () => {
    const runs: string[] = [];
    const once = defineJob({
      type: 'slow-lease-job',
      schema: z.object({ id: z.string() }),
      timeoutMs: JOB_TIMEOUT_MS,
      idempotency: true,
      handler: async ({ id }) => void runs.push(id),
    });
    const processBatch = createBatchProcessor({
      findJob: (type) => (type === once.type ? (once as JobDefinition) : undefined),
      metrics: recordingMetrics(),
      deadLetterQueueUrl: 'http://127.0.0.1:1/000000000000/slow-lease-dlq',
      sqs: recordedSqsActions(),
      idempotencyStore: slowFirstCallStore(),
    });
    const response = await processBatch(sqsEvent([sqsRecord(job(once.type, { id: 'y' }, { jobId: 'job-slow-lease' }))]), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    expect(runs).toEqual(['y']);
  });
});
