/**
 * Turns `(type, payload, options)` into the exact SQS message a worker expects, refusing anything that
 * SQS or the worker would reject: unknown type, invalid payload, bad options, too large. Pure: no I/O.
 */
import { randomUUID } from 'node:crypto';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { safeParse } from 'zod/mini';
import { catalog, findJob } from '../jobs/catalog.ts';
import { InvalidEnqueueOptionsError, JobValidationError, MessageTooLargeError, UnknownJobError } from './errors.ts';
import { payloadIssues } from '../runtime/payload-issues.ts';

/** SQS's size limit for one message and for one SendMessageBatch call: 1 MiB of body + attributes. */
export const MAX_MESSAGE_BYTES = 1_048_576;
/** SQS's per-message delay limit, in seconds: longer delays become one-time schedules. */
export const MAX_DELAY_SECONDS = 900;
/** The longest delay `enqueue` takes: one year (through EventBridge Scheduler beyond {@link MAX_DELAY_SECONDS}). */
export const MAX_SCHEDULED_DELAY_SECONDS = 31_536_000;
/** Longest job id, group id or deduplication id (SQS's limit for the latter two). */
export const MAX_ID_LENGTH = 128;
/** SQS ids: printable ASCII, no spaces. */
const ID_PATTERN = /^[\x21-\x7e]+$/;

/** Options of one enqueue. */
export interface EnqueueOptions {
  /**
   * Seconds before the job runs, up to one year. Up to 900: SQS's DelaySeconds (standard queues only); beyond: a
   * one-time EventBridge Scheduler schedule that sends the same message then (to the minute). Default: the queue's delay.
   */
  readonly delaySeconds?: number;
  /** When the job should run (instead of `delaySeconds`): the same rules; a time already past sends at once. */
  readonly runAt?: Date;
  /** The job's id, the body's `jobId` (idempotency key of the worker). Default: a random UUID. */
  readonly jobId?: string;
  /** FIFO queues (required there): the message group. Standard queues: the fair-queue tenant. */
  readonly groupId?: string;
  /** FIFO queues only: the deduplication id. Default: the job id. */
  readonly deduplicationId?: string;
}

/** The body every job message has. */
export interface JobMessageBody {
  readonly type: string;
  readonly payload: unknown;
  readonly jobId: string;
  /** ISO 8601 time the producer built the message. */
  readonly enqueuedAt: string;
  /** ISO 8601 time the job was meant to run, for delayed jobs: `jobs.queue_latency` counts from it. */
  readonly scheduledAt?: string;
}

/** A message ready to send, checked against everything SQS and the worker check. */
export interface PreparedMessage {
  readonly type: string;
  /** Logical queue of the job type. */
  readonly queue: string;
  readonly jobId: string;
  /** The JSON body. */
  readonly body: string;
  /** Body + attribute bytes, as SQS counts them. */
  readonly bytes: number;
  /** SQS DelaySeconds (0-900), when asked for. */
  readonly delaySeconds: number | undefined;
  /** When a one-time schedule must deliver it (delays beyond 900 s); undefined = send to SQS now. */
  readonly runAt: Date | undefined;
  readonly groupId: string | undefined;
  readonly deduplicationId: string | undefined;
}

/** The size SQS counts for a message: body bytes plus, per attribute, name + data type + value bytes. */
export function messageBytes(body: string, attributes?: Readonly<Record<string, MessageAttributeValue>>): number {
  let bytes = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes ?? {})) {
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType ?? '', 'utf8');
    if (value.StringValue !== undefined) bytes += Buffer.byteLength(value.StringValue, 'utf8');
    if (value.BinaryValue !== undefined) bytes += value.BinaryValue.byteLength;
  }
  return bytes;
}

function checkId(name: string, value: string | undefined): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH || !ID_PATTERN.test(value)) {
    throw new InvalidEnqueueOptionsError(`${name} must be 1-${MAX_ID_LENGTH} printable ASCII characters without spaces`);
  }
}

/** When the job is meant to run: undefined (no delay asked), or the delay in seconds and the instant. */
function plannedRun(options: EnqueueOptions, now: Date): { readonly seconds: number; readonly at: Date } | undefined {
  const { delaySeconds, runAt } = options;
  if (delaySeconds !== undefined && runAt !== undefined) throw new InvalidEnqueueOptionsError('give delaySeconds or runAt, not both');
  if (delaySeconds !== undefined) {
    if (!(Number.isInteger(delaySeconds) && delaySeconds >= 0 && delaySeconds <= MAX_SCHEDULED_DELAY_SECONDS)) {
      throw new InvalidEnqueueOptionsError(
        `delaySeconds must be a whole number from 0 to ${MAX_SCHEDULED_DELAY_SECONDS} (one year), got ${String(delaySeconds)}`,
      );
    }
    return { seconds: delaySeconds, at: new Date(now.getTime() + delaySeconds * 1000) };
  }
  if (runAt === undefined) return undefined;
  if (!(runAt instanceof Date) || Number.isNaN(runAt.getTime())) throw new InvalidEnqueueOptionsError('runAt must be a valid Date');
  const seconds = Math.max(0, Math.ceil((runAt.getTime() - now.getTime()) / 1000));
  if (seconds > MAX_SCHEDULED_DELAY_SECONDS) throw new InvalidEnqueueOptionsError(`runAt ${runAt.toISOString()} is more than a year away`);
  return { seconds, at: runAt };
}

function checkOptions(options: EnqueueOptions): void {
  checkId('jobId', options.jobId);
  checkId('groupId', options.groupId);
  checkId('deduplicationId', options.deduplicationId);
}

/**
 * Validates and encodes one job. Throws {@link UnknownJobError}, {@link InvalidEnqueueOptionsError},
 * {@link JobValidationError} or {@link MessageTooLargeError}; never sends anything.
 */
export function prepareMessage(type: string, payload: unknown, options: EnqueueOptions = {}, now: Date = new Date()): PreparedMessage {
  const job = findJob(type);
  if (!job) throw new UnknownJobError(type, Object.keys(catalog));
  checkOptions(options);
  const planned = plannedRun(options, now);
  const parsed = safeParse(job.schema, payload);
  if (!parsed.success) {
    throw new JobValidationError(type, payloadIssues(parsed.error.issues));
  }
  const jobId = options.jobId ?? randomUUID();
  const message: JobMessageBody = {
    type,
    payload: parsed.data,
    jobId,
    enqueuedAt: now.toISOString(),
    ...(planned === undefined ? {} : { scheduledAt: planned.at.toISOString() }),
  };
  let body: string;
  try {
    body = JSON.stringify(message);
  } catch (error) {
    throw new JobValidationError(type, [{ path: '', message: `not encodable as JSON: ${(error as Error).message}` }]);
  }
  const bytes = messageBytes(body);
  if (bytes > MAX_MESSAGE_BYTES) throw new MessageTooLargeError(type, bytes, MAX_MESSAGE_BYTES);
  return {
    type,
    queue: job.queue,
    jobId,
    body,
    bytes,
    delaySeconds: planned === undefined || planned.seconds > MAX_DELAY_SECONDS ? undefined : planned.seconds,
    runAt: planned !== undefined && planned.seconds > MAX_DELAY_SECONDS ? planned.at : undefined,
    groupId: options.groupId,
    deduplicationId: options.deduplicationId,
  };
}

/** Whether a queue URL names a FIFO queue. */
export function isFifoQueueUrl(queueUrl: string): boolean {
  return queueUrl.endsWith('.fifo');
}

/** The SendMessage fields for a prepared message on `queueUrl`; refuses options the queue kind forbids. */
export function sendFields(
  message: PreparedMessage,
  queueUrl: string,
): {
  MessageBody: string;
  DelaySeconds?: number;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
} {
  if (isFifoQueueUrl(queueUrl)) {
    if (message.groupId === undefined) throw new InvalidEnqueueOptionsError(`${message.type} goes to a FIFO queue: groupId is required`);
    if (message.delaySeconds !== undefined && message.delaySeconds > 0) {
      throw new InvalidEnqueueOptionsError(
        `${message.type} goes to a FIFO queue: SQS has no per-message delay there (set the queue's delay)`,
      );
    }
    return { MessageBody: message.body, MessageGroupId: message.groupId, MessageDeduplicationId: message.deduplicationId ?? message.jobId };
  }
  if (message.deduplicationId !== undefined) {
    throw new InvalidEnqueueOptionsError(`${message.type} goes to a standard queue: deduplicationId is for FIFO queues only`);
  }
  return {
    MessageBody: message.body,
    ...(message.delaySeconds === undefined ? {} : { DelaySeconds: message.delaySeconds }),
    ...(message.groupId === undefined ? {} : { MessageGroupId: message.groupId }),
  };
}
