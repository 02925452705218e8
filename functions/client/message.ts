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
/** SQS's per-message delay limit, in seconds. */
export const MAX_DELAY_SECONDS = 900;
/** Longest job id, group id or deduplication id (SQS's limit for the latter two). */
export const MAX_ID_LENGTH = 128;
/** SQS ids: printable ASCII, no spaces. */
const ID_PATTERN = /^[\x21-\x7e]+$/;

/** Options of one enqueue. */
export interface EnqueueOptions {
  /** Seconds before the message becomes visible, 0-900 (standard queues only). Default: the queue's delay. */
  readonly delaySeconds?: number;
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
  readonly delaySeconds: number | undefined;
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

function checkOptions(options: EnqueueOptions): void {
  const { delaySeconds } = options;
  if (delaySeconds !== undefined && !(Number.isInteger(delaySeconds) && delaySeconds >= 0 && delaySeconds <= MAX_DELAY_SECONDS)) {
    throw new InvalidEnqueueOptionsError(`delaySeconds must be a whole number from 0 to ${MAX_DELAY_SECONDS}, got ${String(delaySeconds)}`);
  }
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
  const parsed = safeParse(job.schema, payload);
  if (!parsed.success) {
    throw new JobValidationError(type, payloadIssues(parsed.error.issues));
  }
  const jobId = options.jobId ?? randomUUID();
  const message: JobMessageBody = { type, payload: parsed.data, jobId, enqueuedAt: now.toISOString() };
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
    delaySeconds: options.delaySeconds,
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
