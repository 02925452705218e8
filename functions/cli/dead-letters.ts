/**
 * Reading dead-letter messages: receiving them under a lease, describing them (job type, reason, error,
 * receive count as the worker attached them), and handing leases back.
 */
import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTE } from '../runtime/dead-letter-attributes.ts';
import type { LocatedQueue, Target } from './target.ts';

/** What the CLI shows of a dead-letter message. */
export interface DeadLetterView {
  readonly messageId: string;
  /** The worker's `jobType` attribute, else the body's `type`. */
  readonly jobType: string | undefined;
  /** `invalid_json`, `unknown_type`, `invalid_payload`, `permanent_error`, `retries_exhausted`; absent when SQS's redrive policy moved it. */
  readonly reason: string | undefined;
  readonly error: string | undefined;
  /** Deliveries before it died, as the worker recorded them. */
  readonly receiveCount: string | undefined;
  readonly failedAt: string | undefined;
  readonly sourceQueue: string | undefined;
  /** When the original was sent (ISO). */
  readonly sentAt: string | undefined;
  readonly body: string;
}

/** Reads a string message attribute. */
export function stringAttribute(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

/** The job type of a dead-letter message: the worker's attribute, else the body's `type`. */
export function jobTypeOf(message: Message): string | undefined {
  const fromAttribute = stringAttribute(message, DEAD_LETTER_ATTRIBUTE.jobType);
  if (fromAttribute !== undefined) return fromAttribute;
  try {
    const body = JSON.parse(message.Body ?? '') as { type?: unknown };
    return typeof body.type === 'string' ? body.type : undefined;
  } catch {
    return undefined;
  }
}

/** Describes a dead-letter message. */
export function describeDeadLetter(message: Message): DeadLetterView {
  const sent = Number(message.Attributes?.SentTimestamp);
  return {
    messageId: message.MessageId ?? '',
    jobType: jobTypeOf(message),
    reason: stringAttribute(message, DEAD_LETTER_ATTRIBUTE.reason),
    error: stringAttribute(message, DEAD_LETTER_ATTRIBUTE.error),
    receiveCount: stringAttribute(message, DEAD_LETTER_ATTRIBUTE.receiveCount),
    failedAt: stringAttribute(message, DEAD_LETTER_ATTRIBUTE.failedAt),
    sourceQueue: stringAttribute(message, DEAD_LETTER_ATTRIBUTE.sourceQueue),
    sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : undefined,
    body: message.Body ?? '',
  };
}

/** Receives up to `max` (<= 10) messages, each leased for `leaseSeconds`, with all their attributes. */
export async function receiveLeased(
  target: Target,
  queue: LocatedQueue,
  max: number,
  leaseSeconds: number,
  waitSeconds = 1,
): Promise<Message[]> {
  const { Messages = [] } = await target.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queue.url,
      MaxNumberOfMessages: Math.max(1, Math.min(10, max)),
      VisibilityTimeout: leaseSeconds,
      WaitTimeSeconds: waitSeconds,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return Messages;
}

/** Makes leased messages visible again at once (ChangeMessageVisibility 0). Returns how many could not be released. */
export async function releaseLeases(target: Target, queue: LocatedQueue, receiptHandles: readonly string[]): Promise<number> {
  let failed = 0;
  for (let start = 0; start < receiptHandles.length; start += 10) {
    const slice = receiptHandles.slice(start, start + 10);
    try {
      const result = await target.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queue.url,
          Entries: slice.map((handle, index) => ({ Id: String(index), ReceiptHandle: handle, VisibilityTimeout: 0 })),
        }),
      );
      failed += result.Failed?.length ?? 0;
    } catch {
      failed += slice.length;
    }
  }
  return failed;
}
