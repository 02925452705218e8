/**
 * The rules a queue configuration must follow before anything is synthesized. Each refusal names the
 * setting and says what to change.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import { defineJob, type JobDefinition } from '../../functions/runtime/job.ts';
import {
  checkOverriddenQueues,
  DEFAULT_QUEUE_SETTINGS,
  minimumVisibilityTimeoutSeconds,
  NOT_RUN_RECEIVE_HEADROOM,
  QUEUE_SETTINGS,
  resolveQueueSettings,
} from '../../infra/queue-settings.ts';
import * as z from 'zod/mini';

function job(options: { queue?: string; maxAttempts?: number; maxDelaySeconds?: number; timeoutMs?: number } = {}): JobDefinition {
  return defineJob({
    type: 'test-job',
    queue: options.queue ?? 'test',
    schema: z.object({}),
    handler: async () => {},
    timeoutMs: options.timeoutMs ?? 5_000,
    retry: { maxAttempts: options.maxAttempts ?? 3, baseDelaySeconds: 1, maxDelaySeconds: options.maxDelaySeconds ?? 60 },
  });
}

describe('resolveQueueSettings', () => {
  it('derives the visibility timeout as 6 x the worker timeout plus the batching window', () => {
    const settings = resolveQueueSettings('test', [job()], { timeoutSeconds: 40, maxBatchingWindowSeconds: 7, batchSize: 100 });
    expect(settings.visibilityTimeoutSeconds).toBe(6 * 40 + 7);
    expect(minimumVisibilityTimeoutSeconds(40, 7)).toBe(247);
  });

  it('accepts a longer visibility timeout than the minimum', () => {
    expect(resolveQueueSettings('test', [job()], { visibilityTimeoutSeconds: 900 }).visibilityTimeoutSeconds).toBe(900);
  });

  it("fills in the defaults and the queue's own overrides", () => {
    const settings = resolveQueueSettings('test', [job()]);
    expect(settings).toMatchObject({
      ...DEFAULT_QUEUE_SETTINGS,
      maxReceiveCount: 3 + NOT_RUN_RECEIVE_HEADROOM,
      visibilityTimeoutSeconds: 6 * DEFAULT_QUEUE_SETTINGS.timeoutSeconds,
      queueName: 'test',
    });
    expect(resolveQueueSettings('webhooks', [job({ queue: 'webhooks' })])).toMatchObject(QUEUE_SETTINGS.webhooks ?? {});
  });

  it("derives maxReceiveCount as the largest maxAttempts of the queue's jobs plus the headroom for receives that did not run", () => {
    const jobs = [job({ maxAttempts: 2 }), job({ maxAttempts: 7 })];
    expect(resolveQueueSettings('test', jobs).maxReceiveCount).toBe(7 + NOT_RUN_RECEIVE_HEADROOM);
  });

  it('refuses a maxReceiveCount that leaves a job less than the headroom beyond its maxAttempts', () => {
    expect(() => resolveQueueSettings('test', [job({ maxAttempts: 4 })], { maxReceiveCount: 4 + NOT_RUN_RECEIVE_HEADROOM - 1 })).toThrow(
      /job "test-job" retries up to 4 attempts but the queue redrives to its DLQ after 8 receives, which leaves less than 5 receives/,
    );
    expect(resolveQueueSettings('test', [job({ maxAttempts: 4 })], { maxReceiveCount: 4 + NOT_RUN_RECEIVE_HEADROOM }).maxReceiveCount).toBe(
      9,
    );
  });

  it('refuses a job with more attempts than the queue delivers', () => {
    expect(() => resolveQueueSettings('test', [job({ maxAttempts: 6 })], { maxReceiveCount: 5 })).toThrow(
      /job "test-job" retries up to 6 attempts but the queue redrives to its DLQ after 5 receives/,
    );
  });

  it('refuses a visibility timeout below the derived minimum', () => {
    expect(() => resolveQueueSettings('test', [job()], { timeoutSeconds: 60, visibilityTimeoutSeconds: 300 })).toThrow(
      /visibilityTimeoutSeconds 300 is below 6 x timeoutSeconds \(60\) \+ maxBatchingWindowSeconds \(0\) = 360/,
    );
  });

  it('refuses a worker timeout whose derived visibility timeout exceeds the SQS maximum', () => {
    expect(() => resolveQueueSettings('test', [job()], { timeoutSeconds: 900, visibilityTimeoutSeconds: 50_000 })).toThrow(
      /above the SQS maximum of 43200 s/,
    );
  });

  it('refuses a batching window on a FIFO queue', () => {
    expect(() => resolveQueueSettings('test', [job()], { fifo: true, maxBatchingWindowSeconds: 1 })).toThrow(/must be 0 on a FIFO queue/);
  });

  it('refuses more than 10 records per batch without a batching window', () => {
    expect(() => resolveQueueSettings('test', [job()], { batchSize: 11 })).toThrow(/more than 10 needs maxBatchingWindowSeconds >= 1/);
  });

  it('refuses more than 10 records per batch on a FIFO queue', () => {
    expect(() => resolveQueueSettings('test', [job()], { fifo: true, batchSize: 20 })).toThrow(
      /batchSize must be a whole number from 1 to 10/,
    );
  });

  it('refuses content-based deduplication on a standard queue', () => {
    expect(() => resolveQueueSettings('test', [job()], { contentBasedDeduplication: true })).toThrow(
      /contentBasedDeduplication needs fifo: true/,
    );
  });

  it('refuses a source retention the 14-day DLQ would not outlive', () => {
    expect(() => resolveQueueSettings('test', [job()], { retentionPeriodSeconds: 14 * 86_400 })).toThrow(/the DLQ must outlive the source/);
  });

  it('refuses a retention too short for the worst-case retry schedule', () => {
    expect(() =>
      resolveQueueSettings('test', [job({ maxAttempts: 5, maxDelaySeconds: 3_600 })], { retentionPeriodSeconds: 3 * 3_600 }),
    ).toThrow(/messages would expire before they reach the DLQ/);
  });

  it('refuses a job timeout that does not fit in the worker timeout', () => {
    expect(() => resolveQueueSettings('test', [job({ timeoutMs: 30_000 })], { timeoutSeconds: 30 })).toThrow(
      /job "test-job" has a 30000 ms timeout, which does not fit in the worker's 30 s timeout/,
    );
  });

  it.each([
    ['maxConcurrency', 1, /maxConcurrency must be a whole number from 2 to 1000/],
    ['maxConcurrency', 1001, /maxConcurrency must be a whole number from 2 to 1000/],
    ['memorySize', 64, /memorySize must be a whole number of MB from 128 to 10240/],
    ['timeoutSeconds', 901, /timeoutSeconds must be a whole number from 1 to 900/],
    ['maxReceiveCount', 0, /maxReceiveCount must be a whole number from 1 to 1000/],
    ['logRetentionDays', 10, /logRetentionDays must be a CloudWatch Logs retention value/],
    ['maxBatchingWindowSeconds', 301, /maxBatchingWindowSeconds must be a whole number from 0 to 300/],
    ['workerConcurrency', 0, /workerConcurrency must be a whole number/],
    ['encryption', 'none', /encryption must be "sqs-managed" or "kms"/],
  ] as const)('refuses %s = %s', (key, value, message) => {
    expect(() => resolveQueueSettings('test', [job()], { [key]: value })).toThrow(message);
  });

  it('lists every problem at once, as a ConfigurationError', () => {
    let caught: unknown;
    try {
      resolveQueueSettings('test', [job({ maxAttempts: 9 })], { maxConcurrency: 0, memorySize: 1, maxReceiveCount: 5 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    const lines = (caught as Error).message.split('\n').filter((line) => line.startsWith('  - '));
    expect(lines).toHaveLength(3);
  });

  it('refuses a job that names another queue', () => {
    expect(() => resolveQueueSettings('test', [job({ queue: 'other' })])).toThrow(/job "test-job" names queue "other", not "test"/);
  });
});

describe('checkOverriddenQueues', () => {
  it('accepts overrides for queues the catalog needs', () => {
    expect(() => checkOverriddenQueues(['default', 'webhooks'], { webhooks: {} }, { default: {} })).not.toThrow();
  });

  it('refuses an override for a queue no job uses', () => {
    expect(() => checkOverriddenQueues(['default'], { webhook: {} })).toThrow(
      /settings given for queue\(s\) "webhook" that no job uses \(queues: default\)/,
    );
  });
});
