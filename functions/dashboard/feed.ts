/**
 * The live feed: polls the data source every `refreshMs` while at least one page is connected (one poll
 * for all pages, none when no page is open), and sends each snapshot to every page as a Server-Sent Event.
 * When the source fails or does not answer within `timeoutMs`, pages get a `status` event saying so, and
 * another when it answers again.
 */
import type { ServerResponse } from 'node:http';
import type { Snapshot, SourceStatus } from './model.ts';
import type { DashboardSource } from './source.ts';

/** Options of {@link LiveFeed}. */
export interface LiveFeedOptions {
  readonly readOnly: boolean;
  /** A snapshot taking longer than this counts as "not answering". Default 10 s. */
  readonly timeoutMs?: number;
}

/** A snapshot that took too long. */
export class SourceTimeoutError extends Error {
  override readonly name: string = 'SourceTimeoutError';
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SourceTimeoutError(`no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.split('\n')[0]?.slice(0, 300) ?? 'unknown error';
}

/** Sends snapshots to connected pages. */
export class LiveFeed {
  private readonly pages = new Set<ServerResponse>();
  private source: DashboardSource | undefined;
  private last: Snapshot | undefined;
  private status: SourceStatus = { ok: false, problem: 'the data source is starting', lastGoodAt: undefined };
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private readonly readOnly: boolean;
  private readonly timeoutMs: number;

  constructor(options: LiveFeedOptions) {
    this.readOnly = options.readOnly;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Sets (or replaces) the data source; pages get its first snapshot at once. */
  setSource(source: DashboardSource): void {
    this.source = source;
    this.last = undefined;
    this.poke();
  }

  /** The current source, if any. */
  get current(): DashboardSource | undefined {
    return this.source;
  }

  /** Starts streaming to one page (an SSE response). */
  attach(response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    response.write('retry: 2000\n\n');
    this.pages.add(response);
    response.on('close', () => {
      this.pages.delete(response);
      if (this.pages.size === 0) this.stopTimer();
    });
    this.send(response, 'status', this.status);
    if (this.last) this.send(response, 'snapshot', this.last);
    if (!this.timer) this.poke();
  }

  /** Polls now (after an action), then on schedule. */
  poke(): void {
    if (this.pages.size === 0) return;
    this.stopTimer();
    this.polling ??= this.poll().finally(() => {
      this.polling = undefined;
      this.schedule();
    });
  }

  private schedule(): void {
    this.stopTimer();
    if (this.pages.size === 0) return;
    this.timer = setTimeout(() => this.poke(), this.source?.refreshMs ?? 1000);
  }

  private stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    const source = this.source;
    if (!source) return;
    try {
      const snapshot = await withTimeout(source.snapshot(this.readOnly), this.timeoutMs);
      this.last = snapshot;
      if (!this.status.ok) this.setStatus({ ok: true, problem: undefined, lastGoodAt: snapshot.at });
      else this.status = { ...this.status, lastGoodAt: snapshot.at };
      this.broadcast('snapshot', snapshot);
    } catch (error) {
      this.setStatus({
        ok: false,
        problem: `${source.target} does not answer (${describe(error)}). Is it running? The page updates again when it answers.`,
        lastGoodAt: this.status.lastGoodAt,
      });
    }
  }

  private setStatus(status: SourceStatus): void {
    this.status = status;
    this.broadcast('status', status);
  }

  private broadcast(event: string, data: unknown): void {
    for (const page of this.pages) this.send(page, event, data);
  }

  private send(page: ServerResponse, event: string, data: unknown): void {
    page.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** Ends every stream. */
  close(): void {
    this.stopTimer();
    for (const page of this.pages) page.end();
    this.pages.clear();
  }
}
