/**
 * Emulates the Lambda SQS event source mapping of one worker function, on the local SQS server.
 *
 * The poll loop is sqs-consumer's (`handleMessageBatch`): one consumer per concurrency slot, each
 * long-polling (20 s, as Lambda's pollers do) with the queue's own visibility timeout and every system and
 * message attribute. This module is the adapter that gives each received batch Lambda's semantics:
 * - it fills the batch up to `BatchSize` within `MaximumBatchingWindowInSeconds` (and the 6 MB invocation
 *   payload limit) with further receives;
 * - it builds a real `SQSEvent` (messageId, receiptHandle, body, attributes incl. ApproximateReceiveCount,
 *   SentTimestamp and the FIFO fields, messageAttributes in Lambda's shape, md5s, eventSource `aws:sqs`,
 *   eventSourceARN, awsRegion) and invokes the function in its slot's sandbox ({@link Sandbox}: the module is
 *   loaded once and reused warm; a new one is a cold start) with the function's timeout;
 * - with `ReportBatchItemFailures` it deletes exactly the records not named in `batchItemFailures`; an invalid
 *   response (an identifier that is empty, missing or not in the batch) fails the whole batch, as Lambda
 *   documents; without it, a returned invocation deletes every record;
 * - an invocation that throws, times out or crashes deletes nothing: the records become visible again when
 *   their visibility timeout ends (or when the worker changed it).
 * Deletes are made here (DeleteMessageBatch, 10 at a time), not by sqs-consumer, so they are never aborted
 * by a stop: a finished invocation's records are never delivered again.
 *
 * Concurrency: `ScalingConfig.MaximumConcurrency` slots, capped locally by `concurrencyLimit` (each slot is a
 * thread with the whole handler module loaded).
 */
import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';
import { Consumer } from 'sqs-consumer';
import { Sandbox, SandboxInitError, type InvocationOutcome } from './sandbox.ts';
import type { LocalQueue, TemplateFunction, TemplateMapping } from './template.ts';

/** Lambda's synchronous invocation payload limit. */
export const LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
/** Lambda's SQS pollers long-poll for 20 s. */
export const LAMBDA_POLL_WAIT_SECONDS = 20;
/** Default local cap on concurrent sandboxes per function. */
export const DEFAULT_LOCAL_CONCURRENCY_LIMIT = 4;

/** How one invocation ended, for the terminal view and tests. */
export type InvocationStatus = 'success' | 'partial' | 'error' | 'timeout' | 'crash' | 'invalid_response' | 'init_error';

/** One invocation as the event source saw it. */
export interface InvocationReport {
  readonly functionName: string;
  readonly queueName: string;
  readonly requestId: string;
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
  /** Local cap on concurrent sandboxes. Default {@link DEFAULT_LOCAL_CONCURRENCY_LIMIT}. */
  readonly concurrencyLimit?: number;
  /** Long-poll wait (1-20 s). Default {@link LAMBDA_POLL_WAIT_SECONDS}. */
  readonly waitTimeSeconds?: number;
  /** Called after every invocation. */
  readonly onInvocation?: (report: InvocationReport) => void;
  /** Lines the handler writes; default passed through to this process. */
  readonly onLog?: (functionName: string, stream: 'stdout' | 'stderr', line: string) => void;
  /** Poller errors (receive/delete failures); default printed. */
  readonly onError?: (functionName: string, error: Error) => void;
}

/** A running event source. */
export interface EventSource {
  readonly functionName: string;
  readonly queue: LocalQueue;
  /** Concurrent sandboxes allowed (MaximumConcurrency, capped locally). */
  readonly concurrency: number;
  /** The mapping's MaximumConcurrency (undefined: not set). */
  readonly maximumConcurrency: number | undefined;
  /** Sandboxes alive now. */
  sandboxes(): number;
  /** Invocations running now. */
  running(): number;
  /** Ends every sandbox (closing each module's metrics client); the next batch starts new ones (cold starts). */
  reload(): Promise<void>;
  /** Stops polling, waits for running invocations, and ends every sandbox. */
  stop(): Promise<void>;
}

const SYSTEM_ATTRIBUTES: readonly (keyof SQSRecordAttributes)[] = [
  'AWSTraceHeader',
  'ApproximateReceiveCount',
  'SentTimestamp',
  'SenderId',
  'ApproximateFirstReceiveTimestamp',
  'SequenceNumber',
  'MessageGroupId',
  'MessageDeduplicationId',
  'DeadLetterQueueSourceArn',
];

function toBase64(value: Uint8Array | undefined): string | undefined {
  return value === undefined ? undefined : Buffer.from(value).toString('base64');
}

/** Turns an SDK `Message` into the record Lambda passes to the function. */
export function toSqsRecord(message: Message, queue: LocalQueue, region: string): SQSRecord {
  const received = message.Attributes ?? {};
  const attributes: Record<string, string> = {};
  for (const key of SYSTEM_ATTRIBUTES) {
    const value = (received as Record<string, string | undefined>)[key];
    if (value !== undefined) attributes[key] = value;
  }
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    const binaryValue = toBase64(value.BinaryValue);
    messageAttributes[name] = {
      ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
      ...(binaryValue === undefined ? {} : { binaryValue }),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((item) => Buffer.from(item).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: attributes as unknown as SQSRecordAttributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes === undefined ? {} : { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: region,
  };
}

/**
 * Reads a function's response as Lambda does with `ReportBatchItemFailures`: the ids to keep, or
 * `invalid` when Lambda would treat the whole batch as failed.
 */
export function failedRecordIds(response: unknown, batchIds: ReadonlySet<string>): { ids: Set<string> } | { invalid: string } {
  if (response === undefined || response === null) return { ids: new Set() };
  if (typeof response !== 'object') return { invalid: `the response is a ${typeof response}, not an object` };
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { ids: new Set() };
  if (!Array.isArray(failures)) return { invalid: 'batchItemFailures is not a list' };
  const ids = new Set<string>();
  for (const failure of failures) {
    const id = typeof failure === 'object' && failure !== null ? (failure as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '') return { invalid: `an itemIdentifier is ${JSON.stringify(id)}` };
    if (!batchIds.has(id)) return { invalid: `itemIdentifier ${id} is not a record of the batch` };
    ids.add(id);
  }
  return { ids };
}

function recordSize(message: Message): number {
  return Buffer.byteLength(message.Body ?? '') + 1024;
}

/** Starts polling a queue for one function. */
export function startEventSource(options: EventSourceOptions): EventSource {
  const { mapping, fn, queue, sqs, region } = options;
  const limit = options.concurrencyLimit ?? DEFAULT_LOCAL_CONCURRENCY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrencyLimit must be a whole number >= 1, got ${limit}`);
  const waitTimeSeconds = options.waitTimeSeconds ?? LAMBDA_POLL_WAIT_SECONDS;
  if (!Number.isInteger(waitTimeSeconds) || waitTimeSeconds < 1 || waitTimeSeconds > 20) {
    throw new RangeError(`waitTimeSeconds must be a whole number from 1 to 20, got ${waitTimeSeconds}`);
  }
  const concurrency = Math.min(mapping.maximumConcurrency ?? limit, limit);
  const timeoutMs = fn.timeoutSeconds * 1000;
  const onError =
    options.onError ?? ((name: string, error: Error) => console.warn(`event source ${name}: ${error.name}: ${error.message}`));
  const onLog = options.onLog;
  let stopping = false;
  const isStopping = (): boolean => stopping;
  const running = new Set<Promise<unknown>>();

  // Warm sandboxes are shared by the pollers, as Lambda reuses any idle execution environment: a batch takes an
  // idle one, or starts a new one (a cold start). One poller runs one invocation at a time, so there are never
  // more sandboxes than pollers (the concurrency).
  const pool: Sandbox[] = [];
  const reserved = new Set<Sandbox>();
  const starting = new Set<Promise<Sandbox>>();

  const newSandbox = (): Promise<Sandbox> =>
    Sandbox.start({
      entryUrl: options.entryUrl,
      exportName: fn.exportName,
      functionName: fn.functionName,
      memorySize: fn.memorySize,
      region,
      accountId: options.accountId,
      env: options.env,
      onLog: onLog === undefined ? undefined : (stream, line) => onLog(fn.functionName, stream, line),
    });

  const deleteRecords = async (messages: readonly Message[]): Promise<number> => {
    let deleted = 0;
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      try {
        const output = await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queue.url,
            Entries: chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
          }),
        );
        deleted += output.Successful?.length ?? 0;
        for (const failure of output.Failed ?? [])
          onError(fn.functionName, new Error(`delete failed: ${failure.Code}: ${failure.Message}`));
      } catch (error) {
        onError(fn.functionName, error as Error);
      }
    }
    return deleted;
  };

  const release = async (messages: readonly Message[]): Promise<void> => {
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      await sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queue.url,
            Entries: chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
          }),
        )
        .catch(() => undefined);
    }
  };

  /** Fills the batch up to BatchSize within the batching window (and the payload limit). */
  const gather = async (first: readonly Message[]): Promise<Message[]> => {
    const batch = [...first];
    const windowMs = mapping.maximumBatchingWindowSeconds * 1000;
    if (windowMs === 0 || batch.length >= mapping.batchSize) return batch;
    const until = Date.now() + windowMs;
    let bytes = batch.reduce((sum, message) => sum + recordSize(message), 0);
    while (batch.length < mapping.batchSize && bytes < LAMBDA_PAYLOAD_LIMIT_BYTES && !isStopping()) {
      const left = until - Date.now();
      if (left <= 0) break;
      const output = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.url,
          MaxNumberOfMessages: Math.min(10, mapping.batchSize - batch.length),
          WaitTimeSeconds: Math.min(20, Math.max(1, Math.floor(left / 1000))),
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      for (const message of output.Messages ?? []) {
        batch.push(message);
        bytes += recordSize(message);
      }
    }
    return batch;
  };

  /** An idle warm sandbox, or a new one (cold start). Rejects with {@link SandboxInitError}. */
  const acquire = async (): Promise<{ sandbox: Sandbox; coldStart: boolean }> => {
    for (let index = pool.length - 1; index >= 0; index -= 1) {
      if (pool[index]?.isAlive !== true) pool.splice(index, 1);
    }
    const idle = pool.find((sandbox) => !reserved.has(sandbox));
    if (idle !== undefined) {
      reserved.add(idle);
      return { sandbox: idle, coldStart: false };
    }
    const started = newSandbox();
    starting.add(started);
    let sandbox: Sandbox;
    try {
      sandbox = await started;
    } finally {
      starting.delete(started);
    }
    // A reload while it was starting closes it: start another.
    if (!sandbox.isAlive) return acquire();
    pool.push(sandbox);
    reserved.add(sandbox);
    return { sandbox, coldStart: true };
  };

  const invoke = async (messages: readonly Message[]): Promise<void> => {
    const requestId = randomUUID();
    const messageIds = messages.map((message) => message.MessageId ?? '');
    const report = (fields: Omit<InvocationReport, 'functionName' | 'queueName' | 'requestId' | 'messageIds'>): void =>
      options.onInvocation?.({ functionName: fn.functionName, queueName: queue.name, requestId, messageIds, ...fields });

    let acquired: { sandbox: Sandbox; coldStart: boolean };
    try {
      acquired = await acquire();
      // A reload may have closed it meanwhile; the check and the invoke below run without a gap.
      while (!acquired.sandbox.isAlive) {
        reserved.delete(acquired.sandbox);
        acquired = await acquire();
      }
    } catch (error) {
      const message = error instanceof SandboxInitError ? error.message : String(error);
      report({
        status: 'init_error',
        failedIds: messageIds,
        deleted: 0,
        durationMs: 0,
        coldStart: true,
        initMs: undefined,
        error: message,
      });
      return;
    }
    const { sandbox, coldStart } = acquired;
    const event: SQSEvent = { Records: messages.map((message) => toSqsRecord(message, queue, region)) };
    let outcome: InvocationOutcome;
    try {
      outcome = await sandbox.invoke(event, timeoutMs, requestId);
    } finally {
      reserved.delete(sandbox);
    }
    const common = { durationMs: outcome.durationMs, coldStart, initMs: coldStart ? sandbox.initMs : undefined };
    switch (outcome.kind) {
      case 'returned': {
        if (!mapping.reportBatchItemFailures) {
          const deleted = await deleteRecords(messages);
          report({ status: 'success', failedIds: [], deleted, error: undefined, ...common });
          return;
        }
        const verdict = failedRecordIds(outcome.value, new Set(messageIds));
        if ('invalid' in verdict) {
          report({ status: 'invalid_response', failedIds: messageIds, deleted: 0, error: verdict.invalid, ...common });
          return;
        }
        const done = messages.filter((message) => !verdict.ids.has(message.MessageId ?? ''));
        const deleted = await deleteRecords(done);
        report({
          status: verdict.ids.size === 0 ? 'success' : 'partial',
          failedIds: [...verdict.ids],
          deleted,
          error: undefined,
          ...common,
        });
        return;
      }
      case 'error':
        report({ status: 'error', failedIds: messageIds, deleted: 0, error: `${outcome.error.name}: ${outcome.error.message}`, ...common });
        return;
      case 'timeout':
        report({
          status: 'timeout',
          failedIds: messageIds,
          deleted: 0,
          error: `Task timed out after ${fn.timeoutSeconds} seconds`,
          ...common,
        });
        return;
      case 'crash':
        report({ status: 'crash', failedIds: messageIds, deleted: 0, error: `${outcome.error.name}: ${outcome.error.message}`, ...common });
        return;
    }
  };

  const consumers: Consumer[] = [];
  for (let index = 0; index < concurrency; index += 1) {
    const consumer = Consumer.create({
      queueUrl: queue.url,
      sqs,
      batchSize: Math.min(10, mapping.batchSize),
      waitTimeSeconds,
      attributeNames: ['All'],
      messageSystemAttributeNames: ['All'],
      messageAttributeNames: ['All'],
      shouldDeleteMessages: false,
      suppressFifoWarning: true,
      handleMessageBatch: async (received) => {
        if (stopping) {
          await release(received);
          return [];
        }
        const work = (async () => {
          const batch = await gather(received);
          await invoke(batch);
        })();
        running.add(work);
        try {
          await work;
        } catch (error) {
          onError(fn.functionName, error as Error);
        } finally {
          running.delete(work);
        }
        return [];
      },
    });
    consumer.on('error', (error) => {
      if (!stopping) onError(fn.functionName, error);
    });
    consumer.start();
    consumers.push(consumer);
  }

  /** Closes every sandbox (each after its running invocation), including those still starting. */
  const closeSandboxes = async (): Promise<void> => {
    const pending = [...starting].map((started) => started.catch(() => undefined));
    const current = pool.splice(0);
    const late = (await Promise.all(pending)).filter((sandbox): sandbox is Sandbox => sandbox !== undefined);
    await Promise.all([...current, ...late].map((sandbox) => sandbox.close()));
  };

  let stopped: Promise<void> | undefined;
  return {
    functionName: fn.functionName,
    queue,
    concurrency,
    maximumConcurrency: mapping.maximumConcurrency,
    sandboxes: () => pool.filter((sandbox) => sandbox.isAlive).length,
    running: () => running.size,
    reload: closeSandboxes,
    stop() {
      stopped ??= (async () => {
        stopping = true;
        for (const consumer of consumers) consumer.stop({ abort: true });
        while (running.size > 0) await Promise.allSettled(running);
        await closeSandboxes();
      })();
      return stopped;
    },
  };
}
