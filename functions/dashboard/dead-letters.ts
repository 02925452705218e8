/**
 * The Dead letters view's reads and actions, on any target, through the CLI's own functions: peeking
 * (`peekDeadLetters`, short leases released at once), the journaled redrive (`redrive`, with its journal in
 * `.local/redrive/`, the same file `jobs dlq redrive` uses), and receive-then-delete for the selected messages.
 *
 * Rules: a DLQ is peeked again only when its count changed, after an action, or when its list is older than
 * `maxAgeMs`; never while an action on it runs (a peek hides messages from a running redrive). Bodies are
 * read only on request and never kept.
 */
import { DeleteMessageBatchCommand, PurgeQueueCommand, type Message } from '@aws-sdk/client-sqs';
import { DEFAULT_LEASE_SECONDS, defaultJournalPath } from '../cli/commands/dlq-redrive.ts';
import { redrive } from '../cli/redrive.ts';
import { PEEK_LEASE_SECONDS } from '../cli/commands/dlq-list.ts';
import { peekDeadLetters, receiveLeased, releaseLeases, type DeadLetterView } from '../cli/dead-letters.ts';
import type { ActionResult, DeadLetterFilter, DeadLetterListView, DeadLetterRowView, QueueRowView } from './model.ts';
import type { QueueLocations } from './queue-locations.ts';
import type { MessageBody } from './source.ts';

/** Options of {@link DeadLetterStore}. */
export interface DeadLetterStoreOptions {
  /** Messages listed per DLQ. Default 100. */
  readonly limit?: number;
  /** A list older than this is read again even when the count did not change. Default 30 s. */
  readonly maxAgeMs?: number;
  /** Receives of the selected messages before delete gives up on the rest. Default 20. */
  readonly maxReceives?: number;
}

interface Listed {
  readonly view: DeadLetterListView;
  readonly count: number;
  stale: boolean;
}

const total = (depth: { visible: number; inFlight: number; delayed: number } | undefined): number =>
  depth === undefined ? 0 : depth.visible + depth.inFlight + depth.delayed;

/** The row the page sees: everything but the body. */
function rowOf(view: DeadLetterView): DeadLetterRowView {
  return {
    messageId: view.messageId,
    jobType: view.jobType,
    reason: view.reason,
    error: view.error,
    receiveCount: view.receiveCount,
    failedAt: view.failedAt,
    sentAt: view.sentAt,
  };
}

/** Lists, reads and acts on the stack's dead letters. */
export class DeadLetterStore {
  private readonly lists = new Map<string, Listed>();
  private readonly busy = new Map<string, Promise<unknown>>();
  private readonly limit: number;
  private readonly maxAgeMs: number;
  private readonly maxReceives: number;
  private readonly locations: QueueLocations;

  constructor(locations: QueueLocations, options: DeadLetterStoreOptions = {}) {
    this.locations = locations;
    this.limit = options.limit ?? 100;
    this.maxAgeMs = options.maxAgeMs ?? 30_000;
    this.maxReceives = options.maxReceives ?? 20;
  }

  /** Every DLQ's list, read again where the count in `rows` changed (or the list is old). */
  async listAll(rows: readonly QueueRowView[]): Promise<DeadLetterListView[]> {
    const views = await Promise.all(
      rows.map(async (row) => {
        if (row.deadLetterName === undefined) return undefined;
        const count = total(row.deadLetter);
        const known = this.lists.get(row.queue);
        const fresh = known && !known.stale && known.count === count && Date.now() - known.view.listedAt < this.maxAgeMs;
        if (fresh || this.busy.has(row.queue)) return known?.view;
        const view = await this.read(row.queue, row.deadLetterName, count);
        return view;
      }),
    );
    return views.filter((view): view is DeadLetterListView => view !== undefined);
  }

  private async read(queue: string, deadLetterName: string, count: number): Promise<DeadLetterListView> {
    const { deadLetter } = await this.locations.withDeadLetter(queue);
    const { views } =
      count === 0 ? { views: [] } : await peekDeadLetters(this.locations.target, deadLetter, this.limit, PEEK_LEASE_SECONDS);
    const rows = views.map(rowOf).toSorted((a, b) => (b.failedAt ?? b.sentAt ?? '').localeCompare(a.failedAt ?? a.sentAt ?? ''));
    const view = { queue, deadLetterName, rows, truncated: count > rows.length, listedAt: Date.now() };
    this.lists.set(queue, { view, count, stale: false });
    return view;
  }

  /** Runs an action on one queue's DLQ with no peek in between; the list is read again afterwards. */
  private async exclusive<T>(queue: string, action: () => Promise<T>): Promise<T> {
    const running = (this.busy.get(queue) ?? Promise.resolve()).catch(() => undefined).then(action);
    this.busy.set(queue, running);
    try {
      return await running;
    } finally {
      if (this.busy.get(queue) === running) this.busy.delete(queue);
      const listed = this.lists.get(queue);
      if (listed) listed.stale = true;
    }
  }

  /** One message's body, or undefined when it is no longer there. */
  async body(queue: string, messageId: string): Promise<MessageBody | undefined> {
    const { deadLetter } = await this.locations.withDeadLetter(queue);
    const { views } = await peekDeadLetters(this.locations.target, deadLetter, this.limit, PEEK_LEASE_SECONDS);
    const found = views.find((view) => view.messageId === messageId);
    return found ? { messageId, body: found.body } : undefined;
  }

  /** Redrives the selected messages, or every one matching the filter, through the CLI's journaled redrive. */
  async redrive(
    queue: string,
    selection: { readonly messageIds: readonly string[] } | { readonly filter: DeadLetterFilter },
  ): Promise<ActionResult> {
    const { source, deadLetter } = await this.locations.withDeadLetter(queue);
    const ids = 'messageIds' in selection ? new Set(selection.messageIds) : undefined;
    const filter = 'filter' in selection ? selection.filter : {};
    const report = await this.exclusive(queue, () =>
      redrive(this.locations.target, source, deadLetter, {
        type: filter.jobType || undefined,
        reason: filter.reason || undefined,
        select: ids === undefined ? undefined : (message: Message) => ids.has(message.MessageId ?? ''),
        limit: ids ? ids.size : Number.POSITIVE_INFINITY,
        leaseSeconds: DEFAULT_LEASE_SECONDS,
        journalPath: defaultJournalPath(deadLetter),
      }),
    );
    const moved = report.sent + report.completed;
    const left = report.failed + report.deletePending;
    return {
      ok: left === 0,
      message:
        `redrove ${moved} message(s) from ${report.from} to ${report.to}` +
        (report.failed > 0 ? `; ${report.failed} could not be sent and are still in the DLQ: ${report.errors.join('; ')}` : '') +
        (report.arrivedDuringRun > 0
          ? `; ${report.arrivedDuringRun} reached the DLQ after the redrive started (failed again): left there`
          : '') +
        (report.deletePending > 0 ? `; ${report.deletePending} sent but not yet deleted: redrive again to finish (no duplicates)` : '') +
        ` (journal ${report.journal})`,
    };
  }

  /** Deletes the selected dead-letter messages (received under a lease, deleted with that receipt handle). */
  async deleteMessages(queue: string, messageIds: readonly string[]): Promise<ActionResult> {
    const { deadLetter } = await this.locations.withDeadLetter(queue);
    const target = this.locations.target;
    const wanted = new Set(messageIds);
    return this.exclusive(queue, async () => {
      const others: string[] = [];
      let deleted = 0;
      try {
        for (let receive = 0; receive < this.maxReceives && wanted.size > 0; receive += 1) {
          const messages = await receiveLeased(target, deadLetter, 10, PEEK_LEASE_SECONDS);
          if (messages.length === 0) break;
          const mine = messages.filter((message) => wanted.has(message.MessageId ?? ''));
          for (const message of messages) if (!wanted.has(message.MessageId ?? '')) others.push(message.ReceiptHandle ?? '');
          if (mine.length === 0) continue;
          const result = await target.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: deadLetter.url,
              Entries: mine.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle ?? '' })),
            }),
          );
          for (const success of result.Successful ?? []) wanted.delete(mine[Number(success.Id)]?.MessageId ?? '');
          deleted += result.Successful?.length ?? 0;
        }
      } finally {
        await releaseLeases(target, deadLetter, others);
      }
      const missing = wanted.size > 0 ? `; ${wanted.size} not found (already gone, or held by another reader): list again` : '';
      return { ok: wanted.size === 0, message: `deleted ${deleted} message(s) from ${deadLetter.name}${missing}` };
    });
  }

  /** Deletes every message of the DLQ (PurgeQueue). */
  async purge(queue: string): Promise<ActionResult> {
    const { deadLetter } = await this.locations.withDeadLetter(queue);
    await this.exclusive(queue, () => this.locations.target.sqs.send(new PurgeQueueCommand({ QueueUrl: deadLetter.url })));
    const later = this.locations.target.local ? '' : '; SQS may take up to 60 s to finish';
    return { ok: true, message: `purged ${deadLetter.name}${later}` };
  }
}
