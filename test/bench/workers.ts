/**
 * The workers the benchmarks compare, all assembled from the project's own modules the way
 * functions/handlers/worker.ts assembles the real one (createBatchProcessor + flush-metrics middleware);
 * they differ only where the comparison needs them to:
 *
 * - {@link assembledWorker}: worker.ts's assembly around any `findJob` (the benchmark-only job, or the catalog);
 * - {@link seedWayWorker}: the seed's pattern, a hot-shots client per record, never closed;
 * - {@link perInvocationWorker}: a client created at the start of each invocation and closed at its end;
 * - {@link hotShotsMetrics}: the baseline emitter, written here from hot-shots' README alone: one module-scope
 *   client, every metric through `distribution(name, value, tags)`, `maxBufferSize` as given.
 */
import middyCore from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readdirSync } from 'node:fs';
import { StatsD } from 'hot-shots';
import type { JobDefinition } from '../../functions/runtime/job.ts';
import { METRIC, TAG, type DeadReason, type Outcome } from '../../functions/runtime/metric-names.ts';
import {
  createMetrics,
  flushMetrics,
  sanitizeTagValue,
  type JobMetrics,
  type MetricsOptions,
  type RecordMetrics,
} from '../../functions/runtime/metrics.ts';
import { createBatchProcessor, type SqsActions } from '../../functions/runtime/processor.ts';
import { createWorkerHandler } from '../../functions/runtime/worker-handler.ts';

/** A worker handler. */
export type WorkerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** SQS calls that succeed without a network (benchmarks of the success path never make them; the seed's failures do). */
export function stubSqs(): SqsActions & { calls: number } {
  const stub = {
    calls: 0,
    sendToDeadLetterQueue: async () => {
      stub.calls += 1;
      return new Set<string>();
    },
    changeVisibility: async () => {
      stub.calls += 1;
      return new Set<string>();
    },
  };
  return stub;
}

/** Options of the workers below. */
export interface WorkerOptions {
  readonly findJob: (type: string) => JobDefinition | undefined;
  readonly host: string;
  readonly port: number;
  readonly sqs?: SqsActions;
}

const DLQ_URL = 'http://127.0.0.1:1/000000000000/default-dlq';

/** functions/handlers/worker.ts's assembly, with `metrics` and `findJob` given. */
export function assembledWorker(metrics: JobMetrics, options: Pick<WorkerOptions, 'findJob' | 'sqs'>): WorkerHandler {
  return createWorkerHandler({
    findJob: options.findJob,
    metrics,
    env: { DEAD_LETTER_QUEUE_URL: DLQ_URL, JOB_QUEUE: 'default' },
    ...(options.sqs === undefined ? {} : { processor: { sqs: options.sqs } }),
  }).handler;
}

/** The global tags the worker's client sends (service, env, version, function name). */
export const BENCH_GLOBAL_TAGS: Readonly<Record<string, string>> = {
  service: 'serverless-jobs',
  env: 'bench',
  version: '0.1.0',
  functionname: 'serverless-jobs-bench-worker',
};

/**
 * The baseline emitter: a module-scope hot-shots client used as its README shows, every metric a
 * `distribution(name, value, tags)` call, `maxBufferSize` as given (8,192, or hot-shots' default 0: one
 * datagram per metric). It shares nothing with functions/runtime/metrics.ts but the metric names.
 */
export function hotShotsMetrics(options: { host: string; port: number; maxBufferSize: number }): JobMetrics {
  let errors = 0;
  const client = new StatsD({
    host: options.host,
    port: options.port,
    globalTags: Object.entries(BENCH_GLOBAL_TAGS).map(([key, value]) => `${key}:${sanitizeTagValue(value)}`),
    maxBufferSize: options.maxBufferSize,
    bufferFlushInterval: 1000,
    datadog: false,
    includeDataDogTags: false,
    includeDatadogTelemetry: false,
    errorHandler: () => {
      errors += 1;
    },
  });
  const tagCache = new Map<string, string[]>();
  const tagsFor = (jobType: string, queue: string, outcome: Outcome, reason: DeadReason | undefined): string[] => {
    const key = `${jobType}\u0000${queue}\u0000${outcome}\u0000${reason ?? ''}`;
    let tags = tagCache.get(key);
    if (tags === undefined) {
      tags = [`${TAG.jobType}:${sanitizeTagValue(jobType)}`, `${TAG.queue}:${sanitizeTagValue(queue)}`, `${TAG.outcome}:${outcome}`];
      if (reason !== undefined) tags.push(`${TAG.reason}:${reason}`);
      tagCache.set(key, tags);
    }
    return tags;
  };
  return {
    get errors() {
      return errors;
    },
    recordJob(record: RecordMetrics) {
      const tags = tagsFor(record.jobType, record.queue, record.outcome, record.reason);
      client.distribution(METRIC.processed, 1, tags);
      client.distribution(METRIC.duration, Math.round(record.durationMs * 1000) / 1000, tags);
      if (record.queueLatencyMs !== undefined) client.distribution(METRIC.queueLatency, Math.max(0, record.queueLatencyMs), tags);
    },
    recordRuntime() {
      const memory = process.memoryUsage();
      client.distribution(METRIC.heapUsed, memory.heapUsed);
      client.distribution(METRIC.rss, memory.rss);
      client.distribution(METRIC.openFds, readdirSync('/proc/self/fd').length - 1);
    },
    flush(timeoutMs) {
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        client.flush(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    close() {
      return new Promise<void>((resolve) => client.close(() => resolve()));
    },
  };
}

/** Counts what the seed-way emitter did. */
export interface SeedCounters {
  clients: number;
  metricsSent: number;
}

/**
 * The seed's pattern: for every record, `new StatsD()` (hot-shots defaults: no buffer, one datagram per
 * metric, its own UDP socket), the record's metrics sent, the client never closed.
 */
export function seedWayWorker(options: WorkerOptions): { handler: WorkerHandler; counters: SeedCounters } {
  const counters: SeedCounters = { clients: 0, metricsSent: 0 };
  const globalTags = Object.entries(BENCH_GLOBAL_TAGS).map(([key, value]) => `${key}:${value}`);
  const leaky: JobMetrics = {
    errors: 0,
    recordJob(record) {
      const client = new StatsD({ host: options.host, port: options.port, globalTags });
      counters.clients += 1;
      const tags = [`${TAG.jobType}:${record.jobType}`, `${TAG.queue}:${record.queue}`, `${TAG.outcome}:${record.outcome}`];
      client.distribution(METRIC.processed, 1, tags);
      client.distribution(METRIC.duration, Math.round(record.durationMs * 1000) / 1000, tags);
      counters.metricsSent += 2;
      if (record.queueLatencyMs !== undefined) {
        client.distribution(METRIC.queueLatency, Math.max(0, record.queueLatencyMs), tags);
        counters.metricsSent += 1;
      }
    },
    recordRuntime: () => undefined,
    flush: async () => undefined,
    close: async () => undefined,
  };
  const processBatch = createBatchProcessor({
    findJob: options.findJob,
    metrics: leaky,
    deadLetterQueueUrl: DLQ_URL,
    queueName: 'default',
    sqs: options.sqs ?? stubSqs(),
  });
  return { handler: middyCore<SQSEvent, SQSBatchResponse>().handler(processBatch), counters };
}

/**
 * A client per invocation, closed at its end: the project's emitter (createMetrics), created in a
 * `before` middleware and closed after the flush.
 */
export function perInvocationWorker(options: WorkerOptions): WorkerHandler {
  const metricsOptions: MetricsOptions = { host: options.host, port: options.port, globalTags: BENCH_GLOBAL_TAGS };
  let current: JobMetrics | undefined;
  const active = (): JobMetrics => {
    if (current === undefined) throw new Error('no metrics client for this invocation');
    return current;
  };
  const delegate: JobMetrics = {
    get errors() {
      return active().errors;
    },
    recordJob: (record) => active().recordJob(record),
    recordRuntime: () => active().recordRuntime(),
    flush: (timeoutMs) => active().flush(timeoutMs),
    close: () => active().close(),
  };
  const processBatch = createBatchProcessor({
    findJob: options.findJob,
    metrics: delegate,
    deadLetterQueueUrl: DLQ_URL,
    queueName: 'default',
    sqs: options.sqs ?? stubSqs(),
  });
  const closeClient = async (): Promise<void> => {
    const client = current;
    current = undefined;
    await client?.close();
  };
  return middyCore<SQSEvent, SQSBatchResponse>()
    .use({
      before: () => {
        current = createMetrics(metricsOptions);
      },
      after: closeClient,
      onError: closeClient,
    })
    .use(flushMetrics({ metrics: delegate }))
    .handler(processBatch);
}

/** The project's emitter, as the worker module creates it, with an explicit target. */
export function projectMetrics(host: string, port: number): JobMetrics {
  return createMetrics({ host, port, globalTags: BENCH_GLOBAL_TAGS });
}
