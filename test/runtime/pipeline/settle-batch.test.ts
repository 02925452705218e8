import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_ATTRIBUTE } from '../../../functions/runtime/dead-letter-attributes.ts';
import { settleBatch, type Settlement } from '../../../functions/runtime/settle-batch.ts';
import { sourceQueues } from '../../../functions/runtime/source-queue.ts';
import { dead, type RecordResult, type Verdict } from '../../../functions/runtime/verdict.ts';
import { sqsRecord } from '../../support/lambda.ts';
import { recordedSqsActions } from '../../support/recorders.ts';

const DLQ = 'http://127.0.0.1:1/000000000000/test-default-dlq';
const QUEUE = 'http://127.0.0.1:1/000000000000/test-default';

function settlement(sqs = recordedSqsActions()): Settlement & { sqs: ReturnType<typeof recordedSqsActions> } {
  return { sqs, deadLetterQueueUrl: DLQ, queues: sourceQueues({ queueName: 'default', queueUrl: QUEUE }), now: () => Date.UTC(2026, 0, 2) };
}

function result(verdict: Verdict, body = '{}'): RecordResult {
  return { record: sqsRecord(body, { receiveCount: 2 }), verdict, jobId: undefined, startedAt: 1, durationMs: 1 };
}

const retry = (delaySeconds: number | undefined): Verdict => ({
  outcome: 'retry',
  jobType: 'test-job',
  error: new Error('boom'),
  delaySeconds,
  ran: true,
});

describe('settling a batch', () => {
  it('sends each dead record to the dead-letter queue, body unchanged, with why it is dead', async () => {
    const s = settlement();
    const deadOne = result(dead('permanent_error', 'test-job', new Error('no such recipient')), '{"type":"test-job"}');
    await settleBatch([deadOne, result({ outcome: 'success', jobType: 'test-job' })], s);
    expect(s.sqs.deadLetters).toEqual([
      {
        id: deadOne.record.messageId,
        body: '{"type":"test-job"}',
        groupId: undefined,
        attributes: {
          [DEAD_LETTER_ATTRIBUTE.reason]: 'permanent_error',
          [DEAD_LETTER_ATTRIBUTE.error]: 'Error: no such recipient',
          [DEAD_LETTER_ATTRIBUTE.jobType]: 'test-job',
          [DEAD_LETTER_ATTRIBUTE.receiveCount]: '2',
          [DEAD_LETTER_ATTRIBUTE.sourceQueue]: 'default',
          [DEAD_LETTER_ATTRIBUTE.failedAt]: '2026-01-02T00:00:00.000Z',
        },
      },
    ]);
  });

  it('cuts an error message over 1,024 characters on the dead letter', async () => {
    const s = settlement();
    await settleBatch([result(dead('permanent_error', 'test-job', new Error('x'.repeat(5_000))))], s);
    expect(s.sqs.deadLetters[0]?.attributes[DEAD_LETTER_ATTRIBUTE.error]).toHaveLength(1024);
  });

  it('turns a dead record whose send failed into a retry without a visibility change, leaving the others as they were', async () => {
    const s = settlement(recordedSqsActions({ failDeadLetters: true }));
    const outcomes = [result(dead('invalid_json', 'unknown', new Error('not JSON'))), result({ outcome: 'success', jobType: 'test-job' })];
    const settled = await settleBatch(outcomes, s);
    expect(settled.map((r) => r.verdict.outcome)).toEqual(['retry', 'success']);
    expect(settled[0]?.verdict).toMatchObject({ delaySeconds: undefined });
    expect(outcomes[0]?.verdict.outcome).toBe('dead');
    expect(s.sqs.visibility).toEqual([]);
  });

  it("sets each retried record's visibility to its backoff delay", async () => {
    const s = settlement();
    const retried = result(retry(40));
    await settleBatch([retried, result({ outcome: 'success', jobType: 'test-job' })], s);
    expect(s.sqs.visibility).toEqual([
      { id: retried.record.messageId, receiptHandle: retried.record.receiptHandle, visibilityTimeoutSeconds: 40 },
    ]);
  });

  it('changes no visibility for a retry without a delay', async () => {
    const s = settlement();
    await settleBatch([result(retry(undefined))], s);
    expect(s.sqs.visibility).toEqual([]);
  });

  it('keeps a retry a retry when its visibility change fails', async () => {
    const settled = await settleBatch([result(retry(10))], settlement(recordedSqsActions({ failVisibility: true })));
    expect(settled[0]?.verdict.outcome).toBe('retry');
  });
});
