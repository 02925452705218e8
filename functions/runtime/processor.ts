/**
 * The batch processor behind the SQS worker: parses, routes, validates and runs every record of an
 * `SQSEvent`, classifies each outcome, and returns the `SQSBatchResponse` that makes Lambda delete
 * exactly the records that are done.
 *
 * - success (or an idempotent job that already completed: `duplicate`): deleted by Lambda;
 * - a retryable failure: returned in `batchItemFailures`, its visibility first set to the backoff delay;
 * - invalid JSON, unknown type, invalid payload, `PermanentJobError`, or the last allowed attempt failing:
 *   sent to the dead-letter queue at once with the reason attached, and not returned as a failure. If that
 *   send fails, the record is returned as a failure instead: nothing is ever lost.
 *
 * Standard queues run records concurrently up to a limit; FIFO queues run each message group in order
 * (groups in parallel) and, after a failure, return the rest of that group unprocessed, as AWS documents
 * for Lambda with FIFO sources. Every job gets an AbortSignal that fires at its timeout or when the
 * invocation's remaining time falls below a safety margin; records not started by then are not started.
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { retryDelaySeconds } from './backoff.ts';
import {
  ConfigurationError,
  InvalidMessageError,
  InvalidPayloadError,
  JobTimeoutError,
  PermanentJobError,
  RetryableJobError,
  UnknownJobTypeError,
} from './errors.ts';
import { DEAD_LETTER_ATTRIBUTE } from './dead-letter-attributes.ts';
import type { IdempotencyStore } from './idempotency-store.ts';
import type { JobDefinition } from './job.ts';
import { bindLogger, rootLogger, type Logger } from './logger.ts';
import { UNKNOWN_JOB_TYPE, type DeadReason, type Outcome } from './metric-names.ts';
import type { JobMetrics } from './metrics.ts';
import { summarizeIssues } from './payload-issues.ts';
import {
  changeVisibility as sqsChangeVisibility,
  queueUrlFromArn,
  sendToDeadLetterQueue as sqsSendToDeadLetterQueue,
  type DeadLetterEntry,
  type VisibilityEntry,
} from './sqs-actions.ts';

/** Longest error message kept on a dead-lettered message. */
const MAX_ERROR_ATTRIBUTE_LENGTH = 1024;
/** Default idempotency memory: 7 days. */
const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600;

/** The SQS calls the processor makes on failures; replaceable in tests and benchmarks. */
export interface SqsActions {
  sendToDeadLetterQueue(queueUrl: string, entries: readonly DeadLetterEntry[]): Promise<Set<string>>;
  changeVisibility(queueUrl: string, entries: readonly VisibilityEntry[]): Promise<Set<string>>;
}

/** Options of {@link createBatchProcessor}; validated once. */
export interface ProcessorOptions {
  /** Looks up a job definition by type. */
  readonly findJob: (type: string) => JobDefinition | undefined;
  /** The module-scope metrics emitter. */
  readonly metrics: JobMetrics;
  /** The DLQ of the source queue (`DEAD_LETTER_QUEUE_URL`). Required: dead messages must go somewhere. */
  readonly deadLetterQueueUrl: string;
  /** The source queue's URL (`JOB_QUEUE_URL`); default derived from each record's eventSourceARN. */
  readonly queueUrl?: string | undefined;
  /** The logical queue name used as the `queue` tag (`JOB_QUEUE`); default the name in eventSourceARN. */
  readonly queueName?: string | undefined;
  /** Records processed at once (standard queues) or groups at once (FIFO). Default 10. */
  readonly concurrency?: number;
  /** Stop starting records, and abort running ones, this long before Lambda's deadline. Default 3,000 ms. */
  readonly safetyMarginMs?: number;
  /** Remembers completed idempotent jobs; without it, jobs run without deduplication. */
  readonly idempotencyStore?: IdempotencyStore | undefined;
  /** SQS calls for dead letters and visibility; default the real SQS client (loaded on first use). */
  readonly sqs?: SqsActions;
  /** Random source for jitter (tests and the fault-injection run seed it). */
  readonly random?: () => number;
  /** Clock, in ms (tests). */
  readonly now?: () => number;
}

/** A processed batch: the Lambda response. */
export type BatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** The verdict on one record. */
interface Verdict {
  outcome: Outcome;
  jobType: string;
  reason?: DeadReason;
  error?: Error;
  /** Backoff before the next attempt, for retries. */
  delaySeconds?: number;
}

/** A verdict with its timing. */
interface TimedVerdict extends Verdict {
  /** Milliseconds from the start of the record's processing to its verdict. */
  durationMs: number;
  /** When processing of the record began (ms since epoch); undefined when it was never started. */
  startedAt: number | undefined;
}

/** A message body that is a job: `{type, payload, jobId?}`. */
interface JobMessage {
  readonly type: string;
  readonly payload: unknown;
  readonly jobId: string | undefined;
}

/**
 * Checks the envelope of a parsed body, or says what is wrong with it. Four type checks written out rather than a
 * zod schema: this runs for every record, and the schema parse cost more than the rest of the routing together.
 */
function readEnvelope(body: unknown): JobMessage | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body is not a JSON object';
  const { type, payload, jobId } = body as Record<string, unknown>;
  if (typeof type !== 'string' || type.length === 0 || type.length > 256) return 'type: expected a string of 1 to 256 characters';
  if (jobId !== undefined && (typeof jobId !== 'string' || jobId.length > 256)) return 'jobId: expected a string of at most 256 characters';
  return { type, payload, jobId };
}

function errorMessage(error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return message.length > MAX_ERROR_ATTRIBUTE_LENGTH ? `${message.slice(0, MAX_ERROR_ATTRIBUTE_LENGTH - 1)}…` : message;
}

/** The verdict on a record that was never started: retried at once. */
function notStarted(error: Error = new JobTimeoutError('not started before the invocation deadline')): TimedVerdict {
  return { outcome: 'retry', jobType: UNKNOWN_JOB_TYPE, error, delaySeconds: 0, durationMs: 0, startedAt: undefined };
}

const ignore = (): void => undefined;

/**
 * One record's cancellation: the AbortSignal its job gets, and a promise that rejects when it fires, so the
 * processor stops waiting even for a job that ignores its signal. Cheaper per record than listening on signals.
 */
class RecordAbort {
  readonly controller = new AbortController();
  readonly #aborted: Promise<never>;
  #reject: (reason: unknown) => void = ignore;
  constructor() {
    this.#aborted = new Promise<never>((_, reject) => {
      this.#reject = reject;
    });
    this.#aborted.catch(ignore);
  }
  abort(reason: unknown): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(reason);
    this.#reject(reason);
  }
  /** Settles with `task`, or rejects with the abort reason as soon as the record is aborted. */
  race<T>(task: Promise<T>): Promise<T> {
    return Promise.race([task, this.#aborted]);
  }
}

/** The invocation's deadline: once it passes, running records are aborted and no other record starts. */
class InvocationDeadline {
  passed = false;
  readonly #running = new Set<RecordAbort>();
  readonly #timer: ReturnType<typeof setTimeout>;
  constructor(inMs: number) {
    this.#timer = setTimeout(() => {
      this.passed = true;
      for (const record of this.#running) record.abort(new JobTimeoutError('the invocation is about to time out'));
    }, inMs);
  }
  /** Aborts `record` when the deadline passes (at once if it has), until {@link leave}. */
  enter(record: RecordAbort): void {
    if (this.passed) record.abort(new JobTimeoutError('the invocation is about to time out'));
    else this.#running.add(record);
  }
  leave(record: RecordAbort): void {
    this.#running.delete(record);
  }
  clear(): void {
    clearTimeout(this.#timer);
  }
}

/** Runs `worker` over `items` with at most `limit` at once. */
async function runPool<T>(items: readonly T[], limit: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await worker(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * Creates the batch processor. Options are checked here, once, at module init.
 */
export function createBatchProcessor(options: ProcessorOptions): BatchHandler {
  if (!options.deadLetterQueueUrl) {
    throw new ConfigurationError('DEAD_LETTER_QUEUE_URL is not set: the worker needs its dead-letter queue');
  }
  const concurrency = options.concurrency ?? 10;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) {
    throw new ConfigurationError('concurrency must be a whole number from 1 to 1000');
  }
  const safetyMarginMs = options.safetyMarginMs ?? 3000;
  if (!Number.isFinite(safetyMarginMs) || safetyMarginMs < 0) {
    throw new ConfigurationError('safetyMarginMs must be a number >= 0');
  }
  const { findJob, metrics, deadLetterQueueUrl, idempotencyStore } = options;
  const sqs: SqsActions = options.sqs ?? { sendToDeadLetterQueue: sqsSendToDeadLetterQueue, changeVisibility: sqsChangeVisibility };
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const queueNameByArn = new Map<string, string>();
  const queueUrlByArn = new Map<string, string | undefined>();
  const sqsEndpoint = process.env.AWS_ENDPOINT_URL_SQS;

  const queueNameOf = (arn: string): string => {
    if (options.queueName) return options.queueName;
    let name = queueNameByArn.get(arn);
    if (name === undefined) {
      name = arn.split(':').at(-1) ?? 'unknown';
      queueNameByArn.set(arn, name);
    }
    return name;
  };
  const queueUrlOf = (arn: string): string | undefined => {
    if (options.queueUrl) return options.queueUrl;
    if (!queueUrlByArn.has(arn)) queueUrlByArn.set(arn, queueUrlFromArn(arn, sqsEndpoint));
    return queueUrlByArn.get(arn);
  };

  /** Runs one record to a verdict. Never throws. */
  const runRecord = async (record: SQSRecord, deadline: InvocationDeadline, context: Context): Promise<Verdict> => {
    const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;

    let parsed: unknown;
    try {
      parsed = JSON.parse(record.body);
    } catch (error) {
      return {
        outcome: 'dead',
        reason: 'invalid_json',
        jobType: UNKNOWN_JOB_TYPE,
        error: new InvalidMessageError(`body is not JSON: ${(error as Error).message}`),
      };
    }
    const message = readEnvelope(parsed);
    if (typeof message === 'string') {
      return {
        outcome: 'dead',
        reason: 'invalid_json',
        jobType: UNKNOWN_JOB_TYPE,
        error: new InvalidMessageError(`body is not a job message {type, payload}: ${message}`),
      };
    }
    const job = findJob(message.type);
    if (!job) {
      return {
        outcome: 'dead',
        reason: 'unknown_type',
        jobType: UNKNOWN_JOB_TYPE,
        error: new UnknownJobTypeError(`unknown job type "${message.type.slice(0, 64)}"`),
      };
    }
    const payload = job.schema.safeParse(message.payload);
    if (!payload.success) {
      return {
        outcome: 'dead',
        reason: 'invalid_payload',
        jobType: job.type,
        error: new InvalidPayloadError(`invalid ${job.type} payload: ${summarizeIssues(payload.error.issues)}`),
      };
    }

    // Built on first use: most jobs that succeed never log.
    let boundLogger: Logger | undefined;
    const logger = (): Logger =>
      (boundLogger ??= bindLogger({
        jobType: job.type,
        messageId: record.messageId,
        receiveCount: attempt,
        requestId: context.awsRequestId,
      }));
    const jobId = message.jobId;

    let idempotencyKey: string | undefined;
    if (job.idempotency && idempotencyStore) {
      const key = job.idempotency.key ? job.idempotency.key(payload.data, { jobId, messageId: record.messageId }) : jobId;
      if (key !== undefined) idempotencyKey = `${job.type}#${key}`;
    }

    const cancel = new RecordAbort();
    deadline.enter(cancel);
    // The job's own clock starts once it may run: taking the lease (which may load the DynamoDB client on a
    // sandbox's first idempotent job) is bounded by the invocation's deadline only.
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      if (idempotencyKey !== undefined && idempotencyStore) {
        const lease = Math.min(job.timeoutMs + safetyMarginMs, context.getRemainingTimeInMillis?.() ?? job.timeoutMs) + 5_000;
        const store = idempotencyStore;
        const key = idempotencyKey;
        const beginning = store.begin(key, lease);
        const begun = await cancel.race(beginning).catch((error: unknown) => {
          // Aborted while taking the lease: a lease taken after all must be given back, or every redelivery
          // sees `in_progress` until it expires (and a short retry policy dead-letters a job that never ran).
          void beginning.then((late) => (late === 'started' ? store.release(key) : undefined)).catch(() => undefined);
          throw error;
        });
        if (begun === 'completed') {
          logger().info('job already completed: acknowledged without running again');
          return { outcome: 'duplicate', jobType: job.type };
        }
        if (begun === 'in_progress') {
          throw new RetryableJobError('the same job is running in another delivery');
        }
      }
      timer = setTimeout(() => cancel.abort(new JobTimeoutError(`job timed out after ${job.timeoutMs} ms`)), job.timeoutMs);
      try {
        const jobContext = {
          signal: cancel.controller.signal,
          messageId: record.messageId,
          jobId,
          attempt,
          get logger(): Logger {
            return logger();
          },
        };
        await cancel.race(job.handler(payload.data, jobContext));
      } catch (error) {
        if (idempotencyKey !== undefined && idempotencyStore) await idempotencyStore.release(idempotencyKey).catch(() => undefined);
        throw error;
      }
      if (idempotencyKey !== undefined && idempotencyStore) {
        // The side effect happened: a failure to record it must not turn into a retry that repeats it.
        await idempotencyStore
          .complete(idempotencyKey, job.idempotency?.ttlSeconds ?? DEFAULT_IDEMPOTENCY_TTL_SECONDS)
          .catch((error: unknown) => {
            logger().error('could not record the job as completed', { error });
          });
      }
      return { outcome: 'success', jobType: job.type };
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      if (failure instanceof PermanentJobError) {
        logger().error('job failed permanently', { error: failure });
        return { outcome: 'dead', reason: 'permanent_error', jobType: job.type, error: failure };
      }
      if (attempt >= job.retry.maxAttempts) {
        logger().error('job failed its last attempt', { error: failure, maxAttempts: job.retry.maxAttempts });
        return { outcome: 'dead', reason: 'retries_exhausted', jobType: job.type, error: failure };
      }
      const retryAfter = failure instanceof RetryableJobError ? failure.retryAfterSeconds : undefined;
      const delaySeconds = retryDelaySeconds(job.retry, attempt, retryAfter, random);
      logger().warn('job failed, will retry', { error: failure.message, delaySeconds });
      return { outcome: 'retry', jobType: job.type, error: failure, delaySeconds };
    } finally {
      clearTimeout(timer);
      deadline.leave(cancel);
    }
  };

  const timedRecord = async (record: SQSRecord, deadline: InvocationDeadline, context: Context): Promise<TimedVerdict> => {
    const startedAt = now();
    // Completed in place: the verdict is this record's own object.
    const verdict = (await runRecord(record, deadline, context)) as TimedVerdict;
    verdict.startedAt = startedAt;
    verdict.durationMs = now() - startedAt;
    return verdict;
  };

  return async (event, context) => {
    const records = event.Records ?? [];
    const verdicts = new Map<SQSRecord, TimedVerdict>();
    const remaining = context.getRemainingTimeInMillis?.() ?? 900_000;
    // Keep a margin for the dead-letter sends, visibility changes and the metrics flush after the deadline.
    const margin = Math.min(safetyMarginMs, remaining * 0.25);
    const deadline = new InvocationDeadline(Math.max(0, remaining - margin));

    try {
      const fifo = records.length > 0 && records[0]?.attributes.MessageGroupId !== undefined;
      if (fifo) {
        const groups = new Map<string, SQSRecord[]>();
        for (const record of records) {
          const id = record.attributes.MessageGroupId ?? '';
          let group = groups.get(id);
          if (!group) groups.set(id, (group = []));
          group.push(record);
        }
        await runPool([...groups.values()], concurrency, async (group) => {
          let blocked = false;
          for (const record of group) {
            if (blocked || deadline.passed) {
              verdicts.set(record, blocked ? notStarted(new RetryableJobError('an earlier message of its group failed')) : notStarted());
              continue;
            }
            const verdict = await timedRecord(record, deadline, context);
            verdicts.set(record, verdict);
            if (verdict.outcome === 'retry') blocked = true;
          }
        });
      } else {
        await runPool(records, concurrency, async (record) => {
          verdicts.set(record, deadline.passed ? notStarted() : await timedRecord(record, deadline, context));
        });
      }
    } finally {
      deadline.clear();
    }

    // Dead letters first: a record whose send fails becomes a retry, so nothing is lost.
    const deadEntries: DeadLetterEntry[] = [];
    const failedAt = new Date(now()).toISOString();
    for (const record of records) {
      const verdict = verdicts.get(record);
      if (verdict?.outcome !== 'dead') continue;
      deadEntries.push({
        id: record.messageId,
        body: record.body,
        groupId: record.attributes.MessageGroupId,
        attributes: {
          [DEAD_LETTER_ATTRIBUTE.reason]: verdict.reason ?? 'permanent_error',
          [DEAD_LETTER_ATTRIBUTE.error]: errorMessage(verdict.error),
          [DEAD_LETTER_ATTRIBUTE.jobType]: verdict.jobType,
          [DEAD_LETTER_ATTRIBUTE.receiveCount]: record.attributes.ApproximateReceiveCount ?? '1',
          [DEAD_LETTER_ATTRIBUTE.sourceQueue]: queueNameOf(record.eventSourceARN),
          [DEAD_LETTER_ATTRIBUTE.failedAt]: failedAt,
        },
      });
    }
    const unsent = await sqs.sendToDeadLetterQueue(deadLetterQueueUrl, deadEntries);
    for (const record of records) {
      if (!unsent.has(record.messageId)) continue;
      const verdict = verdicts.get(record);
      if (verdict) {
        rootLogger.error('could not send to the dead-letter queue; the record will be retried', { messageId: record.messageId });
        verdict.outcome = 'retry';
        delete verdict.reason;
        delete verdict.delaySeconds;
      }
    }

    // Backoff: set each retried message's visibility to its delay, batched per queue.
    const visibility = new Map<string, VisibilityEntry[]>();
    for (const record of records) {
      const verdict = verdicts.get(record);
      if (verdict?.outcome !== 'retry' || verdict.delaySeconds === undefined) continue;
      const url = queueUrlOf(record.eventSourceARN);
      if (!url) continue;
      let entries = visibility.get(url);
      if (!entries) visibility.set(url, (entries = []));
      entries.push({ id: record.messageId, receiptHandle: record.receiptHandle, visibilityTimeoutSeconds: verdict.delaySeconds });
    }
    await Promise.all([...visibility].map(([url, entries]) => sqs.changeVisibility(url, entries)));

    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of records) {
      const verdict = verdicts.get(record) ?? notStarted();
      if (verdict.outcome === 'retry') batchItemFailures.push({ itemIdentifier: record.messageId });
      const sent = Number(record.attributes.SentTimestamp);
      metrics.recordJob({
        jobType: verdict.jobType,
        queue: queueNameOf(record.eventSourceARN),
        outcome: verdict.outcome,
        reason: verdict.reason,
        durationMs: verdict.durationMs,
        queueLatencyMs: Number.isFinite(sent) && sent > 0 && verdict.startedAt !== undefined ? verdict.startedAt - sent : undefined,
      });
    }
    return { batchItemFailures };
  };
}
