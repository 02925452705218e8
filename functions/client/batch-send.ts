/**
 * SendMessageBatch with per-entry retries: packs messages into calls of at most 10 entries and 1 MiB,
 * sends them, and resends only the entries SQS reports as failed through no fault of the sender
 * (`SenderFault: false`), with bounded, jittered exponential backoff. Reports every entry's fate.
 */
import { SendMessageBatchCommand, type SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { inBatches } from './batches.ts';
import { SendFailedError } from './errors.ts';

export { MAX_BATCH_ENTRIES } from './batches.ts';

/** How failed entries are retried. */
export interface BatchRetryPolicy {
  /** Attempts per entry including the first (1 = no retry). */
  readonly maxAttempts: number;
  /** Backoff before the second attempt, in ms (doubles each time, full jitter). */
  readonly baseDelayMs: number;
  /** Longest backoff, in ms. */
  readonly maxDelayMs: number;
}

/** Default: 5 attempts, 100 ms doubling up to 2 s, full jitter. */
export const DEFAULT_BATCH_RETRY: BatchRetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2_000 };

/** One message to send in a batch. `key` is unique within one call of {@link sendInBatches}. */
export interface BatchItem {
  readonly key: number;
  readonly bytes: number;
  readonly fields: Omit<SendMessageBatchRequestEntry, 'Id'>;
}

/** What happened to one item. */
export type BatchItemOutcome =
  | { readonly key: number; readonly ok: true; readonly messageId: string; readonly attempts: number }
  | { readonly key: number; readonly ok: false; readonly error: SendFailedError; readonly attempts: number };

/** Backoff before attempt `attempt + 1`: uniform in [0, min(max, base * 2^(attempt-1))]. */
export function backoffMs(policy: BatchRetryPolicy, attempt: number, random: () => number = Math.random): number {
  return random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Turns any error the SDK throws into a {@link SendFailedError}. */
export function toSendFailedError(error: unknown): SendFailedError {
  if (error instanceof SendFailedError) return error;
  const failure = error as { name?: unknown; message?: unknown; $fault?: unknown };
  const code = typeof failure.name === 'string' ? failure.name : 'Error';
  const message = typeof failure.message === 'string' && failure.message ? failure.message : String(error);
  return new SendFailedError(`SQS did not take the message: ${code}: ${message}`, {
    code,
    senderFault: failure.$fault === 'client',
    cause: error,
  });
}

async function sendOneBatch(
  sqs: SQSClient,
  queueUrl: string,
  batch: readonly BatchItem[],
  policy: BatchRetryPolicy,
): Promise<BatchItemOutcome[]> {
  const outcomes: BatchItemOutcome[] = [];
  let pending = batch;
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    let result;
    try {
      result = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending.map((item) => ({ Id: String(item.key), ...item.fields })) }),
      );
    } catch (error) {
      // The whole call failed after the SDK's own retries: report it for every entry still pending.
      const failure = toSendFailedError(error);
      for (const item of pending) outcomes.push({ key: item.key, ok: false, error: failure, attempts: attempt });
      break;
    }
    const byId = new Map(pending.map((item) => [String(item.key), item]));
    for (const success of result.Successful ?? []) {
      const item = byId.get(success.Id ?? '');
      if (!item) continue;
      byId.delete(success.Id ?? '');
      outcomes.push({ key: item.key, ok: true, messageId: success.MessageId ?? '', attempts: attempt });
    }
    const retry: BatchItem[] = [];
    for (const failed of result.Failed ?? []) {
      const item = byId.get(failed.Id ?? '');
      if (!item) continue;
      byId.delete(failed.Id ?? '');
      const senderFault = failed.SenderFault === true;
      if (!senderFault && attempt < policy.maxAttempts) {
        retry.push(item);
        continue;
      }
      const code = failed.Code ?? 'Unknown';
      const error = new SendFailedError(`SQS refused the entry: ${code}${failed.Message ? `: ${failed.Message}` : ''}`, {
        code,
        senderFault,
      });
      outcomes.push({ key: item.key, ok: false, error, attempts: attempt });
    }
    // An entry SQS did not mention at all is treated as a retryable failure.
    for (const item of byId.values()) {
      if (attempt < policy.maxAttempts) retry.push(item);
      else
        outcomes.push({
          key: item.key,
          ok: false,
          error: new SendFailedError('SQS did not report on the entry', { code: 'Unreported', senderFault: false }),
          attempts: attempt,
        });
    }
    pending = retry;
    if (pending.length > 0) await sleep(backoffMs(policy, attempt));
  }
  return outcomes;
}

/**
 * Sends every item to `queueUrl` in packed batches, at most `concurrency` calls at once. Never rejects:
 * every item gets an outcome. `onSettled` is called with each batch's outcomes as it finishes.
 */
export async function sendInBatches(
  sqs: SQSClient,
  queueUrl: string,
  items: readonly BatchItem[],
  options: { policy: BatchRetryPolicy; concurrency: number; onSettled?: (outcomes: readonly BatchItemOutcome[]) => void },
): Promise<BatchItemOutcome[]> {
  const batches = inBatches(items, (item) => item.bytes);
  const outcomes: BatchItemOutcome[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next++] as BatchItem[];
      const settled = await sendOneBatch(sqs, queueUrl, batch, options.policy);
      outcomes.push(...settled);
      options.onSettled?.(settled);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, batches.length) }, worker));
  return outcomes;
}
