/**
 * A middy middleware that records the runtime metrics and flushes the module-scope metrics client at the end of every
 * invocation, in `after` AND `onError` (middy skips `after` when the handler throws), so nothing is left buffered when
 * Lambda freezes the sandbox. The flush is bounded (hot-shots may never call back when its socket cannot bind); the
 * client is never closed: the next warm invocation reuses it.
 */
import type { MiddlewareObj } from '@middy/core';
import { ConfigurationError } from './errors.ts';
import type { JobMetrics } from './metrics.ts';

/** Creates the flush middleware for the process's metrics emitter; `timeoutMs` (default 100) bounds the wait. */
export function flushMetrics<TEvent, TResult>(options: { metrics: JobMetrics; timeoutMs?: number }): MiddlewareObj<TEvent, TResult> {
  const { metrics, timeoutMs = 100 } = options;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > 5000) {
    throw new ConfigurationError('flushMetrics: timeoutMs must be in (0, 5000]');
  }
  const flush = async (): Promise<void> => {
    metrics.recordRuntime();
    await metrics.flush(timeoutMs);
  };
  return { name: 'flush-metrics', after: flush, onError: flush };
}
