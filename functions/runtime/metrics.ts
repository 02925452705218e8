/**
 * The worker's ONE DogStatsD client, created at module load and reused by every warm invocation.
 *
 * Rules:
 * - one hot-shots client per process (per Lambda sandbox); a live-client counter warns, with a stack trace,
 *   the moment a second one exists (a client per job, never closed, is the leak that runs sandboxes out of
 *   memory and descriptors);
 * - every metric is a distribution (`distribution()`, `|d`), the only custom-metric kind the Datadog Lambda
 *   extension aggregates; no datadog mode and no client telemetry (their extra fields and counts are not
 *   distributions); at most {@link MAX_TAGS_PER_LINE} tags per line;
 * - hot-shots buffers lines into datagrams of at most {@link MAX_DATAGRAM_BYTES} (`maxBufferSize`); the
 *   `flush-metrics` middleware flushes them at the end of each invocation (`flush(cb)`, bounded);
 * - socket errors go to hot-shots' `errorHandler`, which counts and logs them: a missing or broken listener
 *   never throws into a job.
 * Only hot-shots' documented API is used (its README and `types.d.ts`); no child clients, because children
 * share the parent's buffer but not its byte count and overflow {@link MAX_DATAGRAM_BYTES}.
 */
import { readdirSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { StatsD } from 'hot-shots';
import { ConfigurationError } from './errors.ts';
import { MAX_DATAGRAM_BYTES, MAX_GLOBAL_TAGS, MAX_TAG_VALUE_LENGTH, MAX_TAGS_PER_LINE } from './metric-limits.ts';
import { METRIC, METRICS_WARNING, TAG, type DeadReason, type Outcome } from './metric-names.ts';

/** How often hot-shots sends what is buffered when no flush came first (a long invocation); the middleware flushes every invocation. */
const BUFFER_FLUSH_INTERVAL_MS = 1000;

const LIVE_CLIENTS = Symbol.for('serverless-jobs.statsd.live-clients');
type GlobalWithCounter = typeof globalThis & { [LIVE_CLIENTS]?: { live: number; created: number } };

/** The process-wide client counter; on `globalThis` so that reloaded copies of this module share it. */
function clientCounter(): { live: number; created: number } {
  const g = globalThis as GlobalWithCounter;
  g[LIVE_CLIENTS] ??= { live: 0, created: 0 };
  return g[LIVE_CLIENTS];
}

/** How many DogStatsD clients this process holds open right now (the worker must hold exactly one). */
export function liveStatsdClients(): number {
  return clientCounter().live;
}

/** Removes characters that would break a DogStatsD line out of a tag value, and lower-cases it. */
export function sanitizeTagValue(value: string): string {
  return value
    .replace(/[|,#\n\r:@\s]+/g, '_')
    .slice(0, MAX_TAG_VALUE_LENGTH)
    .toLowerCase();
}

/** Counts the open file descriptors of this process (`/proc/self/fd`); -1 where that cannot be read. */
export function openFileDescriptors(): number {
  try {
    // readdirSync itself holds one descriptor open on the directory while it reads.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return -1;
  }
}

/** The resident set size in bytes (`process.memoryUsage.rss()`); -1 when it cannot be read (no descriptor left). */
function residentSetBytes(): number {
  try {
    return process.memoryUsage.rss();
  } catch {
    return -1;
  }
}

/** Options of {@link createMetrics}; read once at module load. */
export interface MetricsOptions {
  /** Where to send; default from hot-shots' standard env (`DD_DOGSTATSD_URL`, `DD_AGENT_HOST`/`DD_DOGSTATSD_PORT`), else 127.0.0.1:8125. */
  readonly host?: string;
  readonly port?: number;
  /** Tags on every line (service, env, version, function name). Default: from DD_SERVICE/DD_ENV/DD_VERSION and AWS_LAMBDA_FUNCTION_NAME. */
  readonly globalTags?: Readonly<Record<string, string>>;
  /** Datagram size (hot-shots' `maxBufferSize`); default {@link MAX_DATAGRAM_BYTES}. */
  readonly maxDatagramBytes?: number;
  /** Called with each socket error (after it is counted); default logs the 1st and every 100th. */
  readonly onError?: (error: Error) => void;
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

function defaultGlobalTags(): Record<string, string> {
  const tags: Record<string, string> = {};
  const env = process.env;
  if (env.DD_SERVICE) tags[TAG.service] = env.DD_SERVICE;
  if (env.DD_ENV) tags[TAG.env] = env.DD_ENV;
  if (env.DD_VERSION) tags[TAG.version] = env.DD_VERSION;
  if (env.AWS_LAMBDA_FUNCTION_NAME) tags[TAG.functionName] = env.AWS_LAMBDA_FUNCTION_NAME;
  return tags;
}

/** As hot-shots formats a tag key: no character that would end the key, the tag or the line. */
function sanitizeTagKey(key: string): string {
  return key.replace(/[:|@,#\n\r]/g, '_');
}

/** Validates the options once and returns the client's settings. */
function settingsOf(options: MetricsOptions): { maxDatagramBytes: number; globalTags: string[] } {
  const maxDatagramBytes = options.maxDatagramBytes ?? MAX_DATAGRAM_BYTES;
  if (!Number.isInteger(maxDatagramBytes) || maxDatagramBytes < 512 || maxDatagramBytes > MAX_DATAGRAM_BYTES) {
    throw new ConfigurationError(`createMetrics: maxDatagramBytes must be a whole number from 512 to ${MAX_DATAGRAM_BYTES}`);
  }
  const globalTags = Object.entries(options.globalTags ?? defaultGlobalTags()).map(
    ([key, value]) => `${sanitizeTagKey(key)}:${sanitizeTagValue(value)}`,
  );
  if (globalTags.length > MAX_GLOBAL_TAGS) {
    throw new ConfigurationError(
      `createMetrics: at most ${MAX_GLOBAL_TAGS} global tags, so that a record's lines keep ${MAX_TAGS_PER_LINE} tags`,
    );
  }
  return { maxDatagramBytes, globalTags };
}

/** Counts a new live client and warns, with a stack trace, when it is not the only one. */
function registerClient(): { release(): void } {
  const counter = clientCounter();
  counter.live += 1;
  counter.created += 1;
  if (counter.live > 1) {
    console.warn(
      JSON.stringify({
        level: 'WARN',
        message:
          `${METRICS_WARNING.secondClient} (${counter.live} live, ${counter.created} created): ` +
          'every client holds a socket and a timer, and a client per job leaks until the sandbox runs out of memory or descriptors. ' +
          'Create the DogStatsD client once, at module scope, and reuse it across invocations (see the stack below).',
        stack: new Error('second DogStatsD client created here').stack,
      }),
    );
  }
  return {
    release() {
      counter.live -= 1;
    },
  };
}

/**
 * Creates the process's metric emitter. Call it once, at module scope (`createWorkerHandler` does);
 * a second live client logs a warning with a stack trace.
 */
export function createMetrics(options: MetricsOptions = {}): JobMetrics {
  const { maxDatagramBytes, globalTags } = settingsOf(options);
  let errors = 0;
  const onError =
    options.onError ??
    ((error: Error) => {
      if (errors === 1 || errors % 100 === 0) {
        console.warn(
          JSON.stringify({
            level: 'WARN',
            message: `${METRICS_WARNING.sendFailed} (${errors} errors so far): metrics are being lost; check that the Datadog extension (or a local listener) runs at the configured DogStatsD address`,
            error: error.message,
          }),
        );
      }
    });
  const countError = (error: Error): void => {
    errors += 1;
    onError(error);
  };
  const registration = registerClient();
  const client = new StatsD({
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    globalTags,
    maxBufferSize: maxDatagramBytes,
    bufferFlushInterval: BUFFER_FLUSH_INTERVAL_MS,
    datadog: false,
    includeDataDogTags: false,
    includeDatadogTelemetry: false,
    errorHandler: countError,
  });

  // One tag array per bounded tag set (catalog job types or `unknown`, the event sources' queues, the
  // outcomes and dead reasons), built once and handed to every distribution() call of that set.
  const tagSets = new Map<string, string[]>();
  const tagsOf = (record: RecordMetrics): string[] => {
    const key = `${record.jobType}\u0000${record.queue}\u0000${record.outcome}\u0000${record.reason ?? ''}`;
    let tags = tagSets.get(key);
    if (tags === undefined) {
      tags = [
        `${TAG.jobType}:${sanitizeTagValue(record.jobType)}`,
        `${TAG.queue}:${sanitizeTagValue(record.queue)}`,
        `${TAG.outcome}:${record.outcome}`,
      ];
      if (record.reason !== undefined) tags.push(`${TAG.reason}:${record.reason}`);
      tagSets.set(key, tags);
    }
    return tags;
  };
  /** A line whose value is not a finite number would be dropped by the extension: it is not sent. */
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
      const rss = residentSetBytes();
      if (rss >= 0) send(METRIC.rss, rss);
      const fds = openFileDescriptors();
      if (fds >= 0) send(METRIC.openFds, fds);
    },
    flush(timeoutMs) {
      return new Promise<void>((resolve) => {
        // hot-shots' flush may never call back when the socket cannot be created (EMFILE): bound the wait.
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
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      registration.release();
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
