/**
 * The dashboard and monitors of a target, built and checked in one call. Used by the CDK construct
 * (`construct.ts`) and by the JSON export (`export.ts`), so both deploy paths ship the same thing.
 */
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import { buildDashboard } from './dashboard.ts';
import { buildMonitors, type MonitorSpec } from './monitors.ts';
import { buildSchedulerMonitors } from './scheduler-monitors.ts';
import { resolveMonitoringOptions, type MonitoringOptions, type ResolvedMonitoringOptions } from './options.ts';
import { validateTarget, type MonitoringTarget } from './target.ts';
import type { MetricQuery } from './query.ts';
import type { DashboardDefinition } from './types.ts';

/** A dashboard and its monitors. */
export interface MonitoringDefinitions {
  readonly target: MonitoringTarget;
  readonly options: ResolvedMonitoringOptions;
  readonly dashboard: DashboardDefinition;
  readonly monitors: readonly MonitorSpec[];
  /** Every metric query of the dashboard and the monitors, as models. */
  readonly queries: readonly MetricQuery[];
}

/**
 * Builds and checks the definitions of a target.
 * @throws ConfigurationError on the first problem (bad option, unknown job type in an override,
 *   a metric or tag key the worker does not emit, a formula naming no query)
 */
export function buildMonitoring(target: MonitoringTarget, options: MonitoringOptions = {}): MonitoringDefinitions {
  validateTarget(target);
  const resolved = resolveMonitoringOptions(options);
  const jobTypes = new Set(target.queues.flatMap((q) => q.jobTypes));
  for (const jobType of Object.keys(resolved.jobTypeThresholds)) {
    if (!jobTypes.has(jobType)) {
      throw new ConfigurationError(
        `monitoring: jobTypeThresholds names "${jobType}", which no queue carries (known: ${[...jobTypes].join(', ')})`,
      );
    }
  }
  const { dashboard, queries } = buildDashboard(target, resolved);
  const monitors = [...buildMonitors(target, resolved), ...buildSchedulerMonitors(target, resolved)];
  const keys = new Set(monitors.map((m) => m.key));
  if (keys.size !== monitors.length) throw new ConfigurationError('monitoring: two monitors share a key');
  return { target, options: resolved, dashboard, monitors, queries: [...queries, ...monitors.flatMap((m) => m.query.metrics)] };
}
