/**
 * A UDP DogStatsD listener on 127.0.0.1 standing in for the Datadog Lambda extension.
 *
 * Every datagram goes through {@link parseDatagram}, i.e. the extension's own rules. The listener keeps
 * per-series aggregates (count, sum, min, max, last, p50, p95 by name + tags), and reports, through
 * `onWarning` (default: a loud line on stderr), every line the extension would drop, every accepted metric
 * that is not a distribution, and every accepted line the extension would change (extra values, ignored
 * sample rate, a line cut by the buffer). Tests await metrics with {@link DogStatsdListener.waitFor}.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parseDatagram, type MetricKind, type ParsedMetric, type RejectedLine } from './dogstatsd-parser.ts';
import { hasErrorCode, ListenError, PortInUseError } from './port-errors.ts';

/** The customary DogStatsD port (and the Datadog Lambda extension's). */
export const DEFAULT_DOGSTATSD_PORT = 8125;
/** The only interface local servers bind. */
export const LOCAL_HOST = '127.0.0.1';

/** Something the listener reports: a dropped line, a non-distribution metric, or a changed line. */
export type ListenerWarning =
  | { readonly kind: 'dropped'; readonly rejected: RejectedLine }
  | { readonly kind: 'not_distribution'; readonly metric: ParsedMetric }
  | { readonly kind: 'changed'; readonly metric: ParsedMetric; readonly note: string };

/** Options of {@link startDogStatsdListener}. */
export interface DogStatsdListenerOptions {
  /** UDP port; 0 picks a free one (tests). Default {@link DEFAULT_DOGSTATSD_PORT}. */
  readonly port?: number;
  /** The extension's metric namespace, if one is configured. */
  readonly namespace?: string;
  /**
   * The extension's receive buffer in bytes. Default 8,192 (libdatadog's `BUFFER_SIZE` today); older
   * libdatadog versions read 1,024 bytes per datagram, so set this to match an older pinned extension.
   */
  readonly bufferBytes?: number;
  /** Called for each warning; default prints it to stderr. */
  readonly onWarning?: (warning: ListenerWarning) => void;
  /** Samples kept per series for p50/p95 (a uniform reservoir beyond that). Default 10,000. */
  readonly maxSamplesPerSeries?: number;
  /** Dropped lines kept for {@link DogStatsdListener.rejected}. Default 1,000 (the most recent). */
  readonly maxRejectedKept?: number;
  /** The variable that moves the port, named in the "port taken" error. Default `LOCAL_DOGSTATSD_PORT`. */
  readonly portEnvVar?: string;
}

/** The aggregate of one series (name + tags) or of several merged. */
export interface MetricAggregate {
  readonly name: string;
  /** The series' tags (empty for a merged query). */
  readonly tags: readonly string[];
  readonly kind: MetricKind;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** The most recent value. */
  readonly last: number;
  readonly p50: number;
  readonly p95: number;
}

/** Totals since start (or the last reset). */
export interface ListenerTotals {
  readonly datagrams: number;
  readonly truncatedDatagrams: number;
  /** Lines the extension records. */
  readonly metrics: number;
  /** Lines the extension drops. */
  readonly dropped: number;
  /** Recorded metrics that are not distributions. */
  readonly notDistribution: number;
}

/** A filter on tags: every entry must be present as `key:value`. */
export type TagFilter = Readonly<Record<string, string>>;

/** The running listener. */
export interface DogStatsdListener {
  /** The bound UDP port. */
  readonly port: number;
  /** `127.0.0.1`. */
  readonly host: string;
  /** Totals since start. */
  totals(): ListenerTotals;
  /** Every series' aggregate. */
  series(): MetricAggregate[];
  /** The merged aggregate of every series of `name` whose tags include `where`; undefined if none. */
  query(name: string, where?: TagFilter): MetricAggregate | undefined;
  /** The merged count of `name` per value of tag `key` (e.g. jobs.processed per outcome). */
  countBy(name: string, key: string, where?: TagFilter): Map<string, number>;
  /** The most recent dropped lines. */
  rejected(): readonly RejectedLine[];
  /** Calls `listener` with every recorded metric; returns the unsubscribe function. */
  subscribe(listener: (metric: ParsedMetric) => void): () => void;
  /** Resolves when the count of `name` (with tags `where`) reaches `count`; rejects after `timeoutMs` (default 30 s). */
  waitFor(name: string, count: number, options?: { where?: TagFilter; timeoutMs?: number }): Promise<MetricAggregate>;
  /** Forgets every aggregate and total. */
  reset(): void;
  /** Closes the socket. */
  close(): Promise<void>;
}

/** A timeout of {@link DogStatsdListener.waitFor}. */
export class MetricWaitTimeoutError extends Error {
  override readonly name: string = 'MetricWaitTimeoutError';
}

interface Series {
  readonly name: string;
  readonly tags: readonly string[];
  readonly tagSet: ReadonlySet<string>;
  kind: MetricKind;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  samples: number[];
  seen: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

function matches(tagSet: ReadonlySet<string>, where: TagFilter | undefined): boolean {
  if (where === undefined) return true;
  for (const [key, value] of Object.entries(where)) {
    if (!tagSet.has(`${key}:${value}`)) return false;
  }
  return true;
}

/** Prints a warning the way a newcomer cannot miss it. */
export function printWarning(warning: ListenerWarning): void {
  switch (warning.kind) {
    case 'dropped':
      console.warn(
        `!! DogStatsD: the Datadog extension would DROP this line (${warning.rejected.code}): ${warning.rejected.reason}\n   ${warning.rejected.line}`,
      );
      break;
    case 'not_distribution':
      console.warn(
        `!! DogStatsD: ${warning.metric.name} is a ${warning.metric.kind}, not a distribution (|d): in Lambda only distributions aggregate across sandboxes\n   ${warning.metric.line}`,
      );
      break;
    case 'changed':
      console.warn(`!! DogStatsD: ${warning.note}\n   ${warning.metric.line}`);
      break;
  }
}

/** Starts the listener on 127.0.0.1. Rejects with {@link PortInUseError} when the port is taken. */
export async function startDogStatsdListener(options: DogStatsdListenerOptions = {}): Promise<DogStatsdListener> {
  const requestedPort = options.port ?? DEFAULT_DOGSTATSD_PORT;
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65_535) {
    throw new RangeError(`DogStatsD port must be a whole number from 0 to 65535, got ${requestedPort}`);
  }
  const maxSamples = options.maxSamplesPerSeries ?? 10_000;
  const maxRejected = options.maxRejectedKept ?? 1000;
  const onWarning = options.onWarning ?? printWarning;
  const parseOptions = {
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    ...(options.bufferBytes === undefined ? {} : { bufferBytes: options.bufferBytes }),
  };
  if (options.bufferBytes !== undefined && (!Number.isInteger(options.bufferBytes) || options.bufferBytes < 1)) {
    throw new RangeError(`bufferBytes must be a whole number >= 1, got ${options.bufferBytes}`);
  }

  const socket: Socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      socket.close();
      if (hasErrorCode(error, 'EADDRINUSE')) {
        reject(
          new PortInUseError('The DogStatsD listener', 'udp', LOCAL_HOST, requestedPort, options.portEnvVar ?? 'LOCAL_DOGSTATSD_PORT', {
            cause: error,
          }),
        );
      } else {
        reject(
          new ListenError(`The DogStatsD listener cannot bind UDP ${LOCAL_HOST}:${requestedPort}: ${error.message}`, { cause: error }),
        );
      }
    };
    socket.once('error', onError);
    socket.bind({ port: requestedPort, address: LOCAL_HOST, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  socket.on('error', (error) => console.warn(`DogStatsD listener socket error: ${error.message}`));
  const port = socket.address().port;

  const series = new Map<string, Series>();
  let rejectedKept: RejectedLine[] = [];
  let totals = { datagrams: 0, truncatedDatagrams: 0, metrics: 0, dropped: 0, notDistribution: 0 };
  const subscribers = new Set<(metric: ParsedMetric) => void>();

  const record = (metric: ParsedMetric): void => {
    const key = `${metric.name}\u0000${metric.tags.join(',')}`;
    let entry = series.get(key);
    if (entry === undefined) {
      entry = {
        name: metric.name,
        tags: metric.tags,
        tagSet: new Set(metric.tags),
        kind: metric.kind,
        count: 0,
        sum: 0,
        min: Infinity,
        max: -Infinity,
        last: Number.NaN,
        samples: [],
        seen: 0,
      };
      series.set(key, entry);
    }
    entry.kind = metric.kind;
    entry.count += 1;
    entry.sum += metric.value;
    entry.min = Math.min(entry.min, metric.value);
    entry.max = Math.max(entry.max, metric.value);
    entry.last = metric.value;
    entry.seen += 1;
    if (entry.samples.length < maxSamples) {
      entry.samples.push(metric.value);
    } else {
      const slot = Math.floor(Math.random() * entry.seen);
      if (slot < maxSamples) entry.samples[slot] = metric.value;
    }
  };

  socket.on('message', (datagram) => {
    const parsed = parseDatagram(datagram, parseOptions);
    totals.datagrams += 1;
    if (parsed.truncated) totals.truncatedDatagrams += 1;
    for (const rejected of parsed.rejected) {
      totals.dropped += 1;
      rejectedKept.push(rejected);
      if (rejectedKept.length > maxRejected) rejectedKept = rejectedKept.slice(-maxRejected);
      onWarning({ kind: 'dropped', rejected });
    }
    for (const metric of parsed.metrics) {
      totals.metrics += 1;
      record(metric);
      if (metric.kind !== 'distribution') {
        totals.notDistribution += 1;
        onWarning({ kind: 'not_distribution', metric });
      }
      for (const note of metric.notes) onWarning({ kind: 'changed', metric, note });
      for (const subscriber of subscribers) subscriber(metric);
    }
  });

  const merge = (name: string, where: TagFilter | undefined): MetricAggregate | undefined => {
    const parts = [...series.values()].filter((entry) => entry.name === name && matches(entry.tagSet, where));
    const first = parts[0];
    if (first === undefined) return undefined;
    if (parts.length === 1) return aggregateOf(first);
    const samples = parts.flatMap((entry) => entry.samples).toSorted((a, b) => a - b);
    const last = parts.reduce((latest, entry) => (entry.count > 0 ? entry.last : latest), Number.NaN);
    return {
      name,
      tags: [],
      kind: first.kind,
      count: parts.reduce((sum, entry) => sum + entry.count, 0),
      sum: parts.reduce((sum, entry) => sum + entry.sum, 0),
      min: Math.min(...parts.map((entry) => entry.min)),
      max: Math.max(...parts.map((entry) => entry.max)),
      last,
      p50: quantile(samples, 0.5),
      p95: quantile(samples, 0.95),
    };
  };

  const aggregateOf = (entry: Series): MetricAggregate => {
    const samples = entry.samples.toSorted((a, b) => a - b);
    return {
      name: entry.name,
      tags: entry.tags,
      kind: entry.kind,
      count: entry.count,
      sum: entry.sum,
      min: entry.min,
      max: entry.max,
      last: entry.last,
      p50: quantile(samples, 0.5),
      p95: quantile(samples, 0.95),
    };
  };

  const countOf = (name: string, where: TagFilter | undefined): number => {
    let count = 0;
    for (const entry of series.values()) if (entry.name === name && matches(entry.tagSet, where)) count += entry.count;
    return count;
  };

  let closed = false;
  return {
    port,
    host: LOCAL_HOST,
    totals: () => ({ ...totals }),
    series: () => [...series.values()].map(aggregateOf),
    query: merge,
    countBy(name, key, where) {
      const counts = new Map<string, number>();
      const prefix = `${key}:`;
      for (const entry of series.values()) {
        if (entry.name !== name || !matches(entry.tagSet, where)) continue;
        const tag = entry.tags.find((candidate) => candidate.startsWith(prefix));
        const value = tag === undefined ? '' : tag.slice(prefix.length);
        counts.set(value, (counts.get(value) ?? 0) + entry.count);
      }
      return counts;
    },
    rejected: () => [...rejectedKept],
    subscribe(listener) {
      subscribers.add(listener);
      return () => subscribers.delete(listener);
    },
    waitFor(name, count, waitOptions = {}) {
      const { where, timeoutMs = 30_000 } = waitOptions;
      return new Promise<MetricAggregate>((resolve, reject) => {
        const check = (): boolean => {
          if (countOf(name, where) < count) return false;
          cleanup();
          const aggregate = merge(name, where);
          if (aggregate === undefined) reject(new MetricWaitTimeoutError(`no ${name} recorded`));
          else resolve(aggregate);
          return true;
        };
        const unsubscribe = (): void => {
          subscribers.delete(onMetric);
        };
        const onMetric = (metric: ParsedMetric): void => {
          if (metric.name === name) check();
        };
        const timer = setTimeout(() => {
          unsubscribe();
          reject(
            new MetricWaitTimeoutError(
              `waited ${timeoutMs} ms for ${count} × ${name}${where ? ` ${JSON.stringify(where)}` : ''}, got ${countOf(name, where)}`,
            ),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          unsubscribe();
        };
        subscribers.add(onMetric);
        check();
      });
    },
    reset() {
      series.clear();
      rejectedKept = [];
      totals = { datagrams: 0, truncatedDatagrams: 0, metrics: 0, dropped: 0, notDistribution: 0 };
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      subscribers.clear();
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
