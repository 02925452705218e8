/**
 * Reading dead-letter messages: receiving them under a lease, describing them (job type, reason, error,
 * receive count as the worker attached them), and handing leases back.
 *
 * A message the worker dead-lettered carries its `reason`. A message without one was moved by SQS itself (the
 * source queue's redrive policy, after `maxReceiveCount` receives): the worker never got to settle it, because
 * it crashed, timed out or ran out of memory. Those are listed and filtered under the reason {@link CRASHED_REASON}.
 * A message of the Scheduler's dead-letter queue carries the Scheduler's attributes instead (the delivery's error and
 * target): it is listed under {@link NOT_DELIVERED_REASON}.
 */
import { ChangeMessageVisibilityBatchCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { inBatches } from '../client/batches.ts';
import { DEAD_LETTER_ATTRIBUTE } from '../runtime/dead-letter-attributes.ts';
import { DEAD_REASONS } from '../runtime/metric-names.ts';
import { SCHEDULER_DEAD_LETTER_ATTRIBUTE } from '../scheduling/message.ts';
import { UsageError } from './errors.ts';
import type { LocatedQueue, Target } from './target.ts';

/** The reason the CLI gives a dead letter that carries none: SQS moved it after the worker failed to settle it. */
export const CRASHED_REASON = 'crashed';
/** The reason the CLI gives a message of the Scheduler's DLQ: the Scheduler could not send the job to its queue. */
export const NOT_DELIVERED_REASON = 'not_delivered';
/** Every reason `--reason` accepts: the worker's, {@link CRASHED_REASON} and {@link NOT_DELIVERED_REASON}. */
export const LISTED_REASONS: readonly string[] = [...DEAD_REASONS, CRASHED_REASON, NOT_DELIVERED_REASON];

/** What a message SQS moved means, with its receive count when the redrive policy gives it. */
export function crashExplanation(maxReceiveCount: number | undefined): string {
  const after = maxReceiveCount === undefined ? 'by SQS (no reason attached)' : `by SQS after ${maxReceiveCount} receives`;
  return `moved ${after}: the worker crashed, timed out or ran out of memory`;
}

/** Checks a `--reason` value. */
export function reasonOption(value: string | undefined): string | undefined {
  if (value !== undefined && !LISTED_REASONS.includes(value)) {
    throw new UsageError(`--reason must be one of ${LISTED_REASONS.join(', ')} (got "${value}")`);
  }
  return value;
}

/** What the CLI shows of a dead-letter message. */
export interface DeadLetterView {
  readonly messageId: string;
  /** The worker's `jobType` attribute, else the body's `type`. */
  readonly jobType: string | undefined;
  /** The worker's reason (`invalid_json`, ..., `retries_exhausted`), or {@link CRASHED_REASON} when SQS moved it. */
  readonly reason: string;
  /** True when SQS moved it (no reason attached): the worker crashed, timed out or ran out of memory. */
  readonly movedBySqs: boolean;
  /** The worker's error; for a message SQS moved, what that means ({@link crashExplanation}). */
  readonly error: string | undefined;
  /** Deliveries before it died: as the worker recorded them, or the redrive policy's maxReceiveCount when SQS moved it. */
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

/** The name of the job queue a message of the Scheduler's DLQ was meant for (from its `TARGET_ARN`); undefined for others. */
export function scheduledTargetOf(message: Message): string | undefined {
  return stringAttribute(message, SCHEDULER_DEAD_LETTER_ATTRIBUTE.targetArn)?.split(':')[5];
}

/** The reason of a dead-letter message: the worker's attribute, else {@link NOT_DELIVERED_REASON} or {@link CRASHED_REASON}. */
export function reasonOf(message: Message): string {
  const workerReason = stringAttribute(message, DEAD_LETTER_ATTRIBUTE.reason);
  if (workerReason !== undefined) return workerReason;
  return scheduledTargetOf(message) === undefined ? CRASHED_REASON : NOT_DELIVERED_REASON;
}

/** Whether a dead-letter message passes the `--type` and `--reason` filters (undefined = any). */
export function matchesFilter(
  message: Message,
  filter: { readonly type?: string | undefined; readonly reason?: string | undefined },
): boolean {
  return (
    (filter.type === undefined || jobTypeOf(message) === filter.type) &&
    (filter.reason === undefined || reasonOf(message) === filter.reason)
  );
}

/**
 * Describes a dead-letter message. `maxReceiveCount` is the source queue's redrive policy (after how many
 * receives SQS moves a message), used for the messages SQS moved.
 */
export function describeDeadLetter(message: Message, maxReceiveCount?: number): DeadLetterView {
  const sent = Number(message.Attributes?.SentTimestamp);
  const workerReason = stringAttribute(message, DEAD_LETTER_ATTRIBUTE.reason);
  const scheduledTarget = scheduledTargetOf(message);
  const common = {
    messageId: message.MessageId ?? '',
    jobType: jobTypeOf(message),
    sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : undefined,
    body: message.Body ?? '',
  };
  if (workerReason === undefined && scheduledTarget !== undefined) {
    const code = stringAttribute(message, SCHEDULER_DEAD_LETTER_ATTRIBUTE.errorCode) ?? 'Error';
    const why = stringAttribute(message, SCHEDULER_DEAD_LETTER_ATTRIBUTE.errorMessage) ?? '';
    return {
      ...common,
      reason: NOT_DELIVERED_REASON,
      movedBySqs: false,
      error: `the Scheduler could not send it to ${scheduledTarget}: ${code}: ${why}`,
      receiveCount: undefined,
      failedAt: undefined,
      sourceQueue: scheduledTarget,
    };
  }
  const movedBySqs = workerReason === undefined;
  return {
    ...common,
    reason: workerReason ?? CRASHED_REASON,
    movedBySqs,
    error: movedBySqs ? crashExplanation(maxReceiveCount) : stringAttribute(message, DEAD_LETTER_ATTRIBUTE.error),
    receiveCount: movedBySqs
      ? maxReceiveCount === undefined
        ? undefined
        : String(maxReceiveCount)
      : stringAttribute(message, DEAD_LETTER_ATTRIBUTE.receiveCount),
    failedAt: stringAttribute(message, DEAD_LETTER_ATTRIBUTE.failedAt),
    sourceQueue: stringAttribute(message, DEAD_LETTER_ATTRIBUTE.sourceQueue),
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
  for (const slice of inBatches(receiptHandles)) {
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

/** What {@link peekDeadLetters} saw. */
export interface PeekResult {
  readonly views: DeadLetterView[];
  /** Messages read, matching the filter or not. */
  readonly read: number;
  /** Messages that could not be made visible again (they reappear when their lease ends). */
  readonly unreleased: number;
}

/**
 * Reads up to `limit` messages (that pass `filter`) without consuming them: each is received under a short lease (`leaseSeconds`)
 * and made visible again right after (ChangeMessageVisibility 0), so a worker or a redrive running at the
 * same time is delayed by at most the lease. Receiving raises SQS's receive count of the copy; nothing else
 * changes.
 */
export async function peekDeadLetters(
  target: Target,
  queue: LocatedQueue,
  limit: number,
  leaseSeconds: number,
  options: { readonly filter?: Parameters<typeof matchesFilter>[1]; readonly signal?: AbortSignal | undefined } = {},
): Promise<PeekResult> {
  const { filter = {}, signal } = options;
  const views: DeadLetterView[] = [];
  const handles: string[] = [];
  const seen = new Set<string>();
  const aborted = (): boolean => signal?.aborted === true;
  let unreleased = 0;
  try {
    while (views.length < limit && !aborted()) {
      const messages = await receiveLeased(target, queue, limit - views.length, leaseSeconds);
      const fresh = messages.filter((message) => !seen.has(message.MessageId ?? ''));
      for (const message of messages) if (message.ReceiptHandle) handles.push(message.ReceiptHandle);
      if (fresh.length === 0) break;
      for (const message of fresh) {
        seen.add(message.MessageId ?? '');
        if (matchesFilter(message, filter) && views.length < limit) views.push(describeDeadLetter(message, queue.maxReceiveCount));
      }
    }
  } finally {
    unreleased = await releaseLeases(target, queue, handles);
  }
  return { views, read: seen.size, unreleased };
}
