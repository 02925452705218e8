/**
 * The SQS worker's Lambda entry point: `handler(event, context) => SQSBatchResponse`.
 *
 * Everything that can live at module scope does, and is created once per sandbox:
 * the ONE DogStatsD client, the batch processor with its validated options, the logger.
 * Warm invocations reuse them; the flush-metrics middleware sends the buffered metrics at the end of
 * every invocation (success or error) so none is lost when Lambda freezes the sandbox.
 *
 * Env: DEAD_LETTER_QUEUE_URL (required), JOB_QUEUE (the `queue` tag), JOB_QUEUE_URL (for visibility
 * changes), IDEMPOTENCY_TABLE (optional), WORKER_CONCURRENCY (optional), DogStatsD target from
 * hot-shots' standard variables (default 127.0.0.1:8125, the Datadog Lambda extension).
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { findJob } from '../jobs/catalog.ts';
import { flushMetrics } from '../runtime/flush-metrics.ts';
import { idempotencyStoreFromEnv } from '../runtime/idempotency-from-env.ts';
import { createMetrics } from '../runtime/metrics.ts';
import { createBatchProcessor } from '../runtime/processor.ts';

const env = process.env;

/** The sandbox's one metrics client. Exported for tests and for the local environment's sandbox reloads. */
export const metrics = createMetrics();

const processBatch = createBatchProcessor({
  findJob,
  metrics,
  deadLetterQueueUrl: env.DEAD_LETTER_QUEUE_URL ?? '',
  queueUrl: env.JOB_QUEUE_URL,
  queueName: env.JOB_QUEUE,
  ...(env.WORKER_CONCURRENCY ? { concurrency: Number(env.WORKER_CONCURRENCY) } : {}),
  ...(env.WORKER_SAFETY_MARGIN_MS ? { safetyMarginMs: Number(env.WORKER_SAFETY_MARGIN_MS) } : {}),
  idempotencyStore: idempotencyStoreFromEnv(env),
});

/** The Lambda handler. */
export const handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> = middy<SQSEvent, SQSBatchResponse>()
  .use(flushMetrics({ metrics }))
  .handler(processBatch);
