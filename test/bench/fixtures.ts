/**
 * What the benchmarks feed the workers: 10-record SQS events in Lambda's exact shape (built once and
 * reused, as a warm sandbox sees a new batch each time but the harness should not measure building it),
 * a Lambda context, and the benchmark-only job.
 */
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod/mini';
import { defineJob, type JobDefinition } from '../../functions/runtime/job.ts';

/** Records per invocation (Lambda's default SQS batch size). */
export const BATCH_SIZE = 10;

/** Metric lines per successful invocation of the worker: 3 per record (processed, duration, queue latency) + 3 runtime. */
export const LINES_PER_INVOCATION = BATCH_SIZE * 3 + 3;

/** The ARN of the benchmark's source queue (its name, `default`, becomes the `queue` tag). */
export const BENCH_QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:default';

/** A `send-email` payload, valid for the real job and for {@link benchJob}. */
export const EMAIL_PAYLOAD = { to: 'someone@example.com', subject: 'Benchmark', text: 'Hello from the benchmark.' } as const;

/**
 * The benchmark-only job: the `send-email` payload schema (zod/mini) and a handler that does nothing, so
 * the overhead benchmark measures the worker, not an email transport.
 */
export const benchJob: JobDefinition = defineJob({
  type: 'bench-noop',
  queue: 'default',
  schema: z
    .object({
      to: z.email(),
      subject: z.string().check(z.minLength(1), z.maxLength(998)),
      text: z.optional(z.string()),
      html: z.optional(z.string()),
    })
    .check(z.refine((p) => p.text !== undefined || p.html !== undefined, { message: 'one of text or html is required' })),
  handler: async () => undefined,
});

/** Looks up {@link benchJob} only. */
export function findBenchJob(type: string): JobDefinition | undefined {
  return type === benchJob.type ? benchJob : undefined;
}

/** One SQS record with a fixed message id (the email outbox then rewrites the same files). */
export function sqsRecord(type: string, payload: unknown, index: number): SQSRecord {
  const messageId = `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`;
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body: JSON.stringify({ type, payload }),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now() - 250),
      SenderId: 'AIDABENCH',
      ApproximateFirstReceiveTimestamp: String(Date.now() - 200),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: BENCH_QUEUE_ARN,
    awsRegion: 'us-east-1',
  };
}

/** A batch of {@link BATCH_SIZE} records of one job type. */
export function sqsEvent(type: string, payload: unknown = EMAIL_PAYLOAD, size = BATCH_SIZE): SQSEvent {
  return { Records: Array.from({ length: size }, (_, i) => sqsRecord(type, payload, i)) };
}

/** A Lambda context with 60 s left on every call. */
export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'serverless-jobs-bench-worker',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:serverless-jobs-bench-worker',
  memoryLimitInMB: '512',
  awsRequestId: 'bench-request',
  logGroupName: '/aws/lambda/serverless-jobs-bench-worker',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

/** Environment every worker process of the benchmarks gets (the DLQ is never reached on the success path). */
export function workerEnv(port: number, outboxDir?: string): Record<string, string> {
  return {
    DEAD_LETTER_QUEUE_URL: 'http://127.0.0.1:1/000000000000/default-dlq',
    JOB_QUEUE: 'default',
    DD_AGENT_HOST: '127.0.0.1',
    DD_DOGSTATSD_PORT: String(port),
    DD_SERVICE: 'serverless-jobs',
    DD_ENV: 'bench',
    DD_VERSION: '0.1.0',
    AWS_LAMBDA_FUNCTION_NAME: 'serverless-jobs-bench-worker',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    // INFO would write a line per email to a pipe: a cost of the harness, not of the worker.
    POWERTOOLS_LOG_LEVEL: 'WARN',
    ...(outboxDir === undefined ? {} : { EMAIL_OUTBOX_DIR: outboxDir }),
  };
}
