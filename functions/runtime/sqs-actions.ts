/**
 * The SQS calls the worker makes besides what Lambda does for it: sending dead messages to the DLQ and setting a
 * failed message's visibility to its backoff delay. Only failures need them, so the SQS client is imported and
 * created on first use (then kept at module scope): a batch that succeeds loads none of it.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { inBatches } from '../client/batches.ts';
import { stringMessageAttributes } from './dead-letter-attributes.ts';
import { loadedOnce } from './remembered.ts';

type Sqs = { readonly sdk: typeof import('@aws-sdk/client-sqs'); readonly client: SQSClient };
const loadSqs = loadedOnce(() => import('@aws-sdk/client-sqs').then((sdk): Sqs => ({ sdk, client: new sdk.SQSClient({}) })));

/** One message to put on the dead-letter queue: the source message's id, body, group id (FIFO) and why it is dead. */
export interface DeadLetterEntry {
  readonly id: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly groupId?: string | undefined;
}

/** One visibility change. */
export interface VisibilityEntry {
  readonly id: string;
  readonly receiptHandle: string;
  readonly visibilityTimeoutSeconds: number;
}

/** The SQS calls the processor makes on failures; replaceable in tests and benchmarks. */
export interface SqsActions {
  readonly sendToDeadLetterQueue: typeof sendToDeadLetterQueue;
  readonly changeVisibility: typeof changeVisibility;
}

/**
 * Sends `entries` in batch calls (10 entries, and 1 MiB when `size` is given), an entry's batch id its index in its
 * batch; resolves with the ids that failed, refused by SQS or in a call that failed. Never rejects.
 */
async function sendInBatches<Entry extends { readonly id: string }>(
  entries: readonly Entry[],
  size: ((entry: Entry) => number) | undefined,
  send: (sqs: Sqs, batch: Entry[]) => Promise<{ Failed?: { Id?: string | undefined }[] | undefined }>,
): Promise<Set<string>> {
  const failed = new Set<string>();
  await Promise.all(
    inBatches(entries, size).map(async (batch) => {
      try {
        const result = await send(await loadSqs(), batch);
        for (const failure of result.Failed ?? []) {
          const entry = batch[Number(failure.Id)];
          if (entry) failed.add(entry.id);
        }
      } catch {
        for (const entry of batch) failed.add(entry.id);
      }
    }),
  );
  return failed;
}

function entryBytes(entry: DeadLetterEntry): number {
  let bytes = Buffer.byteLength(entry.body);
  for (const [key, value] of Object.entries(entry.attributes)) bytes += Buffer.byteLength(key) + Buffer.byteLength(value) + 6;
  return bytes;
}

/** Sends entries to the DLQ with SendMessageBatch; resolves with the ids NOT sent (returned as failures, so nothing is lost). */
export function sendToDeadLetterQueue(queueUrl: string, entries: readonly DeadLetterEntry[]): Promise<Set<string>> {
  const fifo = queueUrl.endsWith('.fifo');
  return sendInBatches(entries, entryBytes, ({ sdk, client }, batch) =>
    client.send(
      new sdk.SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((entry, index) => ({
          Id: String(index),
          MessageBody: entry.body,
          MessageAttributes: stringMessageAttributes(entry.attributes),
          ...(fifo ? { MessageGroupId: entry.groupId ?? 'dead-letter', MessageDeduplicationId: entry.id } : {}),
        })),
      }),
    ),
  );
}

/**
 * Sets each message's visibility timeout (its backoff) with ChangeMessageVisibilityBatch; resolves with the ids whose
 * change failed (harmless: the record is still a failure, and comes back after the queue's own timeout instead).
 */
export function changeVisibility(queueUrl: string, entries: readonly VisibilityEntry[]): Promise<Set<string>> {
  return sendInBatches(entries, undefined, ({ sdk, client }, batch) =>
    client.send(
      new sdk.ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((entry, index) => ({
          Id: String(index),
          ReceiptHandle: entry.receiptHandle,
          VisibilityTimeout: entry.visibilityTimeoutSeconds,
        })),
      }),
    ),
  );
}

/**
 * The URL of a queue from its ARN (`arn:aws:sqs:<region>:<account>:<name>`), on the endpoint the SDK would use:
 * `endpoint` (`AWS_ENDPOINT_URL_SQS`, local runs) when given, else the regional SQS endpoint.
 */
export function queueUrlFromArn(arn: string, endpoint: string | undefined): string | undefined {
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[2] !== 'sqs') return undefined;
  const [, , , region, account, name] = parts;
  const base = endpoint ? endpoint.replace(/\/+$/, '') : `https://sqs.${region}.amazonaws.com`;
  return `${base}/${account}/${name}`;
}
