/**
 * Cancellation of the records of one invocation: each record gets an abort (the AbortSignal its job sees, and a race
 * that stops waiting for a job that ignores it); the invocation's deadline aborts every running record and keeps new
 * ones from starting once it has passed.
 */
import { JobTimeoutError } from './errors.ts';

const ignore = (): void => undefined;

/** Why a record is aborted at the invocation's deadline. */
const deadlineError = (): JobTimeoutError => new JobTimeoutError('the invocation is about to time out');

/** One record's cancellation: the signal its job gets, and a race that rejects when it fires (cheaper than a listener). */
export class RecordAbort {
  readonly controller = new AbortController();
  readonly #aborted: Promise<never>;
  #reject: (reason: unknown) => void = ignore;
  constructor() {
    this.#aborted = new Promise<never>((_, reject) => {
      this.#reject = reject;
    });
    this.#aborted.catch(ignore);
  }
  /** Fires the signal with `reason` (once; later calls do nothing). */
  abort(reason: unknown): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(reason);
    this.#reject(reason);
  }
  /** Settles with `task`, or rejects with the abort reason as soon as the record is aborted. */
  race<T>(task: Promise<T>): Promise<T> {
    return Promise.race([task, this.#aborted]);
  }
}

/** The invocation's deadline: once it passes, running records are aborted and no other record starts. */
export class InvocationDeadline {
  passed = false;
  readonly #running = new Set<RecordAbort>();
  readonly #timer: ReturnType<typeof setTimeout>;
  constructor(inMs: number) {
    this.#timer = setTimeout(() => {
      this.passed = true;
      for (const record of this.#running) record.abort(deadlineError());
    }, inMs);
  }
  /** Aborts `record` when the deadline passes (at once if it has), until {@link leave}. */
  enter(record: RecordAbort): void {
    if (this.passed) record.abort(deadlineError());
    else this.#running.add(record);
  }
  leave(record: RecordAbort): void {
    this.#running.delete(record);
  }
  /** Cancels the timer (the batch is done). */
  clear(): void {
    clearTimeout(this.#timer);
  }
}
