/**
 * Every log line about a record carries its job id (when the message has one), so "what happened to job X" is one
 * Datadog Logs query. Read from the JSON lines Powertools' logger writes to stdout and stderr.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from 'zod/mini';
import { PermanentJobError } from '../../functions/runtime/errors.ts';
import type { BeginResult, IdempotencyStore } from '../../functions/runtime/run-job.ts';
import { defineJob, type JobDefinition } from '../../functions/runtime/job.ts';
import { rootLogger } from '../../functions/runtime/logger.ts';
import { createBatchProcessor, type ProcessorOptions } from '../../functions/runtime/processor.ts';
import { job, lambdaContext, sqsEvent, sqsRecord } from '../support/lambda.ts';
import { recordedSqsActions, recordingMetrics } from '../support/recorders.ts';

const chatty = defineJob({
  type: 'chatty-job',
  schema: z.object({ behaviour: z.enum(['ok', 'fail', 'permanent']) }),
  retry: { maxAttempts: 3, jitter: 'none' },
  idempotency: true,
  async handler({ behaviour }, { logger }) {
    logger.info('working on it', { step: 1 });
    if (behaviour === 'fail') throw new Error('the peer is down');
    if (behaviour === 'permanent') throw new PermanentJobError('the recipient does not exist');
  },
});
const findJob = (type: string): JobDefinition | undefined => (type === chatty.type ? chatty : undefined);

let lines: Record<string, unknown>[] = [];
beforeEach(() => {
  lines = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    for (const line of String(chunk).split('\n')) if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  rootLogger.setLogLevel('DEBUG');
});
afterEach(() => {
  rootLogger.setLogLevel('SILENT');
  vi.restoreAllMocks();
});

async function processOne(body: unknown, options: Partial<ProcessorOptions> = {}): Promise<Record<string, unknown>[]> {
  const processBatch = createBatchProcessor({
    findJob,
    metrics: recordingMetrics(),
    deadLetterQueueUrl: 'http://127.0.0.1:1/000000000000/logs-dlq',
    queueUrl: 'http://127.0.0.1:1/000000000000/logs',
    sqs: recordedSqsActions(),
    ...options,
  });
  const record = sqsRecord(body, { receiveCount: 1 });
  await processBatch(sqsEvent([record]), lambdaContext());
  return lines.filter((line) => line.messageId === record.messageId);
}

const completedStore: IdempotencyStore = {
  begin: async (): Promise<BeginResult> => 'completed',
  complete: async () => undefined,
  release: async () => undefined,
};

describe("a job's log lines", () => {
  it.each([
    ['the job itself and its retry warning', job(chatty.type, { behaviour: 'fail' }, { jobId: 'job-a' }), {}, 2],
    ['a permanent failure', job(chatty.type, { behaviour: 'permanent' }, { jobId: 'job-a' }), {}, 2],
    ['an invalid payload', job(chatty.type, { behaviour: 'nope' }, { jobId: 'job-a' }), {}, 1],
    ['an unknown job type', job('no-such-job', {}, { jobId: 'job-a' }), {}, 1],
    ['a duplicate delivery', job(chatty.type, { behaviour: 'ok' }, { jobId: 'job-a' }), { idempotencyStore: completedStore }, 1],
    [
      'a dead letter that could not be sent',
      job(chatty.type, { behaviour: 'permanent' }, { jobId: 'job-a' }),
      { sqs: recordedSqsActions({ failDeadLetters: true }) },
      3,
    ],
  ])('carry the job id: %s', async (_, body, options, count) => {
    const logged = await processOne(body, options);
    expect(logged).toHaveLength(count);
    for (const line of logged) expect(line).toMatchObject({ jobId: 'job-a' });
  });

  it('carry no job id key when the message has none', async () => {
    const logged = await processOne(job(chatty.type, { behaviour: 'fail' }));
    expect(logged.length).toBeGreaterThan(0);
    for (const line of logged) expect(line).not.toHaveProperty('jobId');
  });
});
