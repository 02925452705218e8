/**
 * Lambda's view of SQS messages: the record it passes to the function (`SQSRecord`, built from an SDK
 * `Message`), and how it reads a `ReportBatchItemFailures` response (which records to keep, or the whole
 * batch failed when an identifier is empty, missing or not in the batch).
 */
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import type { LocalQueue } from './template.ts';

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
export function recordSize(message: Message): number {
  return Buffer.byteLength(message.Body ?? '') + 1024;
}
