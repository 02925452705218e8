/**
 * The dashboard group of EventBridge Scheduler for the stage's schedule group: failed deliveries to the job
 * queues (target errors) and dropped deliveries, from the AWS integration (`aws.scheduler.*`, crawled from CloudWatch).
 */
import { INTEGRATION_METRICS } from './integration-metrics.ts';
import { MetricQuery } from './query.ts';
import { runbookAnchor } from './runbook.ts';
import type { GroupWidgetDefinition, Widget } from './types.ts';
import { group, queryValue, timeseries, type SeriesOf } from './widgets.ts';

/** The "Scheduler" group of schedule group `scheduleGroup`. */
export function schedulerGroup(q: SeriesOf, scheduleGroup: string, runbookUrl: string): Widget<GroupWidgetDefinition> {
  const errors = MetricQuery.integration('sum', INTEGRATION_METRICS.schedulerTargetErrors, scheduleGroup, true);
  const dropped = MetricQuery.integration('sum', INTEGRATION_METRICS.schedulerDropped, scheduleGroup, true);
  return group(
    `Scheduler: schedule group ${scheduleGroup} (runbook ${runbookUrl}#${runbookAnchor('scheduler-target-errors')})`,
    [
      queryValue('Dropped scheduled jobs (count)', [q('dropped', dropped)], 'sum', { formula: 'dropped' }, 0),
      timeseries(
        'Scheduler deliveries failed and dropped (count)',
        [q('errors', errors), q('dropped', dropped)],
        [
          { formula: 'errors', alias: 'target errors (retried)' },
          { formula: 'dropped', alias: 'dropped (lost)' },
        ],
        'bars',
      ),
    ],
    'vivid_orange',
  );
}
