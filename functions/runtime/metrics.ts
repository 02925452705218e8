/**
 * The worker's ONE DogStatsD client, created at module load and reused by every warm invocation.
 *
 * The seed's leak came from creating a client per job and per retry and never closing it. Here:
 * - {@link metrics} is created once per process (per Lambda sandbox);
 * - a live-client counter warns, with a stack trace, the moment a second client exists;
 * - every metric is a distribution (`|d`), the only custom-metric kind the Datadog Lambda extension
 *   aggregates; lines carry only fields the extension's parser knows (`|#tags`), at most 32 tags;
 * - lines are buffered into datagrams of at most {@link MAX_DATAGRAM_BYTES} and sent when the
 *   `flush-metrics` middleware flushes at the end of each invocation; each tag set's line suffix is
 *   built once, so a metric costs one string concatenation instead of hot-shots' per-call tag merge
 *   and whole-buffer byte count (about 10 x less time per record; `npm run bench` measures it);
 * - socket errors go to a handler that counts and logs them: a missing or broken listener never
 *   throws into a job.
 */
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { StatsD } from 'hot-shots';

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
  return value
    .replace(/[|,#\n\r:@\s]+/g, '_')
    .slice(0, 200)
    .toLowerCase();
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
  /** Bytes of metric lines recorded but not yet handed to the socket (0 after every flush). */
  readonly bufferedBytes: number;
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

/**
 * Whether `stat('/proc/self/fd').size` is the number of open descriptors (Linux 6.2 and later): one
 * `stat` instead of listing the directory (about 3 us instead of 25 us). Decided once, at module load.
 */
const FD_COUNT_FROM_STAT = ((): boolean => {
  try {
    return statSync('/proc/self/fd').size > 0;
  } catch {
    return false;
  }
})();

/** Counts the open file descriptors of this process (`/proc/self/fd`); -1 where that does not exist. */
export function openFileDescriptors(): number {
  try {
    if (FD_COUNT_FROM_STAT) return statSync('/proc/self/fd').size;
    // readdirSync itself holds one descriptor open on the directory while it reads.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return -1;
  }
}

/** The resident set size, read cheaply; see {@link residentSetReader}. */
interface ResidentSetReader {
  /** Bytes resident, or -1 when it cannot be read. Never throws. */
  read(): number;
  close(): void;
}

/** The resident set size as Node.js reads it (opening /proc/self/stat each time); -1 when that fails. */
function rssFromNode(): number {
  try {
    return process.memoryUsage.rss();
  } catch {
    return -1;
  }
}

/**
 * `process.memoryUsage()` opens, reads and closes /proc/self/stat on every call (about 9 us). Reading
 * /proc/self/statm through a descriptor opened once takes about 2 us, and keeps working when the process
 * has run out of descriptors (the seed's failure mode). Elsewhere: `process.memoryUsage.rss()`.
 */
function residentSetReader(): ResidentSetReader {
  const fallback = rssFromNode;
  let fd: number;
  try {
    fd = openSync('/proc/self/statm', 'r');
  } catch {
    return { read: fallback, close: () => undefined };
  }
  const buffer = Buffer.alloc(256);
  const residentPages = (): number => {
    const text = buffer.toString('latin1', 0, readSync(fd, buffer, 0, buffer.length, 0));
    const start = text.indexOf(' ') + 1;
    return Number(text.slice(start, text.indexOf(' ', start)));
  };
  let pageBytes = 0;
  try {
    // statm counts pages: the page size is the ratio to what Node reports (4 KiB on x86_64 and arm64 Lambda).
    const pages = residentPages();
    if (pages > 0) pageBytes = 2 ** Math.round(Math.log2(process.memoryUsage.rss() / pages));
  } catch {
    pageBytes = 0;
  }
  if (!(pageBytes >= 1024)) {
    closeSync(fd);
    return { read: fallback, close: () => undefined };
  }
  let open = true;
  return {
    read() {
      if (!open) return fallback();
      try {
        return residentPages() * pageBytes;
      } catch {
        return fallback();
      }
    },
    close() {
      if (!open) return;
      open = false;
      try {
        closeSync(fd);
      } catch {
        // Already closed.
      }
    },
  };
}

/** hot-shots' transport entry point (the function its own buffer flushes through): one datagram per call. */
interface ChunkSender {
  sendMessage(message: string, callback?: (error?: Error | null) => void): void;
}

/** The precomputed lines of one tag set. */
interface RecordLines {
  /** `|d|#tag,tag,...` */
  readonly suffix: string;
  readonly suffixBytes: number;
  /** The whole `jobs.processed:1|d|#...` line: its value is always 1. */
  readonly processed: string;
  readonly processedBytes: number;
}

/** The `|d` type field and the `|#` tags field of a distribution line. */
function suffixOf(tags: readonly string[]): string {
  return tags.length === 0 ? '|d' : `|d|#${tags.join(',')}`;
}

/** As hot-shots formats a tag key: no character that would end the key, the tag or the line. */
function sanitizeTagKey(key: string): string {
  return key.replace(/[:|@,#\n\r]/g, '_');
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
    ([key, value]) => `${sanitizeTagKey(key)}:${sanitizeTagValue(value)}`,
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

  // The hot path does not go through hot-shots' `distribution()`: that merges the tag arrays on every call
  // and its buffer recomputes `Buffer.byteLength` of the whole buffer on every append. Instead each
  // bounded tag set (job type, queue, outcome, reason) gets its line suffix `|d|#<global>,<record tags>`
  // built once, with its byte length; a metric is then one string concatenation, appended to the
  // invocation's pending datagram. Whole datagrams (<= maxDatagramBytes, one value per line: the
  // extension reads only the first value of a packed line) are handed to hot-shots' transport.
  const sender = client as unknown as ChunkSender;
  if (typeof sender.sendMessage !== 'function') {
    throw new TypeError('hot-shots no longer exposes sendMessage(): update functions/runtime/metrics.ts');
  }
  const residentSet = residentSetReader();
  const globalSuffix = suffixOf(globalTags);
  const runtimeSuffix = { text: globalSuffix, bytes: Buffer.byteLength(globalSuffix) };
  // Keyed job type -> queue -> outcome[:reason], so a lookup hashes strings that already exist (and cache
  // their hash) instead of building a key per record. The values are bounded: catalog job types (or
  // `unknown`), the queues of the event sources, the outcomes and the dead reasons.
  const lineSets = new Map<string, Map<string, Map<string, RecordLines>>>();
  const buildLines = (jobType: string, queue: string, outcome: Outcome, reason: DeadReason | undefined): RecordLines => {
    const tags = [`${TAG.jobType}:${sanitizeTagValue(jobType)}`, `${TAG.queue}:${sanitizeTagValue(queue)}`, `${TAG.outcome}:${outcome}`];
    if (reason !== undefined) tags.push(`${TAG.reason}:${reason}`);
    // As hot-shots does: a record tag replaces a global tag with the same key.
    const recordKeys = new Set(tags.map((tag) => tag.slice(0, tag.indexOf(':'))));
    const suffix = suffixOf([...globalTags.filter((tag) => !recordKeys.has(tag.slice(0, tag.indexOf(':')))), ...tags]);
    const processed = `${METRIC.processed}:1${suffix}`;
    return { suffix, suffixBytes: Buffer.byteLength(suffix), processed, processedBytes: Buffer.byteLength(processed) };
  };
  const linesFor = (jobType: string, queue: string, outcome: Outcome, reason: DeadReason | undefined): RecordLines => {
    let byQueue = lineSets.get(jobType);
    if (byQueue === undefined) lineSets.set(jobType, (byQueue = new Map()));
    let byOutcome = byQueue.get(queue);
    if (byOutcome === undefined) byQueue.set(queue, (byOutcome = new Map()));
    const key = reason === undefined ? outcome : `${outcome}:${reason}`;
    let lines = byOutcome.get(key);
    if (lines === undefined) byOutcome.set(key, (lines = buildLines(jobType, queue, outcome, reason)));
    return lines;
  };

  let pending = '';
  let pendingBytes = 0;
  const sendPending = (): void => {
    if (pendingBytes === 0) return;
    const datagram = pending;
    pending = '';
    pendingBytes = 0;
    try {
      sender.sendMessage(datagram);
    } catch (error) {
      errors += 1;
      onError(error instanceof Error ? error : new Error(String(error)));
    }
  };
  /** Appends one line (ASCII name and value, precomputed suffix) to the pending datagram. */
  const append = (line: string, bytes: number): void => {
    if (pendingBytes > 0 && pendingBytes + 1 + bytes > maxDatagramBytes) sendPending();
    if (pendingBytes === 0) {
      pending = line;
      pendingBytes = bytes;
    } else {
      pending += `\n${line}`;
      pendingBytes += 1 + bytes;
    }
  };
  const appendValue = (name: string, value: number, suffix: string, suffixBytes: number): void => {
    // A line whose value is not a finite number would be dropped by the extension: do not send it.
    if (!Number.isFinite(value)) return;
    const head = `${name}:${value}`;
    append(head + suffix, head.length + suffixBytes);
  };

  let closed = false;
  return {
    client,
    get errors() {
      return errors;
    },
    get bufferedBytes() {
      return pendingBytes;
    },
    recordJob(record) {
      const lines = linesFor(record.jobType, record.queue, record.outcome, record.reason);
      append(lines.processed, lines.processedBytes);
      appendValue(METRIC.duration, Math.round(record.durationMs * 1000) / 1000, lines.suffix, lines.suffixBytes);
      if (record.queueLatencyMs !== undefined)
        appendValue(METRIC.queueLatency, Math.max(0, record.queueLatencyMs), lines.suffix, lines.suffixBytes);
    },
    recordRuntime() {
      // The same figure as process.memoryUsage().heapUsed, without its read of /proc.
      appendValue(METRIC.heapUsed, getHeapStatistics().used_heap_size, runtimeSuffix.text, runtimeSuffix.bytes);
      const rss = residentSet.read();
      if (rss >= 0) appendValue(METRIC.rss, rss, runtimeSuffix.text, runtimeSuffix.bytes);
      const fds = openFileDescriptors();
      if (fds >= 0) appendValue(METRIC.openFds, fds, runtimeSuffix.text, runtimeSuffix.bytes);
    },
    flush(timeoutMs) {
      return new Promise<void>((resolve) => {
        // hot-shots' flush may never call back when the socket cannot bind (EMFILE): bound the wait.
        const timer = setTimeout(resolve, timeoutMs);
        try {
          sendPending();
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
      residentSet.close();
      return new Promise<void>((resolve) => {
        try {
          sendPending();
          client.close(() => resolve());
        } catch {
          resolve();
        }
      });
    },
  };
}
