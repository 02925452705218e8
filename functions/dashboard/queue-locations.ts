/**
 * The stack's queues and dead-letter queues on a target, found once with the CLI's own lookup
 * (`locateQueue` / `locateDeadLetterQueue`) and kept, so a refresh costs one GetQueueAttributes per queue.
 * A queue that is missing is looked up again at the next refresh.
 */
import { queueDepth } from '../cli/commands/queues.ts';
import { QueueMissingError } from '../cli/errors.ts';
import { locateDeadLetterQueue, locateQueue, type LocatedQueue, type Target } from '../cli/target.ts';
import { queueNames } from '../jobs/catalog.ts';
import type { QueueRowView } from './model.ts';

/** A queue of the stack and its DLQ, as located. */
export interface LocatedPair {
  readonly queue: string;
  readonly source: LocatedQueue;
  readonly deadLetter: LocatedQueue | undefined;
  readonly problem: string | undefined;
}

/** An unknown queue name in a request. */
export class UnknownQueueError extends Error {
  override readonly name: string = 'UnknownQueueError';
}

/** Finds and remembers the stack's queues on one target. */
export class QueueLocations {
  private readonly found = new Map<string, LocatedPair>();
  readonly target: Target;
  readonly queues: readonly string[];

  constructor(target: Target, queues: readonly string[] = queueNames) {
    this.target = target;
    this.queues = queues;
  }

  /** The queue and its DLQ, or a problem saying what is missing (QueueMissingError's text). */
  async pair(queue: string): Promise<LocatedPair | { readonly queue: string; readonly problem: string }> {
    const known = this.found.get(queue);
    if (known) return known;
    try {
      const source = await locateQueue(this.target, queue);
      try {
        const deadLetter = await locateDeadLetterQueue(this.target, source);
        const pair = { queue, source, deadLetter, problem: undefined };
        this.found.set(queue, pair);
        return pair;
      } catch (error) {
        if (!(error instanceof QueueMissingError)) throw error;
        return { queue, source, deadLetter: undefined, problem: error.message };
      }
    } catch (error) {
      if (!(error instanceof QueueMissingError)) throw error;
      return { queue, problem: error.message };
    }
  }

  /** A queue that has a DLQ; throws {@link UnknownQueueError} for a name that is not a queue of the stack. */
  async withDeadLetter(queue: string): Promise<{ source: LocatedQueue; deadLetter: LocatedQueue }> {
    if (!this.queues.includes(queue)) throw new UnknownQueueError(`"${queue}" is not a queue of the stack (${this.queues.join(', ')})`);
    const pair = await this.pair(queue);
    if (!('source' in pair) || pair.deadLetter === undefined) throw new UnknownQueueError(pair.problem ?? `queue "${queue}" has no DLQ`);
    return { source: pair.source, deadLetter: pair.deadLetter };
  }

  /** Every queue's row, with the same reads and fields as `jobs queues --json`. */
  rows(): Promise<QueueRowView[]> {
    return Promise.all(
      this.queues.map(async (queue): Promise<QueueRowView> => {
        const pair = await this.pair(queue);
        if (!('source' in pair)) {
          return { queue, name: undefined, depth: undefined, deadLetterName: undefined, deadLetter: undefined, problem: pair.problem };
        }
        const [depth, deadLetter] = await Promise.all([
          queueDepth(this.target, pair.source.url),
          pair.deadLetter ? queueDepth(this.target, pair.deadLetter.url) : undefined,
        ]);
        return { queue, name: pair.source.name, depth, deadLetterName: pair.deadLetter?.name, deadLetter, problem: pair.problem };
      }),
    );
  }
}
