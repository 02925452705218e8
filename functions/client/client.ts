/**
 * The producer client: enqueue typed jobs on the job's queue. One SQSClient per producer client, created
 * with the client and reused by every call; the module's default client is created on first use.
 *
 * The SQS endpoint is the SDK's own choice: the standard AWS configuration, including `AWS_ENDPOINT_URL_SQS`
 * for a local SQS. Nothing here sets an endpoint unless you pass your own `sqs` client.
 */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { JobType, PayloadOf } from '../jobs/catalog.ts';
import { ConfigurationError } from '../runtime/errors.ts';
import {
  DEFAULT_BATCH_RETRY,
  sendInBatches,
  toSendFailedError,
  type BatchItem,
  type BatchItemOutcome,
  type BatchRetryPolicy,
} from './batch-send.ts';
import {
  cancelDelivery,
  checkScheduledOptions,
  createSchedulerSettingsResolver,
  scheduleDelivery,
  type SchedulerSettings,
} from './delayed.ts';
import type { EnqueueError } from './errors.ts';
import { prepareMessage, sendFields, type EnqueueOptions, type PreparedMessage } from './message.ts';
import { createQueueUrlResolver } from './queue-urls.ts';

/** Options of {@link createJobsClient}. */
export interface JobsClientOptions {
  /** The SQS client to use. Default: `new SQSClient({})` (standard AWS env, `AWS_ENDPOINT_URL_SQS` honoured). */
  readonly sqs?: SQSClient;
  /** Logical queue name -> queue URL. Wins over the environment. */
  readonly queueUrls?: Readonly<Record<string, string | undefined>>;
  /** Where `JOBS_QUEUE_URL_<QUEUE>` variables are read. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Retries of failed batch entries in `enqueueMany`. Default {@link DEFAULT_BATCH_RETRY}. */
  readonly batchRetry?: Partial<BatchRetryPolicy>;
  /** SendMessageBatch calls in flight at once per queue in `enqueueMany`. Default 4. */
  readonly concurrency?: number;
  /** The Scheduler client for delays beyond 900 s. Default: `new SchedulerClient({})` on first use (`AWS_ENDPOINT_URL_SCHEDULER` honoured). */
  readonly scheduler?: SchedulerClient;
  /** Schedule group, role and DLQ for one-time schedules. Default: `JOBS_SCHEDULE_GROUP`, `JOBS_SCHEDULER_ROLE_ARN`, `JOBS_SCHEDULER_DLQ_ARN`. */
  readonly schedulerSettings?: Partial<SchedulerSettings>;
}

/** What `enqueue` sent. */
export interface EnqueueResult {
  /** SQS's message id; empty when a one-time schedule sends the message later (see `scheduleName`). */
  readonly messageId: string;
  /** The job id in the body (the worker's idempotency key). */
  readonly jobId: string;
  /** The queue URL it was sent to. */
  readonly queueUrl: string;
  /** FIFO queues: SQS's sequence number. */
  readonly sequenceNumber?: string | undefined;
  /** Delays beyond 900 s: the one-time schedule that will send the message, and when (to the minute). */
  readonly scheduleName?: string | undefined;
  readonly runAt?: Date | undefined;
}

/** One job of `enqueueMany`, typed from the catalog. */
export type JobRequest = {
  [T in JobType]: { readonly type: T; readonly payload: PayloadOf<T>; readonly options?: EnqueueOptions };
}[JobType];

/** One job of the untyped `enqueueManyUnchecked` (payloads from JSON). */
export interface UncheckedJobRequest {
  readonly type: string;
  readonly payload: unknown;
  readonly options?: EnqueueOptions;
}

/** The fate of one job of `enqueueMany`, at the same index as the input. */
export type EnqueueManyEntry =
  | {
      readonly index: number;
      readonly type: string;
      readonly ok: true;
      readonly jobId: string;
      /** Empty for a delayed job held by a one-time schedule (`scheduleName`). */
      readonly messageId: string;
      readonly attempts: number;
      readonly scheduleName?: string | undefined;
    }
  | {
      readonly index: number;
      readonly type: string;
      readonly ok: false;
      readonly jobId: string | undefined;
      readonly error: EnqueueError;
      readonly attempts: number;
    };

/** What `enqueueMany` did, per entry and in total. */
export interface EnqueueManyResult {
  readonly sent: number;
  readonly failed: number;
  /** One per input job, in input order. */
  readonly entries: readonly EnqueueManyEntry[];
}

/** Options of one `enqueueMany` call. */
export interface EnqueueManyOptions {
  /** Called as entries settle (validation failures first, then per batch). */
  readonly onProgress?: (settled: number, total: number) => void;
}

/** A producer client bound to one SQS client and one queue configuration. */
export interface JobsClient {
  /** The SQS client every call uses. */
  readonly sqs: SQSClient;
  /**
   * Validates and sends one job. Rejects with {@link EnqueueError} subclasses: `JobValidationError`,
   * `InvalidEnqueueOptionsError`, `MessageTooLargeError`, `QueueNotConfiguredError` (nothing sent) or
   * `SendFailedError` (SQS's refusal).
   */
  enqueue<T extends JobType>(type: T, payload: PayloadOf<T>, options?: EnqueueOptions): Promise<EnqueueResult>;
  /** Like `enqueue` for a type and payload known only at run time (JSON input); the same checks apply. */
  enqueueUnchecked(type: string, payload: unknown, options?: EnqueueOptions): Promise<EnqueueResult>;
  /**
   * Sends many jobs with SendMessageBatch (10 entries / 1 MiB per call), retrying only failed entries.
   * Never rejects for a job's failure: each entry reports its message id or its error.
   */
  enqueueMany(jobs: readonly JobRequest[], options?: EnqueueManyOptions): Promise<EnqueueManyResult>;
  /** `enqueueMany` for jobs known only at run time. */
  enqueueManyUnchecked(jobs: readonly UncheckedJobRequest[], options?: EnqueueManyOptions): Promise<EnqueueManyResult>;
  /** The queue URL a job type is sent to (throws `QueueNotConfiguredError`). */
  queueUrlOf(queue: string): string;
  /** Cancels a delayed job's pending one-time schedule; resolves true when there was one, false otherwise. */
  cancel(jobId: string): Promise<boolean>;
}

function checkRetryPolicy(policy: BatchRetryPolicy): BatchRetryPolicy {
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1 || policy.maxAttempts > 20) {
    throw new ConfigurationError('batchRetry.maxAttempts must be a whole number from 1 to 20');
  }
  if (!(policy.baseDelayMs >= 0) || !(policy.maxDelayMs >= policy.baseDelayMs) || policy.maxDelayMs > 60_000) {
    throw new ConfigurationError('batchRetry needs 0 <= baseDelayMs <= maxDelayMs <= 60000');
  }
  return policy;
}

/** The jobs of one `enqueueMany`, sorted before anything is sent. */
interface ManyPlan {
  /** Refused by validation or configuration: their entries, with the error. */
  readonly refused: EnqueueManyEntry[];
  /** Delayed beyond 900 s: one one-time schedule each. */
  readonly later: { readonly index: number; readonly message: PreparedMessage & { readonly runAt: Date }; readonly queueUrl: string }[];
  /** The rest: SendMessageBatch items per queue URL, and each one's message by input index. */
  readonly byQueue: Map<string, BatchItem[]>;
  readonly prepared: Map<number, PreparedMessage>;
}

function planMany(jobs: readonly UncheckedJobRequest[], queueUrlOf: (queue: string) => string): ManyPlan {
  const plan: ManyPlan = { refused: [], later: [], byQueue: new Map(), prepared: new Map() };
  jobs.forEach((job, index) => {
    try {
      const message = prepareMessage(job.type, job.payload, job.options);
      const queueUrl = queueUrlOf(message.queue);
      const { runAt } = message;
      if (runAt !== undefined) {
        checkScheduledOptions(message, queueUrl);
        plan.later.push({ index, message: { ...message, runAt }, queueUrl });
        return;
      }
      plan.prepared.set(index, message);
      const items = plan.byQueue.get(queueUrl) ?? [];
      items.push({ key: index, bytes: message.bytes, fields: sendFields(message, queueUrl) });
      plan.byQueue.set(queueUrl, items);
    } catch (error) {
      plan.refused.push({ index, type: job.type, ok: false, jobId: job.options?.jobId, error: error as EnqueueError, attempts: 0 });
    }
  });
  return plan;
}

/** The entry of a job sent in a batch. */
function batchEntry(outcome: BatchItemOutcome, message: PreparedMessage): EnqueueManyEntry {
  const common = { index: outcome.key, type: message.type, jobId: message.jobId };
  return outcome.ok
    ? { ...common, ok: true, messageId: outcome.messageId, attempts: outcome.attempts }
    : { ...common, ok: false, error: outcome.error, attempts: outcome.attempts };
}

/**
 * Creates a producer client. Options are validated here, once. Keep the client for the life of the
 * process (module scope): it holds the SQS client and its connections.
 */
export function createJobsClient(options: JobsClientOptions = {}): JobsClient {
  const sqs = options.sqs ?? new SQSClient({});
  const queueUrlOf = createQueueUrlResolver(options.queueUrls, options.env);
  const policy = checkRetryPolicy({ ...DEFAULT_BATCH_RETRY, ...options.batchRetry });
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new ConfigurationError('concurrency must be a whole number from 1 to 64');

  const schedulerSettings = createSchedulerSettingsResolver(options.schedulerSettings, options.env);
  let scheduler = options.scheduler;
  const schedulerClient = (): SchedulerClient => (scheduler ??= new SchedulerClient({}));

  /** Delays beyond 900 s: a one-time schedule sends the message later. */
  async function scheduleLater(message: PreparedMessage & { readonly runAt: Date }, queueUrl: string): Promise<EnqueueResult> {
    checkScheduledOptions(message, queueUrl);
    const { scheduleName, runAt } = await scheduleDelivery(schedulerClient(), schedulerSettings(), message, queueUrl);
    return { messageId: '', jobId: message.jobId, queueUrl, scheduleName, runAt };
  }

  async function enqueueUnchecked(type: string, payload: unknown, enqueueOptions?: EnqueueOptions): Promise<EnqueueResult> {
    const message = prepareMessage(type, payload, enqueueOptions);
    const queueUrl = queueUrlOf(message.queue);
    const { runAt } = message;
    if (runAt !== undefined) return scheduleLater({ ...message, runAt }, queueUrl);
    const fields = sendFields(message, queueUrl);
    let result;
    try {
      result = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, ...fields }));
    } catch (error) {
      throw toSendFailedError(error);
    }
    return { messageId: result.MessageId ?? '', jobId: message.jobId, queueUrl, sequenceNumber: result.SequenceNumber };
  }

  async function enqueueManyUnchecked(
    jobs: readonly UncheckedJobRequest[],
    manyOptions: EnqueueManyOptions = {},
  ): Promise<EnqueueManyResult> {
    const entries: EnqueueManyEntry[] = Array.from({ length: jobs.length });
    let settled = 0;
    const settle = (done: readonly EnqueueManyEntry[]): void => {
      for (const entry of done) entries[entry.index] = entry;
      settled += done.length;
      manyOptions.onProgress?.(settled, jobs.length);
    };
    const plan = planMany(jobs, queueUrlOf);
    if (plan.refused.length > 0) settle(plan.refused);
    // Delayed entries: one CreateSchedule each, one at a time (the Scheduler has no batch call).
    const scheduleAll = async (): Promise<void> => {
      for (const { index, message, queueUrl } of plan.later) {
        const common = { index, type: message.type, jobId: message.jobId, attempts: 1 };
        try {
          const { scheduleName } = await scheduleLater(message, queueUrl);
          settle([{ ...common, ok: true, messageId: '', scheduleName }]);
        } catch (error) {
          settle([{ ...common, ok: false, error: error as EnqueueError }]);
        }
      }
    };
    const sendAll = [...plan.byQueue].map(([queueUrl, items]) =>
      sendInBatches(sqs, queueUrl, items, {
        policy,
        concurrency,
        onSettled: (outcomes) => settle(outcomes.map((outcome) => batchEntry(outcome, plan.prepared.get(outcome.key) as PreparedMessage))),
      }),
    );
    await Promise.all([scheduleAll(), ...sendAll]);
    const sent = entries.filter((entry) => entry.ok).length;
    return { sent, failed: jobs.length - sent, entries };
  }

  return {
    sqs,
    enqueue: (type, payload, enqueueOptions) => enqueueUnchecked(type, payload, enqueueOptions),
    enqueueUnchecked,
    enqueueMany: (jobs, manyOptions) => enqueueManyUnchecked(jobs, manyOptions),
    enqueueManyUnchecked,
    queueUrlOf,
    cancel: (jobId) => cancelDelivery(schedulerClient(), schedulerSettings(), jobId),
  };
}

let defaultClient: JobsClient | undefined;

/** The process's default producer client (created on first use, then reused): env configuration. */
export function defaultJobsClient(): JobsClient {
  defaultClient ??= createJobsClient();
  return defaultClient;
}

/** Enqueues one typed job with the default client. See {@link JobsClient.enqueue}. */
export function enqueue<T extends JobType>(type: T, payload: PayloadOf<T>, options?: EnqueueOptions): Promise<EnqueueResult> {
  return defaultJobsClient().enqueue(type, payload, options);
}

/** Enqueues many typed jobs with the default client. See {@link JobsClient.enqueueMany}. */
export function enqueueMany(jobs: readonly JobRequest[], options?: EnqueueManyOptions): Promise<EnqueueManyResult> {
  return defaultJobsClient().enqueueMany(jobs, options);
}

/** Cancels a delayed job with the default client. See {@link JobsClient.cancel}. */
export function cancel(jobId: string): Promise<boolean> {
  return defaultJobsClient().cancel(jobId);
}
