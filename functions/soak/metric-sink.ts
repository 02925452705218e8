/**
 * The leak check's DogStatsD sink: a UDP socket on 127.0.0.1 (any free port) that the sandbox's metrics
 * client sends to, read with the local listener's parser (the pinned Datadog extension's rules). It counts
 * every line, every line the extension would drop, and the invocations that reported their runtime figures
 * (`jobs.runtime.heap_used`), so a job that breaks the worker's metrics fails the soak too.
 */
import { createSocket } from 'node:dgram';
import { LOCAL_HOST } from '../local/ports.ts';
import { parseDatagram } from '../local/dogstatsd-parser.ts';
import { METRIC } from '../runtime/metric-names.ts';

/** A running sink. */
export interface MetricSink {
  readonly host: string;
  readonly port: number;
  /** Metric lines received, lines the Datadog extension would drop, and invocations that reported their runtime figures. */
  readonly lines: { readonly received: number; readonly dropped: number; readonly invocations: number };
  /** Resolves once at least `count` invocations have reported, or after `timeoutMs`. */
  waitFor(count: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts the sink. */
export async function startMetricSink(): Promise<MetricSink> {
  const socket = createSocket('udp4');
  const lines = { received: 0, dropped: 0, invocations: 0 };
  let waiter: { count: number; resolve: () => void } | undefined;
  socket.on('message', (datagram) => {
    const parsed = parseDatagram(datagram);
    lines.received += parsed.metrics.length + parsed.rejected.length;
    lines.dropped += parsed.rejected.length;
    for (const metric of parsed.metrics) if (metric.name === METRIC.heapUsed) lines.invocations += 1;
    if (waiter !== undefined && lines.invocations >= waiter.count) waiter.resolve();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, LOCAL_HOST, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return {
    host: LOCAL_HOST,
    port: socket.address().port,
    lines,
    waitFor: (count, timeoutMs) =>
      new Promise<void>((resolve) => {
        if (lines.invocations >= count) return resolve();
        const timer = setTimeout(done, timeoutMs);
        function done(): void {
          clearTimeout(timer);
          waiter = undefined;
          resolve();
        }
        waiter = { count, resolve: done };
      }),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
