/**
 * The last stage of a batch: the `SQSBatchResponse` (every retried record is a batch item failure; Lambda deletes the
 * rest) and each record's metrics.
 */
import type { SQSBatchResponse } from 'aws-lambda';
import type { JobMetrics } from './metrics.ts';
import type { SourceQueues } from './source-queue.ts';
import type { RecordResult } from './verdict.ts';

/** The response that makes Lambda delete exactly the records that are done. */
export function batchResponse(results: readonly RecordResult[]): SQSBatchResponse {
  const retried = results.filter(({ verdict }) => verdict.outcome === 'retry');
  return { batchItemFailures: retried.map(({ record }) => ({ itemIdentifier: record.messageId })) };
}

/** Records each record's metrics; queue latency runs to its start from `scheduledAt` (delayed jobs) or SentTimestamp. */
export function recordBatchMetrics(results: readonly RecordResult[], metrics: JobMetrics, queues: SourceQueues): void {
  for (const { record, verdict, startedAt, durationMs, scheduledAt } of results) {
    const sent = scheduledAt ?? Number(record.attributes.SentTimestamp);
    metrics.recordJob({
      jobType: verdict.jobType,
      queue: queues.nameOf(record.eventSourceARN),
      outcome: verdict.outcome,
      reason: verdict.outcome === 'dead' ? verdict.reason : undefined,
      durationMs,
      queueLatencyMs: Number.isFinite(sent) && sent > 0 && startedAt !== undefined ? startedAt - sent : undefined,
    });
  }
}
