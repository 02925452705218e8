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
import { parseDatagram, type ParseOptions, type ParsedMetric, type RejectedLine } from './dogstatsd-parser.ts';
import { MetricAggregates, type MetricAggregate, type TagFilter } from './metric-aggregates.ts';
import { hasErrorCode, ListenError, PortInUseError } from './port-errors.ts';

export type { MetricAggregate, TagFilter };

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

/** The running listener. */
export interface DogStatsdListener {
  /** The bound UDP port. */
  readonly port: number;
  /** `127.0.0.1`. */
  readonly host: string;
  /** What it stands in for, e.g. `standing in for the Datadog Lambda extension`. */
  readonly standsInFor: string;
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

/** Binds a UDP socket on 127.0.0.1; a taken port rejects with {@link PortInUseError} naming `portEnvVar`. */
async function bindUdp(port: number, portEnvVar: string): Promise<Socket> {
  const socket: Socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      socket.close();
      reject(
        hasErrorCode(error, 'EADDRINUSE')
          ? new PortInUseError('The DogStatsD listener', 'udp', LOCAL_HOST, port, portEnvVar, { cause: error })
          : new ListenError(`The DogStatsD listener cannot bind UDP ${LOCAL_HOST}:${port}: ${error.message}`, { cause: error }),
      );
    };
    socket.once('error', onError);
    socket.bind({ port, address: LOCAL_HOST, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  socket.on('error', (error) => console.warn(`DogStatsD listener socket error: ${error.message}`));
  return socket;
}

function validated(options: DogStatsdListenerOptions): { port: number; parseOptions: ParseOptions } {
  const port = options.port ?? DEFAULT_DOGSTATSD_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError(`DogStatsD port must be a whole number from 0 to 65535, got ${port}`);
  }
  if (options.bufferBytes !== undefined && (!Number.isInteger(options.bufferBytes) || options.bufferBytes < 1)) {
    throw new RangeError(`bufferBytes must be a whole number >= 1, got ${options.bufferBytes}`);
  }
  const parseOptions = {
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    ...(options.bufferBytes === undefined ? {} : { bufferBytes: options.bufferBytes }),
  };
  return { port, parseOptions };
}

const NO_TOTALS: ListenerTotals = { datagrams: 0, truncatedDatagrams: 0, metrics: 0, dropped: 0, notDistribution: 0 };

/** Resolves when `aggregates` hold `count` of `name` (tags `where`), watching `subscribers`; rejects after `timeoutMs`. */
function waitForCount(
  aggregates: MetricAggregates,
  subscribers: Set<(metric: ParsedMetric) => void>,
  name: string,
  count: number,
  { where, timeoutMs = 30_000 }: { where?: TagFilter; timeoutMs?: number },
): Promise<MetricAggregate> {
  return new Promise<MetricAggregate>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      subscribers.delete(onMetric);
    };
    const check = (): void => {
      if (aggregates.count(name, where) < count) return;
      done();
      const aggregate = aggregates.query(name, where);
      if (aggregate === undefined) reject(new MetricWaitTimeoutError(`no ${name} recorded`));
      else resolve(aggregate);
    };
    const onMetric = (metric: ParsedMetric): void => {
      if (metric.name === name) check();
    };
    const timer = setTimeout(() => {
      done();
      const filter = where ? ` ${JSON.stringify(where)}` : '';
      reject(new MetricWaitTimeoutError(`waited ${timeoutMs} ms for ${count} × ${name}${filter}, got ${aggregates.count(name, where)}`));
    }, timeoutMs);
    subscribers.add(onMetric);
    check();
  });
}

/** Starts the listener on 127.0.0.1. Rejects with {@link PortInUseError} when the port is taken. */
export async function startDogStatsdListener(options: DogStatsdListenerOptions = {}): Promise<DogStatsdListener> {
  const { port: requestedPort, parseOptions } = validated(options);
  const maxRejected = options.maxRejectedKept ?? 1000;
  const onWarning = options.onWarning ?? printWarning;
  const socket = await bindUdp(requestedPort, options.portEnvVar ?? 'LOCAL_DOGSTATSD_PORT');
  const aggregates = new MetricAggregates(options.maxSamplesPerSeries ?? 10_000);
  const subscribers = new Set<(metric: ParsedMetric) => void>();
  let rejectedKept: RejectedLine[] = [];
  let totals = { ...NO_TOTALS };

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
      aggregates.record(metric);
      if (metric.kind !== 'distribution') {
        totals.notDistribution += 1;
        onWarning({ kind: 'not_distribution', metric });
      }
      for (const note of metric.notes) onWarning({ kind: 'changed', metric, note });
      for (const subscriber of subscribers) subscriber(metric);
    }
  });

  let closed = false;
  return {
    port: socket.address().port,
    host: LOCAL_HOST,
    standsInFor: 'standing in for the Datadog Lambda extension',
    totals: () => ({ ...totals }),
    series: () => aggregates.all(),
    query: (name, where) => aggregates.query(name, where),
    countBy: (name, key, where) => aggregates.countBy(name, key, where),
    rejected: () => [...rejectedKept],
    subscribe(listener) {
      subscribers.add(listener);
      return () => subscribers.delete(listener);
    },
    waitFor: (name, count, waitOptions = {}) => waitForCount(aggregates, subscribers, name, count, waitOptions),
    reset() {
      aggregates.clear();
      rejectedKept = [];
      totals = { ...NO_TOTALS };
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      subscribers.clear();
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
