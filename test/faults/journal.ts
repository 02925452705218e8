/**
 * The fault-injection run's journal: one JSON line per event, appended by the chaos jobs in every sandbox
 * (sandboxes are threads of the test process, so one file with `appendFileSync`, one `write` per line, keeps
 * whole lines in the order they happened) and read back by the test.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

/** The variable that tells the chaos worker where the journal is. */
export const JOURNAL_ENV = 'CHAOS_JOURNAL';

/** What a line records. */
export type JournalEvent =
  /** A chaos worker module was loaded: a cold start. */
  | 'init'
  /** A job handler was called (one delivery that got past validation and the idempotency lease). */
  | 'attempt'
  /** The job's side effect ran. Exactly one per completed job is the whole point. */
  | 'effect'
  /** The job saw its signal abort (its timeout) and stopped without its side effect. */
  | 'aborted';

/** One journal line. */
export interface JournalLine {
  readonly event: JournalEvent;
  /** Epoch milliseconds. */
  readonly at: number;
  readonly jobId?: string;
  readonly messageId?: string;
  /** `ctx.attempt` (failed runs + 1). */
  readonly attempt?: number;
  /** What the plan told this attempt to do (`ok` when the script has no step for it). */
  readonly step?: string;
  /** FIFO message group and sequence number. */
  readonly group?: string;
  readonly seq?: number;
  /** The sandbox's module instance (for `init`). */
  readonly instance?: string;
}

/** Appends one line (one `write` call) to the journal at `path`. */
export function appendJournal(path: string, line: JournalLine): void {
  appendFileSync(path, `${JSON.stringify(line)}\n`);
}

/** Reads every line of the journal; an absent file is an empty journal. Throws on a torn line. */
export function readJournal(path: string): JournalLine[] {
  if (!existsSync(path)) return [];
  const lines: JournalLine[] = [];
  for (const [index, text] of readFileSync(path, 'utf8').split('\n').entries()) {
    if (text === '') continue;
    try {
      lines.push(JSON.parse(text) as JournalLine);
    } catch (error) {
      throw new Error(`journal line ${index + 1} is not JSON (a torn write?): ${text.slice(0, 120)}`, { cause: error });
    }
  }
  return lines;
}
