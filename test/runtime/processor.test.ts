import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { PermanentJobError, RetryableJobError } from '../../functions/runtime/errors.ts';
import type { BeginResult, IdempotencyStore } from '../../functions/runtime/run-job.ts';
import { defineJob, type JobDefinition } from '../../functions/runtime/job.ts';
import { DEAD_LETTER_ATTRIBUTE } from '../../functions/runtime/dead-letter-attributes.ts';
import { createBatchProcessor, type ProcessorOptions } from '../../functions/runtime/processor.ts';
import { job, lambdaContext, sqsEvent, sqsRecord } from '../support/lambda.ts';
import { recordedSqsActions, recordingMetrics } from '../support/recorders.ts';

const DLQ = 'http://127.0.0.1:1/000000000000/test-default-dlq';
const QUEUE = 'http://127.0.0.1:1/000000000000/test-default';

type Behaviour = 'ok' | 'fail' | 'permanent' | 'retry-after' | 'hang' | 'ignore-abort';
const calls: string[] = [];
const testJob = defineJob({
  type: 'test-job',
  schema: z.object({
    id: z.string(),
    behaviour: z.enum(['ok', 'fail', 'permanent', 'retry-after', 'hang', 'ignore-abort']),
    ms: z.optional(z.number()),
  }),
  retry: { maxAttempts: 3, baseDelaySeconds: 10, maxDelaySeconds: 100, jitter: 'none' },
  timeoutMs: 200,
  handler: async ({ id, behaviour, ms }, { signal }) => {
    calls.push(id);
    if (ms) await new Promise((resolve) => setTimeout(resolve, ms));
    const b: Behaviour = behaviour;
    if (b === 'fail') throw new Error(`boom ${id}`);
    if (b === 'permanent') throw new PermanentJobError('the recipient does not exist');
    if (b === 'retry-after') throw new RetryableJobError('slow down', { retryAfterSeconds: 77 });
    if (b === 'hang') await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    if (b === 'ignore-abort') await new Promise((resolve) => setTimeout(resolve, 60_000).unref());
  },
});
const idempotentJob = defineJob({
  type: 'once-job',
  schema: z.object({ id: z.string() }),
  idempotency: true,
  handler: async ({ id }) => void calls.push(id),
});
const jobs: Record<string, JobDefinition> = {
  [testJob.type]: testJob,
  [idempotentJob.type]: idempotentJob,
};

function setup(overrides: Partial<ProcessorOptions> = {}) {
  calls.length = 0;
  const metrics = recordingMetrics();
  const sqs = recordedSqsActions();
  const process = createBatchProcessor({
    findJob: (type) => jobs[type],
    metrics,
    deadLetterQueueUrl: DLQ,
    queueUrl: QUEUE,
    queueName: 'default',
    sqs,
    ...overrides,
  });
  return { process, metrics, sqs };
}
/** An idempotency store in memory, for the processor's decisions alone. */
function memoryStore(initial: Record<string, BeginResult> = {}): IdempotencyStore & { state: Map<string, string> } {
  const state = new Map<string, string>(Object.entries(initial));
  return {
    state,
    async begin(key) {
      const existing = state.get(key);
      if (existing === 'completed') return 'completed';
      if (existing === 'in_progress' || existing === 'started') return 'in_progress';
      state.set(key, 'in_progress');
      return 'started';
    },
    async complete(key) {
      state.set(key, 'completed');
    },
    async release(key) {
      state.delete(key);
    },
  };
}

const run = (id: string, behaviour: Behaviour, extra: Record<string, unknown> = {}) => job('test-job', { id, behaviour, ...extra });

describe('batch processor (recorded SQS actions, no network)', () => {
  it('acknowledges a successful job: no failure reported, outcome success', async () => {
    const { process, metrics } = setup();
    const response = await process(sqsEvent([sqsRecord(run('a', 'ok'))]), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    expect(metrics.records.map((r) => [r.jobType, r.queue, r.outcome])).toEqual([['test-job', 'default', 'success']]);
  });

  it('returns an ordinary error as a batch item failure and sets the backoff as its visibility', async () => {
    const { process, metrics, sqs } = setup();
    const record = sqsRecord(run('a', 'fail'), { receiveCount: 2 });
    const response = await process(sqsEvent([record]), lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(sqs.visibility).toEqual([{ id: record.messageId, receiptHandle: record.receiptHandle, visibilityTimeoutSeconds: 20 }]);
    expect(metrics.records[0]?.outcome).toBe('retry');
  });

  it("uses the job's Retry-After instead of the computed backoff", async () => {
    const { process, sqs } = setup();
    await process(sqsEvent([sqsRecord(run('a', 'retry-after'))]), lambdaContext());
    expect(sqs.visibility[0]?.visibilityTimeoutSeconds).toBe(77);
  });

  it.each([
    ['invalid JSON', '{"type": "test-job", "payload": ', 'invalid_json'],
    ['a body that is not a job message', '[1, 2, 3]', 'invalid_json'],
    ['a message without a type', JSON.stringify({ payload: {} }), 'invalid_json'],
    ['an unknown job type', JSON.stringify(job('no-such-job', {})), 'unknown_type'],
    ['a payload that fails the schema', JSON.stringify(job('test-job', { id: 1 })), 'invalid_payload'],
    ['a PermanentJobError', JSON.stringify(run('p', 'permanent')), 'permanent_error'],
  ])('sends %s to the dead-letter queue at once, body unchanged, with its reason', async (_, body, reason) => {
    const { process, metrics, sqs } = setup();
    const record = sqsRecord(body, { receiveCount: 1 });
    const response = await process(sqsEvent([record]), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    expect(sqs.deadLetters).toHaveLength(1);
    const [entry] = sqs.deadLetters;
    expect(entry?.body).toBe(body);
    expect(entry?.attributes[DEAD_LETTER_ATTRIBUTE.reason]).toBe(reason);
    expect(entry?.attributes[DEAD_LETTER_ATTRIBUTE.error]).toMatch(/\w/);
    expect(entry?.attributes[DEAD_LETTER_ATTRIBUTE.receiveCount]).toBe('1');
    expect(metrics.records[0]).toMatchObject({ outcome: 'dead', reason });
  });

  it('never uses a message-supplied type as a tag value', async () => {
    const { process, metrics } = setup();
    await process(sqsEvent([sqsRecord(job('user-123-secret', {}))]), lambdaContext());
    expect(metrics.records[0]?.jobType).toBe('unknown');
  });

  it('dead-letters a job whose last allowed attempt fails, with reason retries_exhausted and the last error', async () => {
    const { process, sqs } = setup();
    const response = await process(sqsEvent([sqsRecord(run('a', 'fail'), { receiveCount: 3 })]), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    expect(sqs.deadLetters[0]?.attributes).toMatchObject({ reason: 'retries_exhausted', error: 'Error: boom a' });
  });

  it('falls back to a batch item failure when the dead-letter send fails, so nothing is lost', async () => {
    const { process, metrics } = setup({ sqs: recordedSqsActions({ failDeadLetters: true }) });
    const record = sqsRecord('not json');
    const response = await process(sqsEvent([record]), lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(metrics.records[0]?.outcome).toBe('retry');
  });

  it('still reports a retry as failed when the visibility change fails', async () => {
    const { process } = setup({ sqs: recordedSqsActions({ failVisibility: true }) });
    const record = sqsRecord(run('a', 'fail'));
    expect((await process(sqsEvent([record]), lambdaContext())).batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
  });

  it("keeps one record's failure from changing another's outcome", async () => {
    const { process, metrics } = setup();
    const records = [sqsRecord(run('a', 'ok')), sqsRecord(run('b', 'fail')), sqsRecord('x'), sqsRecord(run('c', 'ok'))];
    const response = await process(sqsEvent(records), lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[1]?.messageId }]);
    expect(metrics.records.map((r) => r.outcome)).toEqual(['success', 'retry', 'dead', 'success']);
  });

  it('returns every record as a failure, without throwing, when everything fails', async () => {
    const { process } = setup();
    const records = Array.from({ length: 10 }, (_, i) => sqsRecord(run(String(i), 'fail')));
    const response = await process(sqsEvent(records), lambdaContext());
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.map((r) => r.messageId));
  });

  it('runs records concurrently but never more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const slow = defineJob({
      type: 'slow',
      schema: z.object({}),
      handler: async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
      },
    });
    const { process } = setup({ findJob: () => slow, concurrency: 3 });
    await process(sqsEvent(Array.from({ length: 12 }, () => sqsRecord(job('slow', {})))), lambdaContext());
    expect(peak).toBe(3);
  });

  it('aborts a job at its timeout and retries it', async () => {
    const { process, metrics } = setup();
    const record = sqsRecord(run('a', 'hang'));
    const response = await process(sqsEvent([record]), lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    expect(metrics.records[0]?.outcome).toBe('retry');
  });

  it('does not wait for a job that ignores its abort signal', async () => {
    const { process } = setup();
    const record = sqsRecord(run('a', 'ignore-abort'));
    const response = await process(sqsEvent([record]), lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
  });

  it("aborts the running job near the invocation's deadline, starts no other, and returns all as failures before Lambda's timeout", async () => {
    const { process } = setup({ concurrency: 1, safetyMarginMs: 100 });
    const records = Array.from({ length: 5 }, (_, i) => sqsRecord(run(String(i), 'hang')));
    // The job's own timeout is 200 ms; the invocation has 150 ms left, so its deadline (minus margin) comes first.
    const context = lambdaContext(150);
    const response = await process(sqsEvent(records), context);
    expect(calls).toEqual(['0']);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.map((r) => r.messageId));
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it('processes each FIFO message group in order and, after a failure, returns the rest of that group unprocessed', async () => {
    const { process } = setup({ concurrency: 2 });
    const records = [
      sqsRecord(run('a1', 'ok'), { groupId: 'a' }),
      sqsRecord(run('b1', 'ok', { ms: 5 }), { groupId: 'b' }),
      sqsRecord(run('a2', 'fail'), { groupId: 'a' }),
      sqsRecord(run('b2', 'ok'), { groupId: 'b' }),
      sqsRecord(run('a3', 'ok'), { groupId: 'a' }),
    ];
    const response = await process(sqsEvent(records), lambdaContext());
    expect(calls.filter((id) => id.startsWith('a'))).toEqual(['a1', 'a2']);
    expect(calls.filter((id) => id.startsWith('b'))).toEqual(['b1', 'b2']);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([records[2]?.messageId, records[4]?.messageId]);
  });

  describe('idempotent jobs (in-memory store)', () => {
    it('acknowledges a job that already completed without running it again (outcome duplicate)', async () => {
      const store = memoryStore({ 'once-job#job-1': 'completed' });
      const { process, metrics } = setup({ idempotencyStore: store });
      const response = await process(sqsEvent([sqsRecord(job('once-job', { id: 'x' }, { jobId: 'job-1' }))]), lambdaContext());
      expect(response.batchItemFailures).toEqual([]);
      expect(calls).toEqual([]);
      expect(metrics.records[0]?.outcome).toBe('duplicate');
    });

    it('runs a new job once and remembers it as completed', async () => {
      const store = memoryStore();
      const { process } = setup({ idempotencyStore: store });
      const body = job('once-job', { id: 'x' }, { jobId: 'job-2' });
      await process(sqsEvent([sqsRecord(body)]), lambdaContext());
      await process(sqsEvent([sqsRecord(body)]), lambdaContext());
      expect(calls).toEqual(['x']);
      expect(store.state.get('once-job#job-2')).toBe('completed');
    });

    it('retries a delivery while another delivery of the same job holds the lease', async () => {
      const store = memoryStore({ 'once-job#job-3': 'in_progress' });
      const { process } = setup({ idempotencyStore: store });
      const record = sqsRecord(job('once-job', { id: 'x' }, { jobId: 'job-3' }));
      expect((await process(sqsEvent([record]), lambdaContext())).batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
      expect(calls).toEqual([]);
    });
  });
});
