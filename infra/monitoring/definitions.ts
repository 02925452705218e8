/**
 * The dashboard and monitors of a target, built and checked in one call. Used by the CDK construct
 * (`construct.ts`) and by the JSON export (`export.ts`), so both deploy paths ship the same thing.
 */
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import { checkMonitors, checkQueries, dashboardQueries, monitorQueries } from './check.ts';
import { buildDashboard } from './dashboard.ts';
import { buildMonitors, type MonitorSpec } from './monitors.ts';
import { resolveMonitoringOptions, type MonitoringOptions, type ResolvedMonitoringOptions } from './options.ts';
import { validateTarget, type MonitoringTarget } from './target.ts';
import type { DashboardDefinition } from './types.ts';

/** A dashboard and its monitors. */
export interface MonitoringDefinitions {
  readonly target: MonitoringTarget;
  readonly options: ResolvedMonitoringOptions;
  readonly dashboard: DashboardDefinition;
  readonly monitors: readonly MonitorSpec[];
}

/**
 * Builds and checks the definitions of a target.
 * @throws ConfigurationError listing every problem (bad option, unknown job type in an override,
 *   a query that does not parse, a metric or tag the worker does not emit)
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
  const dashboard = buildDashboard(target, resolved);
  const monitors = buildMonitors(target, resolved);
  const problems = [...checkQueries([...dashboardQueries(dashboard), ...monitorQueries(monitors)]), ...checkMonitors(monitors)];
  if (problems.length > 0) throw new ConfigurationError(`monitoring definitions are invalid:\n- ${problems.join('\n- ')}`);
  return { target, options: resolved, dashboard, monitors };
}
