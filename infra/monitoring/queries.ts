/**
 * The metric query strings the dashboard and the monitors share, built from the runtime's own
 * metric and tag constants and the integration allow-list (no name is spelled twice).
 */
import { METRIC, TAG, type Outcome } from '../../functions/runtime/metric-names.ts';
import { INTEGRATION_METRICS, type IntegrationMetric } from './integration-metrics.ts';
import type { MonitoredQueue, MonitoringTarget } from './target.ts';

/** A `{...}` scope from tag pairs, in the order given. */
export function scope(tags: ReadonlyArray<readonly [string, string]>): string {
  return `{${tags.map(([key, value]) => `${key}:${value}`).join(',')}}`;
}

/** Tags every `jobs.*` query of this deployment carries: service and env. */
function deployment(target: MonitoringTarget): Array<readonly [string, string]> {
  return [
    [TAG.service, target.service],
    [TAG.env, target.env],
  ];
}

/** Scope of a queue's per-record metrics (optionally one job type, optionally one outcome). */
export function recordScope(target: MonitoringTarget, queue: MonitoredQueue, jobType?: string, outcome?: Outcome): string {
  const tags = [...deployment(target), [TAG.queue, queue.queue] as const];
  if (jobType !== undefined) tags.push([TAG.jobType, jobType]);
  if (outcome !== undefined) tags.push([TAG.outcome, outcome]);
  return scope(tags);
}

/** Scope of a worker's per-invocation runtime metrics (they carry global tags only). */
export function runtimeScope(target: MonitoringTarget, queue: MonitoredQueue): string {
  return scope([...deployment(target), [TAG.functionName, queue.functionName]]);
}

/** `sum:jobs.processed{...}[ by {...}].as_count()`: records processed (each record is one point of value 1). */
export function processedCount(recordScopeText: string, by: readonly string[] = []): string {
  return `sum:${METRIC.processed}${recordScopeText}${groupBy(by)}.as_count()`;
}

/** `pNN:metric{...}` for a `jobs.*` distribution. */
export function percentile(metric: typeof METRIC.duration | typeof METRIC.queueLatency, p: 50 | 95 | 99, scopeText: string): string {
  return `p${p}:${metric}${scopeText}`;
}

/** A query on an integration metric, scoped to one resource by its resource tag. */
export function integration(aggregator: string, metric: IntegrationMetric, resourceName: string, suffix = ''): string {
  return `${aggregator}:${metric.name}${scope([[metric.resourceTag, resourceName]])}${suffix}`;
}

/** A `jobs.runtime.*` query of one worker. */
export function runtime(
  aggregator: string,
  metric: typeof METRIC.heapUsed | typeof METRIC.rss | typeof METRIC.openFds,
  target: MonitoringTarget,
  queue: MonitoredQueue,
): string {
  return `${aggregator}:${metric}${runtimeScope(target, queue)}`;
}

function groupBy(keys: readonly string[]): string {
  return keys.length === 0 ? '' : ` by {${keys.join(',')}}`;
}

/** Shorthands for the SQS and Lambda queries of one queue. */
export function awsQueries(queue: MonitoredQueue) {
  const fn = queue.functionName;
  return {
    sourceVisible: integration('max', INTEGRATION_METRICS.sqsVisible, queue.sqsQueueName),
    dlqVisible: integration('max', INTEGRATION_METRICS.sqsVisible, queue.sqsDeadLetterQueueName),
    sourceOldestAge: integration('max', INTEGRATION_METRICS.sqsOldestAge, queue.sqsQueueName),
    dlqOldestAge: integration('max', INTEGRATION_METRICS.sqsOldestAge, queue.sqsDeadLetterQueueName),
    invocations: integration('sum', INTEGRATION_METRICS.lambdaInvocations, fn, '.as_count()'),
    errors: integration('sum', INTEGRATION_METRICS.lambdaErrors, fn, '.as_count()'),
    throttles: integration('sum', INTEGRATION_METRICS.lambdaThrottles, fn, '.as_count()'),
    durationAvg: integration('avg', INTEGRATION_METRICS.lambdaDuration, fn),
    durationP99: integration('max', INTEGRATION_METRICS.lambdaDurationP99, fn),
    durationMax: integration('max', INTEGRATION_METRICS.lambdaDurationMax, fn),
    concurrencyAvg: integration('avg', INTEGRATION_METRICS.lambdaConcurrency, fn),
    concurrencyMax: integration('max', INTEGRATION_METRICS.lambdaConcurrencyMax, fn),
    maxMemoryUsed: integration('max', INTEGRATION_METRICS.enhancedMaxMemoryUsed, fn),
    memorySize: integration('max', INTEGRATION_METRICS.enhancedMemorySize, fn),
    outOfMemory: integration('sum', INTEGRATION_METRICS.enhancedOutOfMemory, fn, '.as_count()'),
  } as const;
}
