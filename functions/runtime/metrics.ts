/**
 * The worker's ONE DogStatsD client (hot-shots, through its documented API only), created at module load and reused
 * by every warm invocation.
 *
 * Rules: one client per process, and a live-client counter that warns, with a stack trace, when a second one exists
 * (a client per job, never closed, leaks until the sandbox runs out of memory or descriptors); every metric a
 * distribution (`|d`, the only custom-metric kind the Datadog Lambda extension aggregates), with no datadog mode and no
 * client telemetry; at most {@link MAX_TAGS_PER_LINE} tags per line; datagrams of at most {@link MAX_DATAGRAM_BYTES},
 * flushed (bounded) at the end of every invocation by {@link flushMetrics}; socket errors counted and logged, never thrown
 * into a job.
 * No child clients: they share the parent's buffer but not its byte count, and overflow {@link MAX_DATAGRAM_BYTES}.
 */
import { readdirSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import type { MiddlewareObj } from '@middy/core';
import { StatsD } from 'hot-shots';
import { ConfigurationError } from './errors.ts';
import { MAX_DATAGRAM_BYTES, MAX_GLOBAL_TAGS, MAX_TAG_VALUE_LENGTH, MAX_TAGS_PER_LINE } from './metric-limits.ts';
import { METRIC, METRICS_WARNING, TAG, type DeadReason, type Outcome } from './metric-names.ts';
import { remembered } from './remembered.ts';

/** How often hot-shots sends what is buffered when no flush came first (a long invocation). */
const BUFFER_FLUSH_INTERVAL_MS = 1000;
/** Longest the end of an invocation waits for its flush. */
const INVOCATION_FLUSH_TIMEOUT_MS = 100;

const LIVE_CLIENTS = Symbol.for('serverless-jobs.statsd.live-clients');
type GlobalWithCounter = typeof globalThis & { [LIVE_CLIENTS]?: { live: number; created: number } };
/** The process-wide client counter, on `globalThis` so that reloaded copies of this module share it. */
const counter = ((globalThis as GlobalWithCounter)[LIVE_CLIENTS] ??= { live: 0, created: 0 });

/** How many DogStatsD clients this process holds open right now (the worker must hold exactly one). */
export function liveStatsdClients(): number {
  return counter.live;
}

/** Removes characters that would break a DogStatsD line out of a tag value, and lower-cases it. */
export function sanitizeTagValue(value: string): string {
  return value
    .replace(/[|,#\n\r:@\s]+/g, '_')
    .slice(0, MAX_TAG_VALUE_LENGTH)
    .toLowerCase();
}

/** `read()`, or -1 when it throws (no `/proc`, or no descriptor left to read it with). */
function orMinusOne(read: () => number): number {
  try {
    return read();
  } catch {
    return -1;
  }
}

/** Counts the open file descriptors of this process (`/proc/self/fd`, less the one readdirSync holds); -1 where unreadable. */
export const openFileDescriptors = (): number => orMinusOne(() => readdirSync('/proc/self/fd').length - 1);

/** Options of {@link createMetrics}; read once at module load. */
export interface MetricsOptions {
  /** Where to send; default from hot-shots' standard env (`DD_DOGSTATSD_URL`, `DD_AGENT_HOST`/`DD_DOGSTATSD_PORT`), else 127.0.0.1:8125. */
  readonly host?: string;
  readonly port?: number;
  /** Tags on every line. Default: from DD_SERVICE, DD_ENV, DD_VERSION and AWS_LAMBDA_FUNCTION_NAME. */
  readonly globalTags?: Readonly<Record<string, string>>;
}

/** The fields of one processed record, as metrics see them. */
export interface RecordMetrics {
  readonly jobType: string;
  readonly queue: string;
  readonly outcome: Outcome;
  readonly reason?: DeadReason | undefined;
  readonly durationMs: number;
  readonly queueLatencyMs: number | undefined;
}

/** The worker's metric emitter: one per process. */
export interface JobMetrics {
  /** Emits `jobs.processed`, `jobs.duration` and `jobs.queue_latency` for one record. */
  recordJob(record: RecordMetrics): void;
  /** Emits `jobs.runtime.heap_used`, `jobs.runtime.rss` and `jobs.runtime.open_fds` once per invocation. */
  recordRuntime(): void;
  /** Sends everything buffered; resolves when handed to the socket or after `timeoutMs`, whichever is first. Never rejects. */
  flush(timeoutMs: number): Promise<void>;
  /** Closes the socket. Only for tests and for the local environment's simulated sandbox shutdown. */
  close(): Promise<void>;
  /** Socket errors seen so far. */
  readonly errors: number;
}

/** The global tags as lines carry them (`key:value`), at most {@link MAX_GLOBAL_TAGS}. */
function globalTagsOf(given: MetricsOptions['globalTags']): string[] {
  const { env } = process;
  const tags = given ?? {
    [TAG.service]: env.DD_SERVICE,
    [TAG.env]: env.DD_ENV,
    [TAG.version]: env.DD_VERSION,
    [TAG.functionName]: env.AWS_LAMBDA_FUNCTION_NAME,
  };
  const lines = Object.entries(tags).flatMap(([key, value]) =>
    // A tag key loses the characters that would end the key, the tag or the line, as hot-shots formats one.
    value ? [`${key.replace(/[:|@,#\n\r]/g, '_')}:${sanitizeTagValue(value)}`] : [],
  );
  if (lines.length > MAX_GLOBAL_TAGS) {
    throw new ConfigurationError(
      `createMetrics: at most ${MAX_GLOBAL_TAGS} global tags, so that a record's lines keep ${MAX_TAGS_PER_LINE} tags`,
    );
  }
  return lines;
}

/** Counts a new live client and warns, with a stack trace, when it is not the only one; returns its release. */
function registerClient(): () => void {
  counter.live += 1;
  counter.created += 1;
  if (counter.live > 1) {
    const message =
      `${METRICS_WARNING.secondClient} (${counter.live} live, ${counter.created} created): ` +
      'every client holds a socket and a timer, and a client per job leaks until the sandbox runs out of memory or descriptors. ' +
      'Create the DogStatsD client once, at module scope, and reuse it across invocations (see the stack below).';
    console.warn(JSON.stringify({ level: 'WARN', message, stack: new Error('second DogStatsD client created here').stack }));
  }
  return () => {
    counter.live -= 1;
  };
}

/** The tags of one record's lines: one array per bounded tag set, built once and reused. */
function recordTags(): (record: RecordMetrics) => string[] {
  const tagSets = new Map<string, string[]>();
  return ({ jobType, queue, outcome, reason }) =>
    remembered(tagSets, `${jobType}\u0000${queue}\u0000${outcome}\u0000${reason ?? ''}`, () => [
      `${TAG.jobType}:${sanitizeTagValue(jobType)}`,
      `${TAG.queue}:${sanitizeTagValue(queue)}`,
      `${TAG.outcome}:${outcome}`,
      ...(reason === undefined ? [] : [`${TAG.reason}:${reason}`]),
    ]);
}

/** Resolves once hot-shots has flushed, or after `timeoutMs` (its flush may never call back when no socket can be made). */
function boundedFlush(client: StatsD, timeoutMs: number, countError: (error: Error) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const done = (error?: Error): void => {
      clearTimeout(timer);
      // In buffered mode a flush's send error comes to this callback, not to errorHandler.
      if (error) countError(error);
      resolve();
    };
    try {
      client.flush(done);
    } catch (error) {
      done(error instanceof Error ? error : new Error(String(error)));
    }
  });
}

/** Creates the process's metric emitter: call it once, at module scope (`createWorkerHandler` does). */
export function createMetrics(options: MetricsOptions = {}): JobMetrics {
  let errors = 0;
  const countError = (error: Error): void => {
    errors += 1;
    if (errors !== 1 && errors % 100 !== 0) return;
    const message = `${METRICS_WARNING.sendFailed} (${errors} errors so far): metrics are being lost; check that the Datadog extension (or a local listener) runs at the configured DogStatsD address`;
    console.warn(JSON.stringify({ level: 'WARN', message, error: error.message }));
  };
  const client = new StatsD({
    ...options,
    globalTags: globalTagsOf(options.globalTags),
    maxBufferSize: MAX_DATAGRAM_BYTES,
    bufferFlushInterval: BUFFER_FLUSH_INTERVAL_MS,
    datadog: false,
    includeDataDogTags: false,
    includeDatadogTelemetry: false,
    errorHandler: countError,
  });
  const release = registerClient();
  const tagsOf = recordTags();
  // A value that is not a finite number would be dropped by the extension: it is not sent.
  const send = (name: string, value: number, tags?: string[]): void => {
    if (Number.isFinite(value)) client.distribution(name, value, tags);
  };
  let closed = false;
  return {
    get errors() {
      return errors;
    },
    recordJob(record) {
      const tags = tagsOf(record);
      send(METRIC.processed, 1, tags);
      send(METRIC.duration, Math.round(record.durationMs * 1000) / 1000, tags);
      if (record.queueLatencyMs !== undefined) send(METRIC.queueLatency, Math.max(0, record.queueLatencyMs), tags);
    },
    recordRuntime() {
      send(METRIC.heapUsed, getHeapStatistics().used_heap_size);
      const rss = orMinusOne(() => process.memoryUsage.rss());
      if (rss >= 0) send(METRIC.rss, rss);
      const fds = openFileDescriptors();
      if (fds >= 0) send(METRIC.openFds, fds);
    },
    flush: (timeoutMs) => boundedFlush(client, timeoutMs, countError),
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      release();
      return new Promise<void>((resolve) => {
        try {
          client.close(() => resolve());
        } catch {
          resolve();
        }
      });
    },
  };
}

/**
 * The middy middleware that records the runtime metrics and flushes `metrics` at the end of every invocation, in `after`
 * AND `onError` (middy skips `after` when the handler throws), so nothing is left buffered when Lambda freezes the
 * sandbox. The flush is bounded (hot-shots may never call back when its socket cannot bind); the client is never
 * closed: the next warm invocation reuses it.
 */
export function flushMetrics<TEvent, TResult>({ metrics }: { metrics: JobMetrics }): MiddlewareObj<TEvent, TResult> {
  const flush = async (): Promise<void> => {
    metrics.recordRuntime();
    await metrics.flush(INVOCATION_FLUSH_TIMEOUT_MS);
  };
  return { name: 'flush-metrics', after: flush, onError: flush };
}
