/**
 * The worker's ONE DogStatsD client, created at module load and reused by every warm invocation.
 *
 * The seed's leak came from creating a client per job and per retry and never closing it. Here:
 * - {@link metrics} is created once per process (per Lambda sandbox);
 * - a live-client counter warns, with a stack trace, the moment a second client exists;
 * - every metric is a distribution (`|d`), the only custom-metric kind the Datadog Lambda extension
 *   aggregates; lines carry only fields the extension's parser knows (`|#tags`), at most 32 tags;
 * - lines are buffered into datagrams of at most {@link MAX_DATAGRAM_BYTES} and sent when the
 *   `flush-metrics` middleware flushes at the end of each invocation;
 * - socket errors go to a handler that counts and logs them: a missing or broken listener never
 *   throws into a job.
 */
import { readdirSync } from 'node:fs';
import StatsD from 'hot-shots';

type StatsDClient = InstanceType<typeof StatsD>;
import { METRIC, TAG, type DeadReason, type Outcome } from './metric-names.ts';

/**
 * The largest datagram the worker sends. The Datadog Lambda extension (DataDog/libdatadog, dogstatsd)
 * reads each datagram into an 8,192-byte buffer; anything longer is cut and its lines dropped.
 * The extension version pinned in `infra/datadog.ts` must read at least this much.
 */
export const MAX_DATAGRAM_BYTES = 8192;
/** The extension's limit on tags per line; a longer line is dropped. */
export const MAX_TAGS_PER_LINE = 32;

const LIVE_CLIENTS = Symbol.for('serverless-jobs.statsd.live-clients');
type GlobalWithCounter = typeof globalThis & { [LIVE_CLIENTS]?: { live: number; created: number } };

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
  return value.replace(/[|,#\n\r:@\s]+/g, '_').slice(0, 200).toLowerCase();
}

/** Options of {@link createMetrics}; read once at module load. */
export interface MetricsOptions {
  /** Where to send; default from hot-shots' standard env (`DD_DOGSTATSD_URL`, `DD_AGENT_HOST`/`DD_DOGSTATSD_PORT`), else 127.0.0.1:8125. */
  readonly host?: string;
  readonly port?: number;
  /** Tags on every line (service, env, version, function name). Default: from DD_SERVICE/DD_ENV/DD_VERSION and AWS_LAMBDA_FUNCTION_NAME. */
  readonly globalTags?: Readonly<Record<string, string>>;
  /** Datagram size; default {@link MAX_DATAGRAM_BYTES}. */
  readonly maxDatagramBytes?: number;
  /** Called with each socket error (after it is counted); default logs once per 100 errors. */
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

/** The worker's metric emitter: one per process, wrapping one hot-shots client. */
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
  /** The underlying client, for tests that inspect it. */
  readonly client: StatsDClient;
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

/** Counts the open file descriptors of this process (`/proc/self/fd`); -1 where that does not exist. */
export function openFileDescriptors(): number {
  try {
    // readdirSync itself holds one descriptor open on the directory while it reads.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return -1;
  }
}

/**
 * Creates the process's metric emitter. Call it once, at module scope (see {@link metrics});
 * a second live client logs a warning with a stack trace.
 */
export function createMetrics(options: MetricsOptions = {}): JobMetrics {
  const maxDatagramBytes = options.maxDatagramBytes ?? MAX_DATAGRAM_BYTES;
  if (!Number.isInteger(maxDatagramBytes) || maxDatagramBytes < 512 || maxDatagramBytes > MAX_DATAGRAM_BYTES) {
    throw new RangeError(`maxDatagramBytes must be a whole number from 512 to ${MAX_DATAGRAM_BYTES}`);
  }
  const globalTags = Object.entries(options.globalTags ?? defaultGlobalTags()).map(
    ([key, value]) => `${key}:${sanitizeTagValue(value)}`,
  );
  if (globalTags.length + 4 > MAX_TAGS_PER_LINE) {
    throw new RangeError(`at most ${MAX_TAGS_PER_LINE - 4} global tags fit the extension's tag limit`);
  }

  let errors = 0;
  const onError =
    options.onError ??
    ((error: Error) => {
      if (errors === 1 || errors % 100 === 0) {
        console.warn(JSON.stringify({ level: 'WARN', message: 'dogstatsd send failed', errors, error: error.message }));
      }
    });

  const counter = clientCounter();
  counter.live += 1;
  counter.created += 1;
  if (counter.live > 1) {
    console.warn(
      JSON.stringify({
        level: 'WARN',
        message: `a second DogStatsD client was created in this process (${counter.live} live): this is the seed's leak`,
        stack: new Error('second StatsD client').stack,
      }),
    );
  }

  const client = new StatsD({
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    globalTags,
    maxBufferSize: maxDatagramBytes,
    // Flushed by the middleware at the end of each invocation; the interval only matters for long runs.
    bufferFlushInterval: 1000,
    // No datadog mode: it appends fields (`|card:`, `|e:`) the extension's parser may not know,
    // and client telemetry (extra counts every 10 s) is not a distribution: the extension drops it.
    datadog: false,
    includeDataDogTags: false,
    includeDatadogTelemetry: false,
    errorHandler: (error: Error) => {
      errors += 1;
      onError(error);
    },
  });

  // Tag arrays are built once per (job type, queue, outcome, reason): the sets are bounded.
  const tagCache = new Map<string, string[]>();
  const tagsFor = (jobType: string, queue: string, outcome: Outcome, reason: DeadReason | undefined): string[] => {
    const key = `${jobType}\u0000${queue}\u0000${outcome}\u0000${reason ?? ''}`;
    let tags = tagCache.get(key);
    if (tags === undefined) {
      tags = [`${TAG.jobType}:${sanitizeTagValue(jobType)}`, `${TAG.queue}:${sanitizeTagValue(queue)}`, `${TAG.outcome}:${outcome}`];
      if (reason !== undefined) tags.push(`${TAG.reason}:${reason}`);
      tagCache.set(key, tags);
    }
    return tags;
  };

  let closed = false;
  return {
    client,
    get errors() {
      return errors;
    },
    recordJob(record) {
      const tags = tagsFor(record.jobType, record.queue, record.outcome, record.reason);
      client.distribution(METRIC.processed, 1, tags);
      client.distribution(METRIC.duration, Math.round(record.durationMs * 1000) / 1000, tags);
      if (record.queueLatencyMs !== undefined) client.distribution(METRIC.queueLatency, Math.max(0, record.queueLatencyMs), tags);
    },
    recordRuntime() {
      const memory = process.memoryUsage();
      client.distribution(METRIC.heapUsed, memory.heapUsed);
      client.distribution(METRIC.rss, memory.rss);
      const fds = openFileDescriptors();
      if (fds >= 0) client.distribution(METRIC.openFds, fds);
    },
    flush(timeoutMs) {
      return new Promise<void>((resolve) => {
        // hot-shots' flush may never call back when the socket cannot bind (EMFILE): bound the wait.
        const timer = setTimeout(resolve, timeoutMs);
        try {
          client.flush(() => {
            clearTimeout(timer);
            resolve();
          });
        } catch {
          clearTimeout(timer);
          resolve();
        }
      });
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      counter.live -= 1;
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
