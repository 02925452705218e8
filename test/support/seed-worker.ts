/**
 * The seed's bug, transposed to this worker: a DogStatsD client created for every record (every job
 * and every retry) and never closed. Used to show that the leak checks have teeth.
 */
import StatsD from 'hot-shots';
import { findJob } from '../../functions/jobs/catalog.ts';
import type { JobMetrics } from '../../functions/runtime/metrics.ts';
import { createBatchProcessor, type BatchHandler } from '../../functions/runtime/processor.ts';

/** A worker handler that leaks one hot-shots client per record, as the seed did. */
export function seedWayWorker(options: { port: number; deadLetterQueueUrl: string }): BatchHandler {
  const leakyMetrics: JobMetrics = {
    errors: 0,
    recordJob(record) {
      const client = new StatsD({ host: '127.0.0.1', port: options.port, errorHandler: () => undefined });
      client.distribution('jobs.processed', 1, [`job_type:${record.jobType}`]);
      client.flush();
    },
    recordRuntime: () => undefined,
    flush: async () => undefined,
    close: async () => undefined,
  };
  return createBatchProcessor({ findJob, metrics: leakyMetrics, deadLetterQueueUrl: options.deadLetterQueueUrl, queueName: 'default' });
}
