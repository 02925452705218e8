/**
 * The redrive behind `jobs dlq redrive` and the dashboard: moves dead-letter messages back to their source queue,
 * body unchanged, with a `redrivenFrom=<DLQ message id>` attribute (the worker's reason attributes are dropped).
 *
 * Safe to stop at any point (Ctrl-C, a crash, a lost connection): nothing lost, nothing duplicated.
 * - Send, then delete: a DLQ message is deleted only after SQS accepted its copy, using the receipt handle
 *   of the same receive (held under a lease, `--lease`, default 120 s). Dying before the delete leaves the
 *   message in the DLQ: nothing is lost.
 * - A journal (`.local/redrive/...jsonl`, synced to disk) records `sending` before each send, `sent` after
 *   it, `deleted` after the delete. A later run that finds a message already `sent` deletes it without
 *   sending it again: nothing is duplicated. Only a death inside the send call itself (`sending` with no
 *   outcome) leaves it unknown whether SQS took the copy; that message is sent again and reported: same
 *   body, same job id, so the worker's idempotency absorbs it. FIFO queues also get the DLQ message id as
 *   the deduplication id, so SQS itself drops such a resend within 5 minutes.
 * - Only what was in the DLQ when the run started moves: a redriven job that fails again reaches the DLQ as a new
 *   message and stays there (counted), or a run without `--limit` would loop until the cause is fixed.
 * - Ctrl-C stops receiving, finishes the batch in hand (send, journal, delete), and makes every message it
 *   still holds (other job types, failed sends) visible again.
 */
import { DeleteMessageBatchCommand, SendMessageBatchCommand, type Message, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { setTimeout as sleep } from 'node:timers/promises';
import { inBatches, MAX_BATCH_ENTRIES } from '../client/batches.ts';
import { messageBytes } from '../client/message.ts';
import { DEAD_LETTER_ATTRIBUTE } from '../runtime/dead-letter-attributes.ts';
import { SCHEDULER_DEAD_LETTER_ATTRIBUTE } from '../scheduling/message.ts';
import { matchesFilter, receiveLeased, releaseLeases } from './dead-letters.ts';
import { RedriveJournal } from './journal.ts';
import type { LocatedQueue, Target } from './target.ts';

/** The message attribute a redriven copy carries: the id of the DLQ message it came from. */
export const REDRIVEN_FROM_ATTRIBUTE = 'redrivenFrom';
/** Receives in a row that bring nothing new before the run ends (messages held past their lease come back). */
const MAX_STALE_RECEIVES = 3;

/** Attributes not copied: the worker's or the Scheduler's reasons (the copy is a fresh attempt) and an earlier redrive mark. */
const DROPPED_ATTRIBUTES = new Set<string>([
  ...Object.values(DEAD_LETTER_ATTRIBUTE),
  ...Object.values(SCHEDULER_DEAD_LETTER_ATTRIBUTE),
  REDRIVEN_FROM_ATTRIBUTE,
]);

/** What one redrive run did. */
export interface RedriveReport {
  readonly from: string;
  readonly to: string;
  /** Copies sent to the source queue by this run. */
  readonly sent: number;
  /** Copies sent by an earlier run, deleted from the DLQ by this one (not sent again). */
  readonly completed: number;
  /** Messages that do not match `--type` / `--reason`, left in the DLQ. */
  readonly skipped: number;
  /**
   * Messages that reached the DLQ after this run started (a redriven job that failed again), left there: redriving
   * them in the same run would loop until the cause is fixed.
   */
  readonly arrivedDuringRun: number;
  /** Messages SQS refused to take back; still in the DLQ. */
  readonly failed: number;
  /** Copies sent whose DLQ delete failed; the next run deletes them without resending. */
  readonly deletePending: number;
  /** Messages an interrupted run may have sent, sent again (same job id). */
  readonly resentAfterInterruptedSend: number;
  readonly interrupted: boolean;
  readonly errors: readonly string[];
  readonly journal: string;
}

function copyAttributes(message: Message): Record<string, MessageAttributeValue> {
  const copied: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (DROPPED_ATTRIBUTES.has(name) || !value.DataType) continue;
    copied[name] = {
      DataType: value.DataType,
      ...(value.StringValue === undefined ? {} : { StringValue: value.StringValue }),
      ...(value.BinaryValue === undefined ? {} : { BinaryValue: value.BinaryValue }),
    };
  }
  copied[REDRIVEN_FROM_ATTRIBUTE] = { DataType: 'String', StringValue: message.MessageId ?? '' };
  return copied;
}

/** Options of {@link redrive}. */
export interface RedriveOptions {
  readonly type?: string | undefined;
  /** Only messages with this reason (`crashed` = moved by SQS, no reason attached). */
  readonly reason?: string | undefined;
  /** Redrives only the messages it accepts (the dashboard's selection); the others stay in the DLQ, counted as skipped. */
  readonly select?: ((message: Message) => boolean) | undefined;
  readonly limit: number;
  readonly rate?: number | undefined;
  readonly leaseSeconds: number;
  readonly journalPath: string;
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: (moved: number) => void;
}

/** One received batch, triaged: copies to send, and messages an earlier run already sent (to delete only). */
interface TriagedBatch {
  readonly toSend: Message[];
  readonly toDelete: Message[];
  /** Messages this run had not seen before. */
  readonly fresh: number;
}

/** One redrive run: the messages it holds (id -> receipt handle, released at the end) and what it counted. */
class RedriveRun {
  readonly held = new Map<string, string>();
  readonly errors: string[] = [];
  readonly started = Date.now();
  sent = 0;
  completed = 0;
  skipped = 0;
  arrivedDuringRun = 0;
  failed = 0;
  deletePending = 0;
  resent = 0;
  private readonly seen = new Set<string>();

  constructor(
    private readonly target: Target,
    private readonly source: LocatedQueue,
    private readonly dlq: LocatedQueue,
    private readonly options: RedriveOptions,
    private readonly journal: RedriveJournal,
  ) {}

  moved(): number {
    return this.sent + this.completed;
  }

  /** Triages a received batch by the journal, the run's start and the filters; holds what it does not move. */
  triage(messages: readonly Message[]): TriagedBatch {
    let fresh = 0;
    const toSend: Message[] = [];
    const toDelete: Message[] = [];
    for (const message of messages) {
      const id = message.MessageId ?? '';
      const handle = message.ReceiptHandle ?? '';
      if (this.held.has(id)) {
        this.held.set(id, handle); // back after its lease: keep holding it under the new receipt handle
        continue;
      }
      if (!this.seen.has(id)) fresh += 1;
      this.seen.add(id);
      const state = this.journal.state(id);
      if (state === 'sent' || state === 'deleted') {
        toDelete.push(message);
      } else if (Number(message.Attributes?.SentTimestamp ?? 0) > this.started) {
        this.arrivedDuringRun += 1;
        this.held.set(id, handle);
      } else if (!matchesFilter(message, this.options) || this.options.select?.(message) === false) {
        this.skipped += 1;
        this.held.set(id, handle);
      } else {
        if (state === 'sending') this.resent += 1;
        toSend.push(message);
      }
    }
    return { toSend, toDelete, fresh };
  }

  /** Sends copies to the source queue, journaled on both sides of each call; resolves with the messages SQS took. */
  async send(messages: readonly Message[]): Promise<Message[]> {
    const copied: Message[] = [];
    const batches = inBatches(
      messages.map((message) => {
        const attributes = copyAttributes(message);
        return { message, attributes, bytes: messageBytes(message.Body ?? '', attributes) };
      }),
      (item) => item.bytes,
    );
    for (const batch of batches) {
      this.journal.record(batch.map(({ message }) => ({ id: message.MessageId ?? '', state: 'sending' })));
      let result;
      try {
        result = await this.target.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.source.url,
            Entries: batch.map(({ message, attributes }, index) => ({
              Id: String(index),
              MessageBody: message.Body ?? '',
              MessageAttributes: attributes,
              ...(this.source.fifo
                ? { MessageGroupId: message.Attributes?.MessageGroupId ?? 'redrive', MessageDeduplicationId: message.MessageId ?? '' }
                : {}),
            })),
          }),
        );
      } catch (error) {
        // Unknown whether SQS took them: they stay `sending`, are released at the end, and a rerun sends them again.
        for (const { message } of batch) this.held.set(message.MessageId ?? '', message.ReceiptHandle ?? '');
        throw error;
      }
      const accepted = (result.Successful ?? []).flatMap((success) => {
        const entry = batch[Number(success.Id)];
        return entry ? [{ id: entry.message.MessageId ?? '', state: 'sent' as const, messageId: success.MessageId ?? '' }] : [];
      });
      this.journal.record(accepted);
      const refused = (result.Failed ?? []).flatMap((failure) => {
        const entry = batch[Number(failure.Id)];
        if (!entry) return [];
        if (this.errors.length < 5) this.errors.push(`${failure.Code ?? 'Error'}: ${failure.Message ?? ''}`);
        this.held.set(entry.message.MessageId ?? '', entry.message.ReceiptHandle ?? '');
        return [{ id: entry.message.MessageId ?? '', state: 'failed' as const }];
      });
      this.journal.record(refused);
      this.failed += refused.length;
      const acceptedIds = new Set(accepted.map((entry) => entry.id));
      for (const { message } of batch) if (acceptedIds.has(message.MessageId ?? '')) copied.push(message);
      this.sent += accepted.length;
    }
    return copied;
  }

  /** Deletes from the DLQ what is safely in the source queue, with the receipt handles of this receive. */
  async delete(messages: readonly Message[]): Promise<void> {
    let deleteCalls = 0;
    for (const slice of inBatches(messages)) {
      const start = deleteCalls++ * MAX_BATCH_ENTRIES;
      let result;
      try {
        result = await this.target.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.dlq.url,
            Entries: slice.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' })),
          }),
        );
      } catch (error) {
        this.deletePending += messages.length - start;
        throw error;
      }
      this.journal.record(
        (result.Successful ?? []).map((success) => ({ id: slice[Number(success.Id)]?.MessageId ?? '', state: 'deleted' as const })),
      );
      this.deletePending += result.Failed?.length ?? 0;
    }
  }

  report(): RedriveReport {
    return {
      from: this.dlq.name,
      to: this.source.name,
      sent: this.sent,
      completed: this.completed,
      skipped: this.skipped,
      arrivedDuringRun: this.arrivedDuringRun,
      failed: this.failed,
      deletePending: this.deletePending,
      resentAfterInterruptedSend: this.resent,
      interrupted: this.options.signal?.aborted === true,
      errors: this.errors,
      journal: this.options.journalPath,
    };
  }
}

/** Waits until the `--rate` allows the next send (at once when aborted). */
async function pace(run: RedriveRun, options: RedriveOptions): Promise<void> {
  if (options.rate === undefined) return;
  const ms = run.started + (run.sent / options.rate) * 1000 - Date.now();
  if (ms > 0) await sleep(ms, undefined, { signal: options.signal }).catch(() => undefined);
}

/** Redrives a DLQ into its source queue (see the module doc for the guarantees). */
export async function redrive(target: Target, source: LocatedQueue, dlq: LocatedQueue, options: RedriveOptions): Promise<RedriveReport> {
  const journal = RedriveJournal.open(options.journalPath);
  const run = new RedriveRun(target, source, dlq, options, journal);
  let stale = 0;
  try {
    while (!options.signal?.aborted && run.moved() < options.limit) {
      await pace(run, options);
      if (options.signal?.aborted) break;
      const want = Math.min(10, options.limit - run.moved(), options.rate === undefined ? 10 : Math.max(1, Math.floor(options.rate)));
      const messages = await receiveLeased(target, dlq, want, options.leaseSeconds);
      if (messages.length === 0) break;
      const { toSend, toDelete, fresh } = run.triage(messages);
      stale = fresh === 0 && toSend.length === 0 && toDelete.length === 0 ? stale + 1 : 0;
      if (stale >= MAX_STALE_RECEIVES) break;
      const copied = await run.send(toSend);
      run.completed += toDelete.length;
      await run.delete([...copied, ...toDelete]);
      options.onProgress?.(run.moved());
    }
  } finally {
    journal.close();
    await releaseLeases(target, dlq, [...run.held.values()]);
  }
  return run.report();
}
