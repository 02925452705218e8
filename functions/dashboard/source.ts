/**
 * The dashboard's data source: what the server asks, whichever place the data comes from (the local
 * environment, or a deployed stage on AWS). The server polls {@link DashboardSource.snapshot} while a page
 * is open, and calls the rest on a page's request.
 */
import type { ActionResult, DeadLetterFilter, Snapshot } from './model.ts';

/** A message body, fetched on request. */
export interface MessageBody {
  readonly messageId: string;
  readonly body: string;
}

/** Where the dashboard's data comes from. */
export interface DashboardSource {
  /** `local` or `stage`. */
  readonly kind: 'local' | 'stage';
  /** The place, in words, for the page's header. */
  readonly target: string;
  /** Milliseconds between snapshots while a page is open. */
  readonly refreshMs: number;
  /** Reads everything the views show (never a message body). Rejects when the source does not answer. */
  snapshot(readOnly: boolean): Promise<Snapshot>;
  /** One dead-letter message's body, or undefined when it is no longer in the DLQ. */
  body(queue: string, messageId: string): Promise<MessageBody | undefined>;
  /** Redrives the selected messages, or all that match `filter`, through the CLI's journaled redrive. */
  redrive(
    queue: string,
    selection: { readonly messageIds: readonly string[] } | { readonly filter: DeadLetterFilter },
  ): Promise<ActionResult>;
  /** Deletes the selected dead-letter messages. */
  deleteMessages(queue: string, messageIds: readonly string[]): Promise<ActionResult>;
  /** Deletes every message of the queue's DLQ. */
  purge(queue: string): Promise<ActionResult>;
  /** Cancels a pending one-time job (deletes its schedule); absent where one-time jobs are not read. */
  cancelSchedule?(name: string): Promise<ActionResult>;
  /** Releases what the source holds (clients, subscriptions). */
  close(): Promise<void>;
}
