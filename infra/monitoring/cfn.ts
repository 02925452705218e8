/**
 * CloudFormation properties of Datadog's public registry types, from the API v1 definitions.
 *
 * - `Datadog::Monitors::Monitor` (schema: DataDog/datadog-cloudformation-resources,
 *   datadog-monitors-monitor-handler/datadog-monitors-monitor.json): `Type`, `Query`, `Name`, `Message`,
 *   `Tags`, `Priority`, `Options` with PascalCase option names (`Thresholds.Critical`, `NotifyNoData`, ...).
 * - `Datadog::Dashboards::Dashboard` (datadog-dashboards-dashboard.json): `DashboardDefinition`, the
 *   API v1 dashboard body as a JSON string.
 * Credentials are not resource properties: they are the types' account configuration
 * (`aws cloudformation set-type-configuration`, see the README's Monitoring section).
 */
import type { MonitorDefinition, MonitorThresholdValues } from './types.ts';

/** The registry type names. */
export const DATADOG_MONITOR_TYPE = 'Datadog::Monitors::Monitor';
export const DATADOG_DASHBOARD_TYPE = 'Datadog::Dashboards::Dashboard';

/** `Options.Thresholds` of `Datadog::Monitors::Monitor`. */
export interface CfnMonitorThresholds {
  readonly Critical: number;
  readonly Warning?: number;
  readonly CriticalRecovery?: number;
  readonly WarningRecovery?: number;
}

/** `Options` of `Datadog::Monitors::Monitor` (the subset this module sets). */
export interface CfnMonitorOptions {
  readonly Thresholds: CfnMonitorThresholds;
  readonly NotifyNoData: boolean;
  readonly NoDataTimeframe?: number;
  readonly RequireFullWindow: boolean;
  readonly EvaluationDelay?: number;
  readonly IncludeTags: boolean;
  readonly RenotifyInterval?: number;
  readonly NewGroupDelay?: number;
}

/** Properties of `Datadog::Monitors::Monitor`. */
export interface CfnMonitorProperties {
  readonly Type: MonitorDefinition['type'];
  readonly Query: string;
  readonly Name: string;
  readonly Message: string;
  readonly Tags: readonly string[];
  readonly Priority: number;
  readonly Options: CfnMonitorOptions;
}

/** Properties of `Datadog::Dashboards::Dashboard`. */
export interface CfnDashboardProperties {
  readonly DashboardDefinition: string;
}

function cfnThresholds(t: MonitorThresholdValues): CfnMonitorThresholds {
  return {
    Critical: t.critical,
    ...(t.warning === undefined ? {} : { Warning: t.warning }),
    ...(t.critical_recovery === undefined ? {} : { CriticalRecovery: t.critical_recovery }),
    ...(t.warning_recovery === undefined ? {} : { WarningRecovery: t.warning_recovery }),
  };
}

/** Maps an API v1 monitor body to `Datadog::Monitors::Monitor` properties. */
export function toCfnMonitorProperties(monitor: MonitorDefinition): CfnMonitorProperties {
  const o = monitor.options;
  return {
    Type: monitor.type,
    Query: monitor.query,
    Name: monitor.name,
    Message: monitor.message,
    Tags: [...monitor.tags],
    Priority: monitor.priority,
    Options: {
      Thresholds: cfnThresholds(o.thresholds),
      NotifyNoData: o.notify_no_data,
      ...(o.no_data_timeframe === undefined ? {} : { NoDataTimeframe: o.no_data_timeframe }),
      RequireFullWindow: o.require_full_window,
      ...(o.evaluation_delay === undefined ? {} : { EvaluationDelay: o.evaluation_delay }),
      IncludeTags: o.include_tags,
      ...(o.renotify_interval === undefined ? {} : { RenotifyInterval: o.renotify_interval }),
      ...(o.new_group_delay === undefined ? {} : { NewGroupDelay: o.new_group_delay }),
    },
  };
}
