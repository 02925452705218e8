/**
 * The metric queries the dashboard and the monitors share, as {@link MetricQuery} models built from the
 * runtime's metric and tag constants and the integration allow-list (no name is spelled twice).
 */
import { METRIC, TAG, type Outcome } from '../../functions/runtime/metric-names.ts';
import { INTEGRATION_METRICS } from './integration-metrics.ts';
import { MetricQuery, type TagKey } from './query.ts';
import type { MonitoredQueue, MonitoringTarget } from './target.ts';

type Filters = Array<readonly [TagKey, string]>;

/** Scope of a queue's per-record metrics: service, env, queue, optionally one job type and one outcome. */
export function recordScope(target: MonitoringTarget, queue: MonitoredQueue, jobType?: string, outcome?: Outcome): Filters {
  const tags: Filters = [
    [TAG.service, target.service],
    [TAG.env, target.env],
    [TAG.queue, queue.queue],
  ];
  if (jobType !== undefined) tags.push([TAG.jobType, jobType]);
  if (outcome !== undefined) tags.push([TAG.outcome, outcome]);
  return tags;
}

/** `sum:jobs.processed{...}[ by {...}].as_count()`: records processed (each record is one point of value 1). */
export function processedCount(scope: Filters, by: readonly TagKey[] = []): MetricQuery {
  return MetricQuery.worker('sum', METRIC.processed, scope, { by, asCount: true });
}

/** `pNN:metric{...}` of a `jobs.*` distribution. */
export function percentile(metric: typeof METRIC.duration | typeof METRIC.queueLatency, p: 50 | 95 | 99, scope: Filters): MetricQuery {
  return MetricQuery.worker(`p${p}`, metric, scope);
}

/** A `jobs.runtime.*` query of one worker (these metrics carry the global tags only). */
export function runtime(
  aggregator: 'avg' | 'max',
  metric: typeof METRIC.heapUsed | typeof METRIC.rss | typeof METRIC.openFds,
  target: MonitoringTarget,
  queue: MonitoredQueue,
): MetricQuery {
  return MetricQuery.worker(aggregator, metric, [
    [TAG.service, target.service],
    [TAG.env, target.env],
    [TAG.functionName, queue.functionName],
  ]);
}

const on: typeof MetricQuery.integration = (...args) => MetricQuery.integration(...args);

/** The SQS and Lambda integration queries of one queue and its worker. */
export function awsQueries(queue: MonitoredQueue) {
  const m = INTEGRATION_METRICS;
  const fn = queue.functionName;
  return {
    sourceVisible: on('max', m.sqsVisible, queue.sqsQueueName),
    dlqVisible: on('max', m.sqsVisible, queue.sqsDeadLetterQueueName),
    sourceOldestAge: on('max', m.sqsOldestAge, queue.sqsQueueName),
    dlqOldestAge: on('max', m.sqsOldestAge, queue.sqsDeadLetterQueueName),
    invocations: on('sum', m.lambdaInvocations, fn, true),
    errors: on('sum', m.lambdaErrors, fn, true),
    throttles: on('sum', m.lambdaThrottles, fn, true),
    durationAvg: on('avg', m.lambdaDuration, fn),
    durationP99: on('max', m.lambdaDurationP99, fn),
    durationMax: on('max', m.lambdaDurationMax, fn),
    concurrencyAvg: on('avg', m.lambdaConcurrency, fn),
    concurrencyMax: on('max', m.lambdaConcurrencyMax, fn),
    maxMemoryUsed: on('max', m.enhancedMaxMemoryUsed, fn),
    memorySize: on('max', m.enhancedMemorySize, fn),
    outOfMemory: on('sum', m.enhancedOutOfMemory, fn, true),
  } as const;
}
