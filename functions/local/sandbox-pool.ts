/**
 * The warm sandboxes of one function, shared by its pollers as Lambda reuses any idle execution environment.
 *
 * Rules: an invocation takes an idle sandbox, or starts a new one (a cold start, counted); a sandbox runs one
 * invocation at a time, so a pool never holds more sandboxes than invocations run at once; a dead sandbox
 * (timeout, crash) is dropped and never reused; {@link SandboxPool.reload} ends every sandbox (each after its
 * running invocation, closing its module's metrics client) and the next invocation cold-starts again.
 * Sandbox ids are `<function>#<n>`, n counting from 1 for the life of the pool. {@link SandboxPool.snapshot}
 * is what a dashboard shows: per sandbox its invocations and V8 heap.
 */
import { readdirSync } from 'node:fs';
import type { SQSEvent } from 'aws-lambda';
import { Sandbox, type InvocationOutcome, type SandboxOptions } from './sandbox.ts';

/** One sandbox of a pool, as {@link SandboxPool.snapshot} sees it. */
export interface SandboxSnapshot {
  /** `<function>#<n>`. */
  readonly id: string;
  readonly busy: boolean;
  /** Invocations it has run (or is running). */
  readonly invocations: number;
  /** Its thread's V8 heap in use and limit (`worker.getHeapStatistics()`); undefined when the thread just ended. */
  readonly heapUsedBytes: number | undefined;
  readonly heapLimitBytes: number | undefined;
}

/** A pool as a dashboard shows it. */
export interface PoolSnapshot {
  readonly functionName: string;
  /** Invocations since the pool started. */
  readonly invocations: number;
  /** Sandboxes started since the pool started (each a cold start). */
  readonly coldStarts: number;
  /** Open file descriptors of this process (`/proc/self/fd`), which every sandbox thread shares; undefined without /proc. */
  readonly openFds: number | undefined;
  /** The sandboxes alive now. */
  readonly sandboxes: readonly SandboxSnapshot[];
}

/** One invocation through the pool: its outcome and the sandbox that ran it. */
export interface PooledInvocation {
  readonly outcome: InvocationOutcome;
  readonly sandboxId: string;
  /** True when the invocation started a new sandbox. */
  readonly coldStart: boolean;
  /** The sandbox's module load time. */
  readonly initMs: number;
}

/** The pool was closed; it starts no sandbox. */
export class SandboxPoolClosedError extends Error {
  override readonly name: string = 'SandboxPoolClosedError';
}

interface Entry {
  readonly sandbox: Sandbox;
  readonly id: string;
  invocations: number;
}

function openFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length - 1; // minus the descriptor of the listing itself
  } catch {
    return undefined;
  }
}

/** The sandboxes of one function. */
export class SandboxPool {
  private entries: Entry[] = [];
  private readonly starting = new Set<Promise<Sandbox>>();
  private invocations = 0;
  /** Sandboxes started, each a cold start; the last one's number. */
  private coldStarts = 0;
  private closed = false;

  /** `options` are every sandbox's (entry module, export, memory, environment, log sink). Starts nothing yet. */
  constructor(private readonly options: SandboxOptions) {}

  /** Sandboxes alive now. */
  get size(): number {
    return this.entries.filter((entry) => entry.sandbox.isAlive).length;
  }

  /**
   * Runs one invocation in an idle sandbox, or in a new one (a cold start). Rejects with `SandboxInitError`
   * when a new sandbox's module does not load, and with {@link SandboxPoolClosedError} after {@link close}.
   * From finding the sandbox to calling it there is no `await`, so no other invocation can take it meanwhile.
   */
  async invoke(event: SQSEvent, timeoutMs: number, requestId: string): Promise<PooledInvocation> {
    const run = async (entry: Entry, coldStart: boolean): Promise<PooledInvocation> => {
      this.invocations += 1;
      entry.invocations += 1;
      const outcome = await entry.sandbox.invoke(event, timeoutMs, requestId);
      return { outcome, sandboxId: entry.id, coldStart, initMs: entry.sandbox.initMs };
    };
    for (;;) {
      if (this.closed) throw new SandboxPoolClosedError(`${this.options.functionName}: the sandbox pool is closed`);
      this.entries = this.entries.filter((entry) => entry.sandbox.isAlive);
      const idle = this.entries.find((entry) => !entry.sandbox.isBusy);
      if (idle !== undefined) return run(idle, false);
      const started = Sandbox.start(this.options);
      this.starting.add(started);
      let sandbox: Sandbox;
      try {
        sandbox = await started;
      } finally {
        this.starting.delete(started);
      }
      // A reload while it was starting closed it: start another.
      if (!sandbox.isAlive) continue;
      this.coldStarts += 1;
      const entry: Entry = { sandbox, id: `${this.options.functionName}#${this.coldStarts}`, invocations: 0 };
      this.entries.push(entry);
      return run(entry, true);
    }
  }

  /** Ends every sandbox (each after its running invocation), including those still starting; the pool stays usable. */
  async reload(): Promise<void> {
    const pending = [...this.starting].map((started) => started.catch(() => undefined));
    const current = this.entries.splice(0).map((entry) => entry.sandbox);
    const late = (await Promise.all(pending)).filter((sandbox): sandbox is Sandbox => sandbox !== undefined);
    await Promise.all([...current, ...late].map((sandbox) => sandbox.close()));
  }

  /** Kills every sandbox that is running an invocation now ({@link Sandbox.kill}); resolves with how many. */
  async killBusy(): Promise<number> {
    const busy = this.entries.filter((entry) => entry.sandbox.isAlive && entry.sandbox.isBusy);
    await Promise.all(busy.map((entry) => entry.sandbox.kill()));
    return busy.length;
  }

  /** Ends every sandbox and refuses further invocations. */
  close(): Promise<void> {
    this.closed = true;
    return this.reload();
  }

  /** The pool and each live sandbox, with its heap read from its thread now. */
  async snapshot(): Promise<PoolSnapshot> {
    const alive = this.entries.filter((entry) => entry.sandbox.isAlive);
    const sandboxes = await Promise.all(
      alive.map(async (entry): Promise<SandboxSnapshot> => {
        const heap = await entry.sandbox.heapStatistics();
        return {
          id: entry.id,
          busy: entry.sandbox.isBusy,
          invocations: entry.invocations,
          heapUsedBytes: heap?.used_heap_size,
          heapLimitBytes: heap?.heap_size_limit,
        };
      }),
    );
    const { functionName } = this.options;
    return { functionName, invocations: this.invocations, coldStarts: this.coldStarts, openFds: openFds(), sandboxes };
  }
}
