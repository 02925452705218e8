/**
 * Emulates the Lambda SQS event source mapping of one worker function, on the local SQS server.
 *
 * The poll loop is sqs-consumer's (`handleMessageBatch`): one consumer per concurrency slot, each long-polling
 * (20 s, as Lambda's pollers do) with the queue's own visibility timeout and every attribute. This module gives
 * each received batch Lambda's semantics:
 * - it fills the batch up to `BatchSize` within `MaximumBatchingWindowInSeconds` (and the 6 MB payload limit);
 * - it invokes the function with a real `SQSEvent` ({@link toSqsRecord}) in a warm sandbox of the function's
 *   {@link SandboxPool} (or a new one: a cold start) with the function's timeout;
 * - with `ReportBatchItemFailures` it deletes exactly the records not named in `batchItemFailures`; an invalid
 *   response fails the whole batch, as Lambda documents; without it, a returned invocation deletes every record;
 * - an invocation that throws, times out or crashes deletes nothing: the records become visible again when
 *   their visibility timeout ends (or when the worker changed it).
 * Deletes are made here (DeleteMessageBatch, 10 at a time), not by sqs-consumer, so a stop never aborts them: a
 * finished invocation's records are never delivered again. Concurrency: `ScalingConfig.MaximumConcurrency`
 * pollers, capped locally by `concurrencyLimit` (each sandbox is a thread with the whole handler module loaded).
 */
import { randomUUID } from 'node:crypto';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import { SandboxInitError } from './sandbox.ts';
import { SandboxPool, type PoolSnapshot, type PooledInvocation } from './sandbox-pool.ts';
import { deleteRecords, failedRecordIds, gatherBatch, releaseRecords, toSqsRecord, type QueueAccess } from './lambda-sqs.ts';
import { once } from './local-server.ts';
import type { LocalQueue, TemplateFunction, TemplateMapping } from './template.ts';

/** Lambda's SQS pollers long-poll for 20 s. */
const LAMBDA_POLL_WAIT_SECONDS = 20;
/** Default local cap on concurrent sandboxes per function. */
const DEFAULT_LOCAL_CONCURRENCY_LIMIT = 4;

/** How one invocation ended, for the terminal view and tests. */
export type InvocationStatus = 'success' | 'partial' | 'error' | 'timeout' | 'crash' | 'invalid_response' | 'init_error';

/** One invocation as the event source saw it. */
export interface InvocationReport {
  readonly functionName: string;
  readonly queueName: string;
  readonly requestId: string;
  /** The sandbox that ran it (`<function>#<n>`); undefined when no sandbox could start. */
  readonly sandboxId: string | undefined;
  readonly status: InvocationStatus;
  readonly messageIds: readonly string[];
  /** Records named in `batchItemFailures` (kept on the queue). */
  readonly failedIds: readonly string[];
  /** Records deleted after the invocation. */
  readonly deleted: number;
  readonly durationMs: number;
  /** True when this invocation needed a new sandbox; `initMs` is its module load time. */
  readonly coldStart: boolean;
  readonly initMs: number | undefined;
  /** The error of a failed invocation. */
  readonly error: string | undefined;
}

/** Invocation counts of one event source since it started. */
export interface InvocationCounts {
  readonly invocations: number;
  readonly coldStarts: number;
  /** Invocations that did not return a valid response (error, timeout, crash, invalid response, init error). */
  readonly failed: number;
  readonly lastError: string | undefined;
}

/** Options of {@link startEventSource}. */
export interface EventSourceOptions {
  readonly mapping: TemplateMapping;
  readonly fn: TemplateFunction;
  readonly queue: LocalQueue;
  /** file: URL of the function's handler module (TypeScript source). */
  readonly entryUrl: string;
  /** The sandbox's whole environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly region: string;
  readonly accountId: string;
  /** The SQS client of the poller (pointing at the local server). */
  readonly sqs: SQSClient;
  /** Local cap on concurrent sandboxes (each a thread with the whole module loaded). Default {@link DEFAULT_LOCAL_CONCURRENCY_LIMIT}. */
  readonly concurrencyLimit?: number;
  /** Long-poll wait (1-20 s). Default {@link LAMBDA_POLL_WAIT_SECONDS}. */
  readonly waitTimeSeconds?: number;
  readonly onInvocation?: (report: InvocationReport) => void;
  /** Lines the handler writes; default passed through to this process. */
  readonly onLog?: (functionName: string, stream: 'stdout' | 'stderr', line: string) => void;
  /** Poller errors (receive/delete failures), one line each; default printed. */
  readonly onNotice?: (message: string) => void;
}

/** A running event source. */
export interface EventSource {
  readonly functionName: string;
  readonly queue: LocalQueue;
  /** Concurrent sandboxes allowed (MaximumConcurrency, capped locally). */
  readonly concurrency: number;
  /** The mapping's MaximumConcurrency (undefined: not set). */
  readonly maximumConcurrency: number | undefined;
  /** Sandboxes alive now, invocations running now, counts since start. */
  sandboxes(): number;
  running(): number;
  counts(): InvocationCounts;
  /** The sandbox pool as a dashboard shows it (per sandbox: id, invocations, heap). */
  snapshot(): Promise<PoolSnapshot>;
  /** Ends every sandbox (closing each module's metrics client); the next batch starts new ones (cold starts). */
  reload(): Promise<void>;
  /** Kills the sandboxes running an invocation now (a crash: their records are not deleted); resolves with how many. */
  killBusySandboxes(): Promise<number>;
  /** Stops polling, waits for running invocations, and ends every sandbox. */
  stop(): Promise<void>;
}

function validated(options: EventSourceOptions): { concurrency: number; waitTimeSeconds: number } {
  const limit = options.concurrencyLimit ?? DEFAULT_LOCAL_CONCURRENCY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrencyLimit must be a whole number >= 1, got ${limit}`);
  const waitTimeSeconds = options.waitTimeSeconds ?? LAMBDA_POLL_WAIT_SECONDS;
  if (!Number.isInteger(waitTimeSeconds) || waitTimeSeconds < 1 || waitTimeSeconds > 20) {
    throw new RangeError(`waitTimeSeconds must be a whole number from 1 to 20, got ${waitTimeSeconds}`);
  }
  return { concurrency: Math.min(options.mapping.maximumConcurrency ?? limit, limit), waitTimeSeconds };
}

function newPool(options: EventSourceOptions): SandboxPool {
  const { fn, onLog } = options;
  return new SandboxPool({
    entryUrl: options.entryUrl,
    exportName: fn.exportName,
    functionName: fn.functionName,
    memorySize: fn.memorySize,
    region: options.region,
    accountId: options.accountId,
    env: options.env,
    onLog: onLog === undefined ? undefined : (stream, line) => onLog(fn.functionName, stream, line),
  });
}

/** Adds one report to the counts. */
function counted(counts: InvocationCounts, report: InvocationReport): InvocationCounts {
  const failed = report.status !== 'success' && report.status !== 'partial';
  return {
    invocations: counts.invocations + 1,
    coldStarts: counts.coldStarts + (report.coldStart ? 1 : 0),
    failed: counts.failed + (failed ? 1 : 0),
    lastError: failed ? report.error : counts.lastError,
  };
}

/**
 * Runs one batch in the pool and applies its outcome to the records (deletes what Lambda deletes); a sandbox
 * that cannot start is an `init_error`.
 */
async function invokeBatch(
  options: EventSourceOptions,
  pool: SandboxPool,
  access: QueueAccess,
  messages: readonly Message[],
): Promise<InvocationReport> {
  const { fn, queue } = options;
  const messageIds = messages.map((message) => message.MessageId ?? '');
  const batch = { functionName: fn.functionName, queueName: queue.name, requestId: randomUUID(), messageIds };
  let run: PooledInvocation;
  try {
    const event = { Records: messages.map((message) => toSqsRecord(message, queue, options.region)) };
    run = await pool.invoke(event, fn.timeoutSeconds * 1000, batch.requestId);
  } catch (error) {
    const message = error instanceof SandboxInitError ? error.message : String(error);
    const none = { sandboxId: undefined, deleted: 0, durationMs: 0, initMs: undefined };
    return { ...batch, ...none, status: 'init_error', failedIds: messageIds, coldStart: true, error: message };
  }
  const { outcome, sandboxId, coldStart } = run;
  const timing = { sandboxId, coldStart, durationMs: outcome.durationMs, initMs: coldStart ? run.initMs : undefined };
  const ended = (status: InvocationStatus, failedIds: readonly string[], deleted: number, error?: string): InvocationReport => ({
    ...batch,
    ...timing,
    status,
    failedIds,
    deleted,
    error,
  });
  if (outcome.kind === 'timeout') return ended('timeout', messageIds, 0, `Task timed out after ${fn.timeoutSeconds} seconds`);
  if (outcome.kind !== 'returned') return ended(outcome.kind, messageIds, 0, `${outcome.error.name}: ${outcome.error.message}`);
  const verdict = options.mapping.reportBatchItemFailures
    ? failedRecordIds(outcome.value, new Set(messageIds))
    : { ids: new Set<string>() };
  if ('invalid' in verdict) return ended('invalid_response', messageIds, 0, verdict.invalid);
  const succeeded = messages.filter((message) => !verdict.ids.has(message.MessageId ?? ''));
  return ended(verdict.ids.size === 0 ? 'success' : 'partial', [...verdict.ids], await deleteRecords(access, succeeded));
}

/** One sqs-consumer poller per concurrency slot, each handing its batches to `handleMessageBatch`. */
function startPollers(
  options: EventSourceOptions,
  { concurrency, waitTimeSeconds }: ReturnType<typeof validated>,
  handleMessageBatch: (received: Message[]) => Promise<Message[]>,
  onError: (error: Error) => void,
) {
  return Array.from({ length: concurrency }, () => {
    const consumer = Consumer.create({
      queueUrl: options.queue.url,
      sqs: options.sqs,
      batchSize: Math.min(10, options.mapping.batchSize),
      waitTimeSeconds,
      attributeNames: ['All'],
      messageSystemAttributeNames: ['All'],
      messageAttributeNames: ['All'],
      shouldDeleteMessages: false,
      suppressFifoWarning: true,
      handleMessageBatch,
    });
    consumer.on('error', onError);
    consumer.start();
    return consumer;
  });
}

/** Starts polling a queue for one function. */
export function startEventSource(options: EventSourceOptions): EventSource {
  const { mapping, fn, queue } = options;
  const settings = validated(options);
  const notice = options.onNotice ?? ((message: string) => console.warn(message));
  const onError = (error: Error): void => notice(`event source ${fn.functionName}: ${error.name}: ${error.message}`);
  const access: QueueAccess = { sqs: options.sqs, queue, onError };
  const pool = newPool(options);
  let counts: InvocationCounts = { invocations: 0, coldStarts: 0, failed: 0, lastError: undefined };
  let stopping = false;
  const running = new Set<Promise<unknown>>();

  const run = async (received: readonly Message[]): Promise<void> => {
    const report = await invokeBatch(options, pool, access, await gatherBatch(access, mapping, received, () => stopping));
    counts = counted(counts, report);
    options.onInvocation?.(report);
  };
  const handleMessageBatch = async (received: Message[]): Promise<Message[]> => {
    if (stopping) {
      await releaseRecords(access, received);
      return [];
    }
    const work = run(received).catch((error: unknown) => access.onError(error as Error));
    running.add(work);
    await work.finally(() => running.delete(work));
    return [];
  };
  const pollers = startPollers(options, settings, handleMessageBatch, (error) => stopping || access.onError(error));

  return {
    functionName: fn.functionName,
    queue,
    concurrency: settings.concurrency,
    maximumConcurrency: mapping.maximumConcurrency,
    sandboxes: () => pool.size,
    running: () => running.size,
    counts: () => counts,
    snapshot: () => pool.snapshot(),
    reload: () => pool.reload(),
    killBusySandboxes: () => pool.killBusy(),
    stop: once(async () => {
      stopping = true;
      for (const poller of pollers) poller.stop({ abort: true });
      while (running.size > 0) await Promise.allSettled(running);
      await pool.close();
    }),
  };
}
