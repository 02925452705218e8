/**
 * The redrive journal: an append-only JSON-lines file that records, per dead-letter message id, how far
 * its redrive got. It is what makes a redrive safe to stop at any point and run again:
 *
 * - `sending`  written (and synced) before SendMessageBatch;
 * - `sent`     written after SQS accepted the copy (with the new message id), before the DLQ delete;
 * - `failed`   SQS refused the copy: nothing was sent;
 * - `deleted`  the DLQ message was deleted.
 *
 * A message found again in the DLQ whose last state is `sent` or `deleted` is deleted without a resend.
 * One whose last state is `sending` (the process died during the send) is ambiguous and is sent again:
 * a possible duplicate with the same body and job id, which the worker's idempotency absorbs.
 */
import { closeSync, fdatasyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** How far one message's redrive got. */
export type JournalState = 'sending' | 'sent' | 'failed' | 'deleted';

/** One journal line. */
export interface JournalEntry {
  /** The dead-letter message's id. */
  readonly id: string;
  readonly state: JournalState;
  /** The copy's message id, for `sent`. */
  readonly messageId?: string;
}

const STATES = new Set<string>(['sending', 'sent', 'failed', 'deleted']);

/** An open journal. */
export class RedriveJournal {
  readonly path: string;
  readonly #states = new Map<string, JournalState>();
  #fd: number | undefined;

  private constructor(path: string) {
    this.path = path;
  }

  /** Opens (creating it and its folder if needed) and reads the journal at `path`. Unreadable lines are skipped. */
  static open(path: string): RedriveJournal {
    const journal = new RedriveJournal(path);
    mkdirSync(dirname(path), { recursive: true });
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as Partial<JournalEntry>;
        if (typeof entry.id === 'string' && typeof entry.state === 'string' && STATES.has(entry.state))
          journal.#states.set(entry.id, entry.state);
      } catch {
        // A line cut short by a crash: the state before it stands.
      }
    }
    journal.#fd = openSync(path, 'a');
    // A crash may have left a partial last line: start on a fresh line.
    if (text.length > 0 && !text.endsWith('\n')) writeSync(journal.#fd, '\n');
    return journal;
  }

  /** The last recorded state of a dead-letter message, if any. */
  state(id: string): JournalState | undefined {
    return this.#states.get(id);
  }

  /** Appends entries in one write and syncs them to disk before returning. */
  record(entries: readonly JournalEntry[]): void {
    if (entries.length === 0) return;
    if (this.#fd === undefined) throw new Error(`journal ${this.path} is closed`);
    const at = new Date().toISOString();
    writeSync(this.#fd, entries.map((entry) => `${JSON.stringify({ ...entry, at })}\n`).join(''));
    fdatasyncSync(this.#fd);
    for (const entry of entries) this.#states.set(entry.id, entry.state);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
