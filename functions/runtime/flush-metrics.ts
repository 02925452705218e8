/**
 * A middy middleware that flushes the module-scope metrics client at the end of every invocation.
 *
 * It flushes in `after` AND in `onError` (middy skips `after` when the handler throws), so no metric is
 * left in the buffer when Lambda freezes the sandbox. The flush is bounded by a short timeout, because
 * hot-shots' flush may never call back when its socket cannot bind. It never closes the client: the
 * next warm invocation reuses it.
 */
import type { MiddlewareObj } from '@middy/core';
import { ConfigurationError } from './errors.ts';
import type { JobMetrics } from './metrics.ts';

/** Options of {@link flushMetrics}. */
export interface FlushMetricsOptions {
  /** The process's metrics emitter (module scope). */
  readonly metrics: JobMetrics;
  /** Upper bound of the wait for the flush, in ms. Default 100. */
  readonly timeoutMs?: number;
  /** Also emit the per-invocation runtime metrics (heap, rss, open fds) before flushing. Default true. */
  readonly runtimeMetrics?: boolean;
}

/** Creates the flush middleware. Options are validated here, once. */
export function flushMetrics<TEvent, TResult>(options: FlushMetricsOptions): MiddlewareObj<TEvent, TResult> {
  const timeoutMs = options.timeoutMs ?? 100;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > 5000) {
    throw new ConfigurationError('flushMetrics: timeoutMs must be in (0, 5000]');
  }
  const { metrics } = options;
  const runtimeMetrics = options.runtimeMetrics ?? true;
  const flush = async (): Promise<void> => {
    if (runtimeMetrics) metrics.recordRuntime();
    await metrics.flush(timeoutMs);
  };
  return { name: 'flush-metrics', after: flush, onError: flush };
}
