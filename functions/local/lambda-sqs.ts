/**
 * What Lambda's SQS poller does with messages: fills a batch within the batching window and the 6 MB payload
 * limit, builds the record it passes to the function (`SQSRecord`), reads a `ReportBatchItemFailures` response
 * (which records to keep, or the whole batch failed when an identifier is empty, missing or not in the batch),
 * and deletes or releases records 10 at a time.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { inBatches } from '../client/batches.ts';
import type { LocalQueue, TemplateMapping } from './template.ts';

/** Lambda's synchronous invocation payload limit. */
const LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

const SYSTEM_ATTRIBUTES: readonly (keyof SQSRecordAttributes)[] = [
  'AWSTraceHeader',
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SenderId',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageGroupId',
  'MessageDeduplicationId',
  'DeadLetterQueueSourceArn',
];

function toBase64(value: Uint8Array | undefined): string | undefined {
  return value === undefined ? undefined : Buffer.from(value).toString('base64');
}

/** Turns an SDK `Message` into the record Lambda passes to the function. */
export function toSqsRecord(message: Message, queue: LocalQueue, region: string): SQSRecord {
  const received = message.Attributes ?? {};
  const attributes: Partial<Record<keyof SQSRecordAttributes, string>> = {};
  for (const key of SYSTEM_ATTRIBUTES) {
    const value = (received as Record<string, string | undefined>)[key];
    if (value !== undefined) attributes[key] = value;
  }
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    const binaryValue = toBase64(value.BinaryValue);
    messageAttributes[name] = {
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(binaryValue === undefined ? {} : { binaryValue }),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((item) => Buffer.from(item).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    // Lambda always sets the four required attributes; SQS returns them for `MessageSystemAttributeNames: ['All']`.
    attributes: attributes as SQSRecordAttributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes === undefined ? {} : { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: region,
  };
}

/**
 * Reads a function's response as Lambda does with `ReportBatchItemFailures`: the ids to keep, or
 * `invalid` when Lambda would treat the whole batch as failed.
 */
export function failedRecordIds(response: unknown, batchIds: ReadonlySet<string>): { ids: Set<string> } | { invalid: string } {
  if (response === undefined || response === null) return { ids: new Set() };
  if (typeof response !== 'object') return { invalid: `the response is a ${typeof response}, not an object` };
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { ids: new Set() };
  if (!Array.isArray(failures)) return { invalid: 'batchItemFailures is not a list' };
  const ids = new Set<string>();
  for (const failure of failures) {
    const id = typeof failure === 'object' && failure !== null ? (failure as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '') return { invalid: `an itemIdentifier is ${JSON.stringify(id)}` };
    if (!batchIds.has(id)) return { invalid: `itemIdentifier ${id} is not a record of the batch` };
    ids.add(id);
  }
  return { ids };
}

/** A record's share of the 6 MB invocation payload: its body plus 1 KiB for its attributes. */
function recordSize(message: Message): number {
  return Buffer.byteLength(message.Body ?? '') + 1024;
}

/** What the poller needs to reach its queue. */
export interface QueueAccess {
  readonly sqs: SQSClient;
  readonly queue: LocalQueue;
  readonly onError: (error: Error) => void;
}

/** Deletes records (DeleteMessageBatch, 10 at a time); returns how many were deleted. Failures go to `onError`. */
export async function deleteRecords(access: QueueAccess, messages: readonly Message[]): Promise<number> {
  let deleted = 0;
  for (const chunk of inBatches(messages)) {
    const Entries = chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle }));
    try {
      const output = await access.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: access.queue.url, Entries }));
      deleted += output.Successful?.length ?? 0;
      for (const failure of output.Failed ?? []) access.onError(new Error(`delete failed: ${failure.Code}: ${failure.Message}`));
    } catch (error) {
      access.onError(error as Error);
    }
  }
  return deleted;
}

/** Makes records received during a stop visible again at once. */
export async function releaseRecords(access: QueueAccess, messages: readonly Message[]): Promise<void> {
  for (const chunk of inBatches(messages)) {
    const Entries = chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }));
    await access.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: access.queue.url, Entries })).catch(() => undefined);
  }
}

/** Fills the batch up to BatchSize within the batching window (and the payload limit). */
export async function gatherBatch(
  access: QueueAccess,
  mapping: TemplateMapping,
  first: readonly Message[],
  stopping: () => boolean,
): Promise<Message[]> {
  const batch = [...first];
  const windowMs = mapping.maximumBatchingWindowSeconds * 1000;
  if (windowMs === 0 || batch.length >= mapping.batchSize) return batch;
  const until = Date.now() + windowMs;
  let bytes = batch.reduce((sum, message) => sum + recordSize(message), 0);
  while (batch.length < mapping.batchSize && bytes < LAMBDA_PAYLOAD_LIMIT_BYTES && !stopping()) {
    const left = until - Date.now();
    if (left <= 0) break;
    const output = await access.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: access.queue.url,
        MaxNumberOfMessages: Math.min(10, mapping.batchSize - batch.length),
        WaitTimeSeconds: Math.min(20, Math.max(1, Math.floor(left / 1000))),
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    for (const message of output.Messages ?? []) {
      batch.push(message);
      bytes += recordSize(message);
    }
  }
  return batch;
}
