/**
 * One local Lambda execution environment: a worker thread with its own module graph, globals and
 * `process.env` (the function's environment), whose V8 heap is capped at the function's memory size.
 * It runs one invocation at a time; a timeout (the thread is terminated, as Lambda ends the runtime) or a
 * crash (an uncaught exception, an unhandled rejection, running out of heap) kills it for good.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Readable } from 'node:stream';
import type { HeapInfo } from 'node:v8';
import type { SQSEvent } from 'aws-lambda';
import { serializeError, type FromSandbox, type SandboxWorkerData, type SerializedError, type ToSandbox } from './sandbox-protocol.ts';

/** The module could not be loaded (import error, a throw at module init, no such export). */
export class SandboxInitError extends Error {
  override readonly name: string = 'SandboxInitError';
}

/** Options of {@link Sandbox.start}. */
export interface SandboxOptions extends Omit<SandboxWorkerData, 'tsxApiUrl' | 'runtimeUrl'> {
  /** The sandbox's whole environment (the thread sees only this). */
  readonly env: Readonly<Record<string, string>>;
  /** Receives each line the handler writes to stdout/stderr; default: passed through to this process. */
  readonly onLog?: ((stream: 'stdout' | 'stderr', line: string) => void) | undefined;
}

/** How one invocation ended. */
export type InvocationOutcome =
  | { readonly kind: 'returned'; readonly value: unknown; readonly durationMs: number }
  | { readonly kind: 'error'; readonly error: SerializedError; readonly durationMs: number }
  | { readonly kind: 'timeout'; readonly durationMs: number }
  | { readonly kind: 'crash'; readonly error: SerializedError; readonly durationMs: number };

const require = createRequire(import.meta.url);
const TSX_API_URL = pathToFileURL(require.resolve('tsx/esm/api')).href;
const RUNTIME_URL = new URL('./sandbox-runtime.ts', import.meta.url).href;
// The thread starts as a plain script: it registers tsx, then loads the TypeScript runtime.
const BOOTSTRAP = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.tsxApiUrl)
  .then((api) => { api.register(); return import(workerData.runtimeUrl); })
  .catch((error) => parentPort.postMessage({ type: 'init-error', error: { name: error.name, message: error.message, stack: error.stack } }));
`;

function forwardLines(stream: Readable, onLine: (line: string) => void): void {
  createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', onLine);
}

/** A running sandbox. */
export class Sandbox {
  private alive = true;
  /** The running invocation (one at a time): what ends it, when it started, its timeout, its outcome. */
  private pending:
    | { resolve: (outcome: InvocationOutcome) => void; started: number; timer: NodeJS.Timeout; outcome: Promise<InvocationOutcome> }
    | undefined;
  private closing: Promise<void> | undefined;
  private crash: SerializedError | undefined;

  private constructor(
    private readonly worker: Worker,
    /** Milliseconds the module took to load (the cold start's init duration). */
    readonly initMs: number,
    readonly functionName: string,
  ) {
    worker.on('message', (message: FromSandbox) => {
      // A result still queued when the sandbox was killed or timed out is dropped: the invocation ends as the kill says.
      if (message.type !== 'result' || !this.alive) return;
      this.finish((durationMs) =>
        message.ok ? { kind: 'returned', value: message.value, durationMs } : { kind: 'error', error: message.error, durationMs },
      );
    });
    worker.on('error', (error) => {
      this.crash = serializeError(error);
    });
    worker.on('exit', () => {
      this.alive = false;
      const error = this.crash ?? { name: 'Runtime.ExitError', message: 'the sandbox exited during the invocation' };
      this.finish((durationMs) => ({ kind: 'crash', error, durationMs }));
    });
  }

  /** Ends the running invocation, if any, with the outcome made from its duration. */
  private finish(outcome: (durationMs: number) => InvocationOutcome): void {
    if (this.pending === undefined) return;
    const { resolve, started, timer } = this.pending;
    clearTimeout(timer);
    this.pending = undefined;
    resolve(outcome(performance.now() - started));
  }

  /** The cold start: starts a thread and loads the handler module once; rejects with {@link SandboxInitError}. */
  static start(options: SandboxOptions): Promise<Sandbox> {
    const { env, onLog: givenOnLog, ...data } = options;
    const workerData: SandboxWorkerData = { ...data, tsxApiUrl: TSX_API_URL, runtimeUrl: RUNTIME_URL };
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData,
      env: { ...env },
      stdout: true,
      stderr: true,
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: options.memorySize },
      name: `sandbox ${options.functionName}`,
    });
    const onLog =
      givenOnLog ??
      ((stream: 'stdout' | 'stderr', line: string) => (stream === 'stdout' ? process.stdout : process.stderr).write(`${line}\n`));
    forwardLines(worker.stdout, (line) => onLog('stdout', line));
    forwardLines(worker.stderr, (line) => onLog('stderr', line));

    return new Promise<Sandbox>((resolve, reject) => {
      let settled = false;
      const fail = (error: SerializedError): void => {
        if (settled) return;
        settled = true;
        void worker.terminate();
        reject(new SandboxInitError(`${options.functionName}: the handler module did not load: ${error.name}: ${error.message}`));
      };
      worker.on('message', function onFirst(message: FromSandbox) {
        if (message.type === 'ready') {
          worker.off('message', onFirst);
          settled = true;
          resolve(new Sandbox(worker, message.initMs, options.functionName));
        } else if (message.type === 'init-error') {
          worker.off('message', onFirst);
          fail(message.error);
        }
      });
      worker.once('error', (error) => fail(serializeError(error)));
      worker.once('exit', (code) => fail({ name: 'Runtime.ExitError', message: `the sandbox exited with code ${code} while loading` }));
    });
  }

  /** True until the thread ends (timeout, crash, close). */
  get isAlive(): boolean {
    return this.alive && this.closing === undefined;
  }

  get isBusy(): boolean {
    return this.pending !== undefined;
  }

  /** The thread's V8 heap, read from outside it (`worker.getHeapStatistics()`); undefined once the thread has ended. */
  heapStatistics(): Promise<HeapInfo | undefined> {
    if (!this.alive) return Promise.resolve(undefined);
    return this.worker.getHeapStatistics().catch(() => undefined);
  }

  /**
   * Runs one invocation. `timeoutMs` is the function's timeout: the context's `getRemainingTimeInMillis`
   * counts down to it, and at that moment the sandbox is terminated and the outcome is `timeout`.
   */
  invoke(event: SQSEvent, timeoutMs: number, requestId: string = randomUUID()): Promise<InvocationOutcome> {
    if (!this.isAlive) return Promise.reject(new Error(`${this.functionName}: the sandbox is not alive`));
    if (this.isBusy) return Promise.reject(new Error(`${this.functionName}: a sandbox runs one invocation at a time`));
    const started = performance.now();
    const deadline = Date.now() + timeoutMs;
    const { promise: outcome, resolve } = Promise.withResolvers<InvocationOutcome>();
    const timer = setTimeout(() => {
      this.alive = false;
      this.finish((durationMs) => ({ kind: 'timeout', durationMs }));
      void this.worker.terminate();
    }, timeoutMs);
    this.pending = { resolve, started, timer, outcome };
    const message: ToSandbox = { type: 'invoke', event, requestId, deadline };
    // oxlint-disable-next-line unicorn/require-post-message-target-origin -- a worker thread, not a window
    this.worker.postMessage(message);
    return outcome;
  }

  /**
   * Terminates the thread at once, as when Lambda's runtime dies mid-invocation (out of memory, a host failure): a
   * running invocation ends as a `crash` and the sandbox is dead. Fault tests use it.
   */
  async kill(): Promise<void> {
    this.alive = false;
    await this.worker.terminate();
  }

  /** Waits for the running invocation, closes the module's metrics client (when it exports one) and ends the thread. Idempotent. */
  close(graceMs = 2000): Promise<void> {
    this.closing ??= (async () => {
      await this.pending?.outcome;
      if (this.alive) {
        const closed = new Promise<void>((resolve) => {
          const onMessage = (message: FromSandbox): void => {
            if (message.type === 'closed') resolve();
          };
          this.worker.on('message', onMessage);
          this.worker.once('exit', () => resolve());
          setTimeout(resolve, graceMs).unref();
        });
        const shutdown: ToSandbox = { type: 'shutdown' };
        // oxlint-disable-next-line unicorn/require-post-message-target-origin -- a worker thread, not a window
        this.worker.postMessage(shutdown);
        await closed;
      }
      await this.worker.terminate();
      this.alive = false;
    })();
    return this.closing;
  }
}
