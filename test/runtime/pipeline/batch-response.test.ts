import { describe, expect, it } from 'vitest';
import { batchResponse, recordBatchMetrics } from '../../../functions/runtime/batch-response.ts';
import { sourceQueues } from '../../../functions/runtime/source-queue.ts';
import { dead, type RecordResult, type Verdict } from '../../../functions/runtime/verdict.ts';
import { sqsRecord } from '../../support/lambda.ts';
import { recordingMetrics } from '../../support/recorders.ts';

function result(verdict: Verdict): RecordResult {
  return { record: sqsRecord('{}', { sentTimestamp: 1_500 }), verdict, jobId: undefined, startedAt: 2_000, durationMs: 7 };
}
const retry: Verdict = { outcome: 'retry', jobType: 'test-job', error: new Error('boom'), delaySeconds: 10, ran: true };

describe('the batch response', () => {
  it('returns exactly the retried records as batch item failures', () => {
    const results = [
      result({ outcome: 'success', jobType: 'test-job' }),
      result(retry),
      result(dead('permanent_error', 'test-job', new Error('no'))),
      result({ outcome: 'duplicate', jobType: 'test-job' }),
    ];
    expect(batchResponse(results)).toEqual({ batchItemFailures: [{ itemIdentifier: results[1]?.record.messageId }] });
  });
});

describe("a batch's metrics", () => {
  it('records each record with its job type, queue, outcome, duration and queue latency from SentTimestamp', () => {
    const metrics = recordingMetrics();
    recordBatchMetrics([result({ outcome: 'success', jobType: 'test-job' })], metrics, sourceQueues({ queueName: 'default' }));
    expect(metrics.records).toEqual([
      { jobType: 'test-job', queue: 'default', outcome: 'success', reason: undefined, durationMs: 7, queueLatencyMs: 500 },
    ]);
  });

  it('measures the queue latency of a delayed or scheduled job from the time it was meant to run', () => {
    const metrics = recordingMetrics();
    recordBatchMetrics([{ ...result({ outcome: 'success', jobType: 'test-job' }), scheduledAt: 1_900 }], metrics, sourceQueues({}));
    expect(metrics.records[0]?.queueLatencyMs).toBe(100);
  });

  it('tags a dead record with its reason', () => {
    const metrics = recordingMetrics();
    recordBatchMetrics([result(dead('retries_exhausted', 'test-job', new Error('boom')))], metrics, sourceQueues({ queueName: 'default' }));
    expect(metrics.records[0]).toMatchObject({ outcome: 'dead', reason: 'retries_exhausted' });
  });

  it('records no queue latency for a record that never started', () => {
    const metrics = recordingMetrics();
    recordBatchMetrics([{ ...result(retry), startedAt: undefined }], metrics, sourceQueues({}));
    expect(metrics.records[0]?.queueLatencyMs).toBeUndefined();
  });

  it('takes the queue name from the ARN when none is configured', () => {
    const metrics = recordingMetrics();
    recordBatchMetrics([result(retry)], metrics, sourceQueues({}));
    expect(metrics.records[0]?.queue).toBe('test-default');
  });
});
