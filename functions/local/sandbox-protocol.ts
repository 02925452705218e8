/**
 * Messages between a local Lambda sandbox (a worker thread running `sandbox-runtime.ts`) and the event
 * source emulator that drives it.
 */
import type { SQSEvent } from 'aws-lambda';

/** What the thread needs to load the handler and build Lambda-like contexts. */
export interface SandboxWorkerData {
  /** file: URL of tsx's ESM API (registered in the thread so the TypeScript sources load). */
  readonly tsxApiUrl: string;
  /** file: URL of `sandbox-runtime.ts`. */
  readonly runtimeUrl: string;
  /** file: URL of the handler module (the TypeScript source). */
  readonly entryUrl: string;
  /** The export to call (`handler`). */
  readonly exportName: string;
  readonly functionName: string;
  /** MB; also the thread's V8 old-generation limit. */
  readonly memorySize: number;
  readonly region: string;
  readonly accountId: string;
}

/** An error crossing the thread boundary. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string | undefined;
}

/** Parent to thread (one invocation at a time: a result answers the running one). */
export type ToSandbox =
  | { readonly type: 'invoke'; readonly event: SQSEvent; readonly requestId: string; readonly deadline: number }
  | { readonly type: 'shutdown' };

/** Thread to parent. */
export type FromSandbox =
  | { readonly type: 'ready'; readonly initMs: number }
  | { readonly type: 'init-error'; readonly error: SerializedError }
  | { readonly type: 'result'; readonly ok: true; readonly value: unknown }
  | { readonly type: 'result'; readonly ok: false; readonly error: SerializedError }
  | { readonly type: 'closed' };

/** Serializes an error for postMessage. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}
