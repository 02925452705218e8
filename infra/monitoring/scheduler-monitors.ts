/**
 * The monitors of EventBridge Scheduler's own failures, one set per stage's schedule group (not per queue):
 * target errors (a delivery to a job queue failed, the Scheduler retries) and dropped invocations (it gave up
 * with no dead-letter queue to keep them: the scheduled jobs are lost). Both read the AWS integration's
 * `aws.scheduler.*` metrics, crawled from CloudWatch, so they wait the CloudWatch evaluation delay.
 */
import { TAG } from '../../functions/runtime/metric-names.ts';
import { INTEGRATION_METRICS, INTEGRATION_TAG, type IntegrationMetric } from './integration-metrics.ts';
import { CLOUDWATCH_EVALUATION_DELAY_SECONDS, RATIO_WINDOW, type MonitorSpec } from './monitors.ts';
import type { ResolvedMonitoringOptions } from './options.ts';
import { MetricQuery, MonitorQuery } from './query.ts';
import { RUNBOOK, fillPlaceholders, runbookAnchor } from './runbook.ts';
import type { MonitoringTarget } from './target.ts';

/** A Scheduler monitor kind. */
type SchedulerKind = 'scheduler-target-errors' | 'scheduler-dropped';

const HEADER =
  '{{#is_alert}}ALERT{{/is_alert}}{{#is_warning}}WARNING{{/is_warning}}{{#is_no_data}}NO DATA{{/is_no_data}}{{#is_recovery}}RECOVERED{{/is_recovery}}';

function message(target: MonitoringTarget, group: string, kind: SchedulerKind, options: ResolvedMonitoringOptions): string {
  const entry = RUNBOOK[kind];
  const fill = (text: string): string =>
    fillPlaceholders(text, {
      stage: target.env,
      queue: '<queue>',
      functionName: '<function>',
      deadLetterQueue: '<dlq>',
      scheduleGroup: group,
    });
  const lines = [`${HEADER}: ${entry.title} (value {{value}}, threshold {{threshold}})`, '', `**What it means:** ${fill(entry.meaning)}`];
  lines.push('', '**What to do first:**');
  entry.firstChecks.forEach((check, i) => lines.push(`${i + 1}. ${fill(check)}`));
  lines.push('', `Runbook: ${options.runbookUrl}#${runbookAnchor(kind)}`);
  if (options.notify.length > 0) lines.push('', options.notify.join(' '));
  return lines.join('\n');
}

function schedulerMonitor(
  target: MonitoringTarget,
  group: string,
  options: ResolvedMonitoringOptions,
  kind: SchedulerKind,
  metric: IntegrationMetric,
): MonitorSpec {
  // Any failed or dropped delivery in the window alerts: a schedule that fires is expected to deliver every time.
  const query = new MonitorQuery(
    { form: 'threshold', timeAggregation: 'sum', window: RATIO_WINDOW },
    MetricQuery.integration('sum', metric, group, true),
    '>',
    0,
  );
  return {
    key: `scheduler-${kind}`,
    kind,
    queue: group,
    jobType: undefined,
    query,
    definition: {
      name: `[${target.service} ${target.env}] schedule group ${group}: ${RUNBOOK[kind].title}`,
      type: 'query alert',
      query: query.toString(),
      message: message(target, group, kind, options),
      tags: [
        `${TAG.service}:${target.service}`,
        `${TAG.env}:${target.env}`,
        `${INTEGRATION_TAG.scheduleGroup}:${group}`,
        `monitor:${kind}`,
        ...options.monitorTags,
      ],
      priority: kind === 'scheduler-dropped' ? 1 : 2,
      options: {
        thresholds: { critical: 0 },
        notify_no_data: false,
        require_full_window: false,
        evaluation_delay: CLOUDWATCH_EVALUATION_DELAY_SECONDS,
        include_tags: true,
      },
    },
  };
}

/**
 * The Scheduler monitors of a target: none without a schedule group. Their `queue` is the schedule group
 * (they belong to no job queue).
 */
export function buildSchedulerMonitors(target: MonitoringTarget, options: ResolvedMonitoringOptions): MonitorSpec[] {
  const group = target.scheduleGroupName;
  if (group === undefined) return [];
  return [
    schedulerMonitor(target, group, options, 'scheduler-target-errors', INTEGRATION_METRICS.schedulerTargetErrors),
    schedulerMonitor(target, group, options, 'scheduler-dropped', INTEGRATION_METRICS.schedulerDropped),
  ];
}
