/**
 * Assembles an SQS worker handler: the module-scope metrics client, the batch processor configured from the
 * environment, and the flush-metrics middleware, composed with middy. Call it once, at module scope, in a handler
 * module (`functions/handlers/worker.ts`); everything it creates lives as long as the sandbox.
 */
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createDynamoDbAttemptLedger } from './attempt-ledger.ts';
import { createDynamoDbIdempotencyStore, dynamoDbLoader } from './dynamodb-idempotency-store.ts';
import type { FindJob } from './decode-record.ts';
import { createMetrics, flushMetrics, type JobMetrics } from './metrics.ts';
import { createBatchProcessor, type BatchHandler, type ProcessorOptions } from './processor.ts';

/** Options of {@link createWorkerHandler}. */
export interface WorkerHandlerOptions {
  readonly findJob: FindJob;
  /** Where configuration is read from; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** A metrics emitter to use instead of creating the sandbox's one (benchmarks). */
  readonly metrics?: JobMetrics;
  /** Processor options that override what the environment says (tests, benchmarks). */
  readonly processor?: Partial<Omit<ProcessorOptions, 'findJob' | 'metrics'>>;
}

/** A worker: its Lambda handler and the metrics client it flushes. */
export interface Worker {
  readonly handler: BatchHandler;
  readonly metrics: JobMetrics;
}

/**
 * The idempotency store and the failed-runs ledger on `IDEMPOTENCY_TABLE`, sharing one lazily created DynamoDB client;
 * neither without the table (idempotent jobs then run without deduplication, and attempts count SQS receives).
 */
function idempotencyFromEnv(tableName: string | undefined): Pick<ProcessorOptions, 'idempotencyStore' | 'attemptLedger'> {
  if (!tableName) return {};
  const dynamo = dynamoDbLoader();
  return {
    idempotencyStore: createDynamoDbIdempotencyStore({ tableName, dynamo }),
    attemptLedger: createDynamoDbAttemptLedger({ tableName, dynamo }),
  };
}

/**
 * Builds the worker from the environment: DEAD_LETTER_QUEUE_URL (required), JOB_QUEUE, JOB_QUEUE_URL,
 * JOB_QUEUE_MAX_RECEIVE_COUNT, IDEMPOTENCY_TABLE, WORKER_CONCURRENCY, WORKER_SAFETY_MARGIN_MS; the DogStatsD target
 * from hot-shots' variables.
 */
export function createWorkerHandler(options: WorkerHandlerOptions): Worker {
  const env = options.env ?? process.env;
  const metrics = options.metrics ?? createMetrics();
  const processBatch = createBatchProcessor({
    findJob: options.findJob,
    metrics,
    deadLetterQueueUrl: env.DEAD_LETTER_QUEUE_URL ?? '',
    queueUrl: env.JOB_QUEUE_URL,
    queueName: env.JOB_QUEUE,
    ...(env.WORKER_CONCURRENCY ? { concurrency: Number(env.WORKER_CONCURRENCY) } : {}),
    ...(env.WORKER_SAFETY_MARGIN_MS ? { safetyMarginMs: Number(env.WORKER_SAFETY_MARGIN_MS) } : {}),
    ...(env.JOB_QUEUE_MAX_RECEIVE_COUNT ? { maxReceiveCount: Number(env.JOB_QUEUE_MAX_RECEIVE_COUNT) } : {}),
    ...idempotencyFromEnv(env.IDEMPOTENCY_TABLE),
    ...options.processor,
  });
  const handler = middy<SQSEvent, SQSBatchResponse>().use(flushMetrics({ metrics })).handler(processBatch);
  return { handler, metrics };
}
