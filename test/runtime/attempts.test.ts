/**
 * The processor's decisions about attempts (issue 13): a job's attempt counts runs of its handler (the failed-runs
 * ledger), not SQS receives; a receive that did not run the handler is no attempt; on the queue's last receive a
 * record that did not run goes to the DLQ with reason `not_started`. The ledger and the idempotency store are kept
 * in memory here (test/runtime/attempt-ledger.test.ts runs the ledger on dynalite).
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import type { AttemptLedger } from '../../functions/runtime/attempt-ledger.ts';
import { DEAD_LETTER_ATTRIBUTE } from '../../functions/runtime/dead-letter-attributes.ts';
import type { IdempotencyStore } from '../../functions/runtime/run-job.ts';
import { defineJob, type JobContext, type JobDefinition } from '../../functions/runtime/job.ts';
import { createBatchProcessor, type ProcessorOptions } from '../../functions/runtime/processor.ts';
import { job, lambdaContext, sqsEvent, sqsRecord } from '../support/lambda.ts';
import { recordedSqsActions, recordingMetrics } from '../support/recorders.ts';

const MAX_RECEIVE_COUNT = 8;
const runs: { id: string; attempt: number }[] = [];
const retry = { maxAttempts: 3, baseDelaySeconds: 10, maxDelaySeconds: 1000, jitter: 'none' } as const;
const handler = async ({ id, fail }: { id: string; fail: boolean }, { attempt }: JobContext): Promise<void> => {
  runs.push({ id, attempt });
  if (fail) throw new Error(`boom ${id}`);
};
const schema = z.object({ id: z.string(), fail: z.boolean() });
const plain = defineJob({ type: 'plain-job', schema, retry, handler });
const once = defineJob({ type: 'once-job', schema, retry, idempotency: true, handler });
const hang = defineJob({
  type: 'hang-job',
  schema: z.object({}),
  handler: (_, { signal }) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
});
const jobs: Record<string, JobDefinition> = { [plain.type]: plain, [once.type]: once, [hang.type]: hang };

/** A ledger in memory; `failReads` makes every read fail (answers nothing), `reads` lists what was asked. */
function memoryLedger(initial: Record<string, number> = {}, options: { failReads?: boolean; failWrites?: boolean } = {}) {
  const counts = new Map(Object.entries(initial));
  const reads: string[][] = [];
  const ledger: AttemptLedger = {
    async failedRuns(messageIds) {
      reads.push([...messageIds]);
      return options.failReads ? new Map() : new Map(messageIds.map((id) => [id, counts.get(id) ?? 0]));
    },
    async recordFailedRun(messageId) {
      if (options.failWrites) throw new Error('DynamoDB is unreachable');
      counts.set(messageId, (counts.get(messageId) ?? 0) + 1);
    },
  };
  return { ledger, counts, reads };
}

/** An idempotency store whose lease is held by another delivery, or which cannot be reached. */
function store(begin: 'in_progress' | 'unreachable'): IdempotencyStore {
  return {
    begin: async () => {
      if (begin === 'unreachable') throw new Error('connect ECONNREFUSED 127.0.0.1:8000');
      return 'in_progress';
    },
    complete: async () => undefined,
    release: async () => undefined,
  };
}

function setup(overrides: Partial<ProcessorOptions> = {}) {
  runs.length = 0;
  const sqs = recordedSqsActions();
  const metrics = recordingMetrics();
  const process = createBatchProcessor({
    findJob: (type) => jobs[type],
    metrics,
    deadLetterQueueUrl: 'http://127.0.0.1:1/000000000000/test-default-dlq',
    queueUrl: 'http://127.0.0.1:1/000000000000/test-default',
    queueName: 'default',
    maxReceiveCount: MAX_RECEIVE_COUNT,
    sqs,
    ...overrides,
  });
  return { process, sqs, metrics };
}

const body = (type: string, id: string, fail: boolean) => job(type, { id, fail }, { jobId: id });

describe('attempts counted by the failed-runs ledger', () => {
  it("gives the job its failed runs + 1 as its attempt, not the message's receive count", async () => {
    const { ledger } = memoryLedger({ m1: 1 });
    const { process } = setup({ attemptLedger: ledger });
    await process(sqsEvent([sqsRecord(body('plain-job', 'a', false), { messageId: 'm1', receiveCount: 6 })]), lambdaContext());
    expect(runs).toEqual([{ id: 'a', attempt: 2 }]);
  });

  it('retries a failed run past maxAttempts receives while it has attempts left', async () => {
    const { ledger } = memoryLedger({ m1: 1 });
    const { process, sqs } = setup({ attemptLedger: ledger });
    const response = await process(
      sqsEvent([sqsRecord(body('plain-job', 'a', true), { messageId: 'm1', receiveCount: 5 })]),
      lambdaContext(),
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(sqs.deadLetters).toEqual([]);
    expect(sqs.visibility[0]?.visibilityTimeoutSeconds).toBe(20); // the backoff after attempt 2
  });

  it('dead-letters the failed run of the last allowed attempt as retries_exhausted', async () => {
    const { ledger } = memoryLedger({ m1: 2 });
    const { process, sqs } = setup({ attemptLedger: ledger });
    await process(sqsEvent([sqsRecord(body('plain-job', 'a', true), { messageId: 'm1', receiveCount: 7 })]), lambdaContext());
    expect(sqs.deadLetters[0]?.attributes[DEAD_LETTER_ATTRIBUTE.reason]).toBe('retries_exhausted');
  });

  it('counts every failed run, retried or dead-lettered, and not a successful one', async () => {
    const { ledger, counts } = memoryLedger({ m3: 2 });
    const { process } = setup({ attemptLedger: ledger });
    const records = [
      sqsRecord(body('plain-job', 'a', true), { messageId: 'm1' }),
      sqsRecord(body('plain-job', 'b', false), { messageId: 'm2' }),
      sqsRecord(body('plain-job', 'c', true), { messageId: 'm3', receiveCount: 3 }),
    ];
    await process(sqsEvent(records), lambdaContext());
    expect(Object.fromEntries(counts)).toEqual({ m1: 1, m3: 3 });
  });

  it('reads the ledger once per batch, only for records received before', async () => {
    const { ledger, reads } = memoryLedger();
    const { process } = setup({ attemptLedger: ledger });
    const records = [
      sqsRecord(body('plain-job', 'a', false), { messageId: 'm1' }),
      sqsRecord(body('plain-job', 'b', false), { messageId: 'm2', receiveCount: 2 }),
      sqsRecord(body('plain-job', 'c', false), { messageId: 'm3', receiveCount: 4 }),
    ];
    await process(sqsEvent(records), lambdaContext());
    await process(sqsEvent([sqsRecord(body('plain-job', 'd', false))]), lambdaContext());
    expect(reads).toEqual([['m2', 'm3']]);
  });

  it('dead-letters without running a job that ran maxAttempts times already (its dead letter could not be sent then)', async () => {
    const { ledger } = memoryLedger({ m1: 3 });
    const { process, sqs } = setup({ attemptLedger: ledger });
    await process(sqsEvent([sqsRecord(body('plain-job', 'a', true), { messageId: 'm1', receiveCount: 4 })]), lambdaContext());
    expect(runs).toEqual([]);
    expect(sqs.deadLetters[0]?.attributes).toMatchObject({
      [DEAD_LETTER_ATTRIBUTE.reason]: 'retries_exhausted',
      [DEAD_LETTER_ATTRIBUTE.error]: 'JobNotStartedError: it ran retry.maxAttempts (3) times already',
    });
  });

  it('takes the receive count as the attempt when the ledger cannot be read, so a handler never runs more than maxAttempts times', async () => {
    const { ledger } = memoryLedger({}, { failReads: true });
    const { process } = setup({ attemptLedger: ledger });
    await process(sqsEvent([sqsRecord(body('plain-job', 'a', false), { messageId: 'm1', receiveCount: 2 })]), lambdaContext());
    expect(runs).toEqual([{ id: 'a', attempt: 2 }]);
  });

  it('does not run a job whose failed runs cannot be read once its receive count is past maxAttempts, and retries it', async () => {
    const { ledger, counts } = memoryLedger({}, { failReads: true });
    const { process, sqs } = setup({ attemptLedger: ledger });
    const response = await process(
      sqsEvent([sqsRecord(body('plain-job', 'a', false), { messageId: 'm1', receiveCount: 4 })]),
      lambdaContext(),
    );
    expect(runs).toEqual([]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(sqs.deadLetters).toEqual([]);
    expect(counts.size).toBe(0);
  });

  it('still retries a failed run whose count cannot be written', async () => {
    const { ledger } = memoryLedger({}, { failWrites: true });
    const { process } = setup({ attemptLedger: ledger });
    const response = await process(sqsEvent([sqsRecord(body('plain-job', 'a', true), { messageId: 'm1' })]), lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
  });
});

describe('a receive that did not run the handler is no attempt', () => {
  it.each([
    ['the lease is held by another delivery', 'in_progress'],
    ['the idempotency store cannot be reached', 'unreachable'],
  ] as const)('retries a job on its last allowed attempt when %s, without counting it', async (_, begin) => {
    const { ledger, counts } = memoryLedger({ m1: 2 });
    const { process, sqs } = setup({ attemptLedger: ledger, idempotencyStore: store(begin) });
    const response = await process(
      sqsEvent([sqsRecord(body('once-job', 'a', false), { messageId: 'm1', receiveCount: 4 })]),
      lambdaContext(),
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(sqs.deadLetters).toEqual([]);
    expect(counts.get('m1')).toBe(2);
  });

  it('backs a store failure off by the receive count, so an outage spans several receives', async () => {
    const { ledger } = memoryLedger({ m1: 0 });
    const { process, sqs } = setup({ attemptLedger: ledger, idempotencyStore: store('unreachable') });
    await process(sqsEvent([sqsRecord(body('once-job', 'a', false), { messageId: 'm1', receiveCount: 4 })]), lambdaContext());
    expect(sqs.visibility[0]?.visibilityTimeoutSeconds).toBe(80); // 10 s x 2^(4 - 1)
  });
});

describe("on the queue's last receive", () => {
  it('dead-letters a job whose lease is held elsewhere with reason not_started, its job type and why', async () => {
    const { process, sqs, metrics } = setup({ attemptLedger: memoryLedger({ m1: 1 }).ledger, idempotencyStore: store('in_progress') });
    const record = sqsRecord(body('once-job', 'a', false), { messageId: 'm1', receiveCount: MAX_RECEIVE_COUNT });
    const response = await process(sqsEvent([record]), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    expect(sqs.deadLetters[0]?.attributes).toMatchObject({
      [DEAD_LETTER_ATTRIBUTE.reason]: 'not_started',
      [DEAD_LETTER_ATTRIBUTE.jobType]: 'once-job',
      [DEAD_LETTER_ATTRIBUTE.error]: `JobNotStartedError: not started on the queue's last receive (${MAX_RECEIVE_COUNT} of ${MAX_RECEIVE_COUNT}): the same job is running in another delivery`,
    });
    expect(metrics.records[0]).toMatchObject({ jobType: 'once-job', outcome: 'dead', reason: 'not_started' });
  });

  it('dead-letters a record cut by the invocation deadline with reason not_started, and retries one with receives left', async () => {
    const { process, sqs } = setup({ concurrency: 1, safetyMarginMs: 100 });
    const records = [
      sqsRecord(job('hang-job', {}), { messageId: 'm0' }),
      sqsRecord(body('plain-job', 'b', false), { messageId: 'm1', receiveCount: MAX_RECEIVE_COUNT }),
      sqsRecord(body('plain-job', 'c', false), { messageId: 'm2', receiveCount: 2 }),
    ];
    // 150 ms left, a 100 ms margin: the deadline aborts the hanging job, and the others never start.
    const response = await process(sqsEvent(records), lambdaContext(150));
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['m0', 'm2']);
    expect(sqs.deadLetters.map((letter) => [letter.id, letter.attributes[DEAD_LETTER_ATTRIBUTE.reason]])).toEqual([['m1', 'not_started']]);
    expect(sqs.deadLetters[0]?.attributes[DEAD_LETTER_ATTRIBUTE.jobType]).toBe('plain-job');
  });

  it('dead-letters a FIFO record blocked behind a failed message of its group with reason not_started', async () => {
    const { process, sqs } = setup({ attemptLedger: memoryLedger().ledger });
    const records = [
      sqsRecord(body('plain-job', 'a1', true), { messageId: 'm1', groupId: 'g' }),
      sqsRecord(body('plain-job', 'a2', false), { messageId: 'm2', groupId: 'g', receiveCount: MAX_RECEIVE_COUNT }),
    ];
    const response = await process(sqsEvent(records), lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(sqs.deadLetters[0]?.attributes[DEAD_LETTER_ATTRIBUTE.error]).toMatch(/last receive .*: an earlier message of its group failed/);
  });

  it('dead-letters a failed run as retries_exhausted, though attempts remain', async () => {
    const { process, sqs } = setup({ attemptLedger: memoryLedger({ m1: 0 }).ledger });
    await process(
      sqsEvent([sqsRecord(body('plain-job', 'a', true), { messageId: 'm1', receiveCount: MAX_RECEIVE_COUNT })]),
      lambdaContext(),
    );
    expect(runs).toEqual([{ id: 'a', attempt: 1 }]);
    expect(sqs.deadLetters[0]?.attributes[DEAD_LETTER_ATTRIBUTE.reason]).toBe('retries_exhausted');
  });

  it('leaves the last receive to SQS when the queue does not say its maxReceiveCount', async () => {
    const { process, sqs } = setup({ maxReceiveCount: undefined, idempotencyStore: store('in_progress') });
    const record = sqsRecord(body('once-job', 'a', false), { messageId: 'm1', receiveCount: 2 });
    expect((await process(sqsEvent([record]), lambdaContext())).batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(sqs.deadLetters).toEqual([]);
  });

  it.each([0, 1.5, 1001])('refuses maxReceiveCount %s at init', (maxReceiveCount) => {
    expect(() => setup({ maxReceiveCount })).toThrow(
      /JOB_QUEUE_MAX_RECEIVE_COUNT \(maxReceiveCount\) must be a whole number from 1 to 1000/,
    );
  });
});
