/**
 * The SQS worker's Lambda entry point: `handler(event, context) => SQSBatchResponse`.
 *
 * Everything that can live at module scope does, and is created once per sandbox: the ONE DogStatsD client,
 * the batch processor with its validated options, the logger. Warm invocations reuse them; the flush-metrics
 * middleware sends the buffered metrics at the end of every invocation (success or error), so none is lost when
 * Lambda freezes the sandbox.
 *
 * Env: DEAD_LETTER_QUEUE_URL (required), JOB_QUEUE (the `queue` tag), JOB_QUEUE_URL (for visibility changes),
 * JOB_QUEUE_MAX_RECEIVE_COUNT (the redrive's receive count), IDEMPOTENCY_TABLE (the idempotency store and the failed-runs
 * ledger), WORKER_CONCURRENCY, WORKER_SAFETY_MARGIN_MS (optional); the DogStatsD target from
 * hot-shots' standard variables (default 127.0.0.1:8125, the Datadog Lambda extension).
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { findJob } from '../jobs/catalog.ts';
import type { JobMetrics } from '../runtime/metrics.ts';
import { createWorkerHandler } from '../runtime/worker-handler.ts';

const worker = createWorkerHandler({ findJob });

/** The sandbox's one metrics client. Exported for tests and for the local environment's sandbox reloads. */
export const metrics: JobMetrics = worker.metrics;

/** The Lambda handler. */
export const handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> = worker.handler;
