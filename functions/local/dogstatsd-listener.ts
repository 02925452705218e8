/**
 * A UDP DogStatsD listener on 127.0.0.1 standing in for the Datadog Lambda extension the stack pins: every
 * datagram goes through {@link parseDatagram}, the pinned extension's own rules (it says which revision in
 * {@link DogStatsdListener.standsInFor}). It keeps per-series aggregates, reports each {@link ListenerWarning}
 * through `onWarning` (default: a loud line on stderr), and lets tests await metrics ({@link DogStatsdListener.waitFor}).
 */
import { createSocket, type Socket } from 'node:dgram';
import { DATADOG_EXTENSION_LAYER_VERSION, dogstatsdSource } from '../datadog-extension.ts';
import { MAX_TAGS_PER_LINE } from '../runtime/metric-limits.ts';
import { PARSER_REVISION, parseDatagram, type ParseOptions, type ParsedMetric, type RejectedLine } from './dogstatsd-parser.ts';
import { MetricAggregates, type MetricAggregate, type TagFilter } from './metric-aggregates.ts';
import { checkPort, listenFailure, once } from './local-server.ts';
import { DEFAULT_DOGSTATSD_PORT, DOGSTATSD_PORT_ENV, LOCAL_HOST } from './ports.ts';

/**
 * Something the listener reports, with whose rule it is: `by: 'extension'` is what production does (a `dropped`
 * line is lost there; a `changed` one is kept, altered); `by: 'project'` is our own rule, which production does not
 * enforce (not a distribution; more tags than the worker's cap): it keeps the line as it is.
 */
export type ListenerWarning =
  | { readonly kind: 'dropped'; readonly by: 'extension'; readonly rejected: RejectedLine }
  | { readonly kind: 'changed'; readonly by: 'extension'; readonly metric: ParsedMetric; readonly note: string }
  | { readonly kind: 'not_distribution'; readonly by: 'project'; readonly metric: ParsedMetric }
  | { readonly kind: 'too_many_tags'; readonly by: 'project'; readonly metric: ParsedMetric; readonly note: string };

/** Options of {@link startDogStatsdListener}. */
export interface DogStatsdListenerOptions {
  /** UDP port; 0 picks a free one (tests). Default {@link DEFAULT_DOGSTATSD_PORT}. */
  readonly port?: number;
  /** The extension's receive buffer in bytes (`DD_DOGSTATSD_BUFFER_SIZE`). Default `EXTENSION_BUFFER_BYTES` (8,192). */
  readonly bufferBytes?: number;
  /** Called for each warning; default prints it to stderr. */
  readonly onWarning?: (warning: ListenerWarning) => void;
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
  /** Recorded metrics with more tags than the project's cap. */
  readonly overTagLimit: number;
}

/** The running listener. */
export interface DogStatsdListener {
  readonly port: number;
  readonly host: string;
  /** The extension layer and the DogStatsD revision whose rules it applies. */
  readonly extension: { readonly layer: number; readonly revision: string };
  /** What it stands in for, e.g. `the Datadog Lambda extension layer 99 (DataDog/serverless-components@d0c7f44 crates/dogstatsd)`. */
  readonly standsInFor: string;
  totals(): ListenerTotals;
  series(): MetricAggregate[];
  /** The merged aggregate of every series of `name` whose tags include `where`; undefined if none. */
  query(name: string, where?: TagFilter): MetricAggregate | undefined;
  /** The merged count of `name` per value of tag `key` (e.g. jobs.processed per outcome). */
  countBy(name: string, key: string, where?: TagFilter): Map<string, number>;
  /** The most recent dropped lines (up to {@link MAX_REJECTED_KEPT}). */
  rejected(): readonly RejectedLine[];
  /** Calls `listener` with every recorded metric; returns the unsubscribe function. */
  subscribe(listener: (metric: ParsedMetric) => void): () => void;
  /** Resolves when the count of `name` (with tags `where`) reaches `count`; rejects after `timeoutMs` (default 30 s). */
  waitFor(name: string, count: number, options?: { where?: TagFilter; timeoutMs?: number }): Promise<MetricAggregate>;
  reset(): void;
  close(): Promise<void>;
}

/** A timeout of {@link DogStatsdListener.waitFor}. */
export class MetricWaitTimeoutError extends Error {
  override readonly name: string = 'MetricWaitTimeoutError';
}

/** One sentence for a warning: whose rule it is and what production does with the line. */
export function describeWarning(warning: ListenerWarning): string {
  switch (warning.kind) {
    case 'dropped':
      return `the Datadog extension would DROP this line (${warning.rejected.code}): ${warning.rejected.reason}`;
    case 'changed':
      return `the Datadog extension keeps this line, changed: ${warning.note}`;
    case 'not_distribution':
      return `project rule: ${warning.metric.name} is a ${warning.metric.kind}, not a distribution (|d): in Lambda only distributions aggregate across sandboxes (the extension keeps it)`;
    case 'too_many_tags':
      return `project rule: ${warning.note}`;
  }
}

/** Prints a warning the way a newcomer cannot miss it. */
function printWarning(warning: ListenerWarning): void {
  console.warn(`!! DogStatsD: ${describeWarning(warning)}\n   ${warning.kind === 'dropped' ? warning.rejected.line : warning.metric.line}`);
}

/** Binds a UDP socket on 127.0.0.1; a taken port rejects with `PortInUseError` naming `LOCAL_DOGSTATSD_PORT`. */
async function bindUdp(port: number): Promise<Socket> {
  const socket: Socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      socket.close();
      reject(listenFailure('The DogStatsD listener', 'udp', port, DOGSTATSD_PORT_ENV, error));
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
  const port = checkPort('DogStatsD', options.port ?? DEFAULT_DOGSTATSD_PORT);
  if (options.bufferBytes !== undefined && (!Number.isInteger(options.bufferBytes) || options.bufferBytes < 1)) {
    throw new RangeError(`bufferBytes must be a whole number >= 1, got ${options.bufferBytes}`);
  }
  return { port, parseOptions: { bufferBytes: options.bufferBytes } };
}

/** Samples kept per series for p50/p95 (a uniform reservoir beyond that). */
const MAX_SAMPLES_PER_SERIES = 10_000;
/** Dropped lines kept for {@link DogStatsdListener.rejected}, the most recent. */
const MAX_REJECTED_KEPT = 1000;
const NO_TOTALS: ListenerTotals = { datagrams: 0, truncatedDatagrams: 0, metrics: 0, dropped: 0, notDistribution: 0, overTagLimit: 0 };

/** Resolves when `aggregates` hold `count` of `name` (tags `where`), watching `subscribers`; rejects after `timeoutMs`. */
function waitForCount(
  aggregates: MetricAggregates,
  subscribers: Set<(metric: ParsedMetric) => void>,
  name: string,
  count: number,
  { where, timeoutMs = 30_000 }: { where?: TagFilter; timeoutMs?: number },
): Promise<MetricAggregate> {
  const { promise, resolve, reject } = Promise.withResolvers<MetricAggregate>();
  const check = (): void => {
    if (aggregates.count(name, where) < count) return;
    const aggregate = aggregates.query(name, where);
    if (aggregate === undefined) reject(new MetricWaitTimeoutError(`no ${name} recorded`));
    else resolve(aggregate);
  };
  const onMetric = (metric: ParsedMetric): void => {
    if (metric.name === name) check();
  };
  const timer = setTimeout(() => {
    const filter = where ? ` ${JSON.stringify(where)}` : '';
    reject(new MetricWaitTimeoutError(`waited ${timeoutMs} ms for ${count} × ${name}${filter}, got ${aggregates.count(name, where)}`));
  }, timeoutMs);
  subscribers.add(onMetric);
  check();
  return promise.finally(() => {
    clearTimeout(timer);
    subscribers.delete(onMetric);
  });
}

/** Starts the listener on 127.0.0.1. Rejects with `PortInUseError` when the port is taken. */
export async function startDogStatsdListener(options: DogStatsdListenerOptions = {}): Promise<DogStatsdListener> {
  const { port: requestedPort, parseOptions } = validated(options);
  const onWarning = options.onWarning ?? printWarning;
  const socket = await bindUdp(requestedPort);
  const aggregates = new MetricAggregates(MAX_SAMPLES_PER_SERIES);
  const subscribers = new Set<(metric: ParsedMetric) => void>();
  let rejectedKept: RejectedLine[] = [];
  let totals = { ...NO_TOTALS };

  const judge = (metric: ParsedMetric): void => {
    totals.metrics += 1;
    aggregates.record(metric);
    if (metric.kind !== 'distribution') {
      totals.notDistribution += 1;
      onWarning({ kind: 'not_distribution', by: 'project', metric });
    }
    if (metric.tags.length > MAX_TAGS_PER_LINE) {
      totals.overTagLimit += 1;
      const note = `${metric.tags.length} tags, more than the worker's ${MAX_TAGS_PER_LINE} (MAX_TAGS_PER_LINE); the extension keeps up to its own limit`;
      onWarning({ kind: 'too_many_tags', by: 'project', metric, note });
    }
    for (const note of metric.notes) onWarning({ kind: 'changed', by: 'extension', metric, note });
    for (const subscriber of subscribers) subscriber(metric);
  };
  socket.on('message', (datagram) => {
    const parsed = parseDatagram(datagram, parseOptions);
    totals.datagrams += 1;
    if (parsed.truncated) totals.truncatedDatagrams += 1;
    for (const rejected of parsed.rejected) {
      totals.dropped += 1;
      if (rejectedKept.push(rejected) > MAX_REJECTED_KEPT) rejectedKept.shift();
      onWarning({ kind: 'dropped', by: 'extension', rejected });
    }
    for (const metric of parsed.metrics) judge(metric);
  });

  return {
    port: socket.address().port,
    host: LOCAL_HOST,
    extension: { layer: DATADOG_EXTENSION_LAYER_VERSION, revision: PARSER_REVISION },
    standsInFor: `the Datadog Lambda extension layer ${DATADOG_EXTENSION_LAYER_VERSION} (${dogstatsdSource(PARSER_REVISION)})`,
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
    close: once(() => {
      subscribers.clear();
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    }),
  };
}
