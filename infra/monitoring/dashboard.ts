/**
 * The dashboard, generated from a {@link MonitoringTarget}: an introduction, then for each queue
 * a group "Queue <q>: SQS and worker" and a group "Sandbox health: <function>", and for each job type
 * a group "Job <type>" (throughput by outcome, failure ratio, duration and queue latency percentiles,
 * dead letters by reason), then a "Scheduler" group for the stage's schedule group.
 */
import { METRIC, OUTCOMES, TAG } from '../../functions/runtime/metric-names.ts';
import type { DashboardDefinition, GroupWidgetDefinition, NoteWidgetDefinition, Widget } from './types.ts';
import { ratioThresholds, type ResolvedMonitoringOptions } from './options.ts';
import { queueOldestMessageThreshold } from './monitors.ts';
import { awsQueries, percentile, processedCount, recordScope, runtime } from './queries.ts';
import type { MetricQuery } from './query.ts';
import { runbookAnchor } from './runbook.ts';
import { schedulerGroup } from './scheduler-dashboard.ts';
import type { MonitoredQueue, MonitoringTarget } from './target.ts';
import { group, note, queryValue, thresholdMarkers, timeseries, toplist, type SeriesOf } from './widgets.ts';

const MIB = 1_048_576;

/** The dashboard body and every metric query on it, as models. */
export interface BuiltDashboard {
  readonly dashboard: DashboardDefinition;
  readonly queries: readonly MetricQuery[];
}

function queueGroup(
  q: SeriesOf,
  target: MonitoringTarget,
  queue: MonitoredQueue,
  options: ResolvedMonitoringOptions,
): Widget<GroupWidgetDefinition> {
  const aws = awsQueries(queue);
  const t = options.thresholds;
  const age = queueOldestMessageThreshold(queue, options);
  const all = recordScope(target, queue);
  return group(
    `Queue ${queue.queue}: SQS and worker (${queue.jobTypes.join(', ')})`,
    [
      queryValue('DLQ depth (messages)', [q('dlq', aws.dlqVisible)], 'last', { formula: 'dlq' }, t.dlqMessages.critical),
      queryValue('Oldest message age (s)', [q('age', aws.sourceOldestAge)], 'last', { formula: 'age' }, age.critical),
      timeseries(
        'Throughput by outcome, all job types',
        [q('processed', processedCount(all, [TAG.outcome]))],
        [{ formula: 'processed' }],
        'bars',
      ),
      timeseries(
        'Queue depth: source and DLQ (messages)',
        [q('source', aws.sourceVisible), q('dlq', aws.dlqVisible)],
        [
          { formula: 'source', alias: `${queue.sqsQueueName} visible` },
          { formula: 'dlq', alias: `${queue.sqsDeadLetterQueueName} visible` },
        ],
      ),
      timeseries(
        'Age of oldest message: source and DLQ (s)',
        [q('source', aws.sourceOldestAge), q('dlq', aws.dlqOldestAge)],
        [
          { formula: 'source', alias: 'source queue' },
          { formula: 'dlq', alias: 'dead-letter queue' },
        ],
        'line',
        thresholdMarkers('oldest message', age),
      ),
      timeseries(
        `Lambda ${queue.functionName}: invocations, errors, throttles`,
        [q('invocations', aws.invocations), q('errors', aws.errors), q('throttles', aws.throttles)],
        [
          { formula: 'invocations', alias: 'invocations' },
          { formula: 'errors', alias: 'errors' },
          { formula: 'throttles', alias: 'throttles' },
        ],
        'bars',
      ),
      timeseries(
        `Lambda ${queue.functionName}: duration (ms)`,
        [q('avg', aws.durationAvg), q('p99', aws.durationP99), q('max', aws.durationMax)],
        [
          { formula: 'avg', alias: 'average' },
          { formula: 'p99', alias: 'p99' },
          { formula: 'max', alias: 'maximum' },
        ],
      ),
      timeseries(
        `Lambda ${queue.functionName}: concurrent executions`,
        [q('avg', aws.concurrencyAvg), q('max', aws.concurrencyMax)],
        [
          { formula: 'avg', alias: 'average' },
          { formula: 'max', alias: 'maximum' },
        ],
      ),
    ],
    'vivid_blue',
  );
}

function sandboxGroup(
  q: SeriesOf,
  target: MonitoringTarget,
  queue: MonitoredQueue,
  options: ResolvedMonitoringOptions,
): Widget<GroupWidgetDefinition> {
  const aws = awsQueries(queue);
  return group(
    `Sandbox health: ${queue.functionName}`,
    [
      note(
        [
          'One point per invocation, from each warm sandbox. **Healthy:** flat lines, a step at cold start.',
          '**Leak:** heap, rss or open fds climbing invocation after invocation, dropping at each cold start, until the sandbox is',
          `recycled or killed ("signal: killed", see out-of-memory kills). **Do:** look for a client or socket created per job`,
          `instead of once at module scope; redeploy to recycle sandboxes. Runbook: [heap](${options.runbookUrl}#${runbookAnchor('heap-growth')}),`,
          `[open fds](${options.runbookUrl}#${runbookAnchor('open-fds-growth')}).`,
        ].join(' '),
      ),
      timeseries(
        'Memory: heap and rss against max used and configured (MiB)',
        [
          q('heap', runtime('max', METRIC.heapUsed, target, queue)),
          q('rss', runtime('max', METRIC.rss, target, queue)),
          q('used', aws.maxMemoryUsed),
          q('size', aws.memorySize),
        ],
        [
          { formula: `heap / ${MIB}`, alias: 'heap used (largest sandbox)' },
          { formula: `rss / ${MIB}`, alias: 'rss (largest sandbox)' },
          { formula: 'used', alias: 'max memory used (Lambda)' },
          { formula: 'size', alias: 'configured memory' },
        ],
      ),
      timeseries(
        'Heap used (MiB): largest and average sandbox',
        [q('max', runtime('max', METRIC.heapUsed, target, queue)), q('avg', runtime('avg', METRIC.heapUsed, target, queue))],
        [
          { formula: `max / ${MIB}`, alias: 'largest' },
          { formula: `avg / ${MIB}`, alias: 'average' },
        ],
      ),
      timeseries(
        'Open file descriptors: largest and average sandbox',
        [q('max', runtime('max', METRIC.openFds, target, queue)), q('avg', runtime('avg', METRIC.openFds, target, queue))],
        [
          { formula: 'max', alias: 'largest' },
          { formula: 'avg', alias: 'average' },
        ],
      ),
      queryValue(
        'Peak memory used, % of configured',
        [q('used', aws.maxMemoryUsed), q('size', aws.memorySize)],
        'max',
        { formula: '100 * used / size', alias: '% of configured memory' },
        80,
      ),
      timeseries('Out-of-memory kills', [q('oom', aws.outOfMemory)], [{ formula: 'oom', alias: 'out of memory' }], 'bars'),
    ],
    'vivid_orange',
  );
}

function jobTypeGroup(
  q: SeriesOf,
  target: MonitoringTarget,
  queue: MonitoredQueue,
  jobType: string,
  options: ResolvedMonitoringOptions,
): Widget<GroupWidgetDefinition> {
  const scopeAll = recordScope(target, queue, jobType);
  const { deadRatio, retryRatio } = ratioThresholds(options, jobType);
  const latency = options.thresholds.queueLatencyP95Ms;
  return group(
    `Job ${jobType} (queue ${queue.queue})`,
    [
      timeseries('Throughput by outcome', [q('processed', processedCount(scopeAll, [TAG.outcome]))], [{ formula: 'processed' }], 'bars'),
      timeseries(
        'Failure ratio: dead and retried / processed',
        [
          q('all', processedCount(scopeAll)),
          ...OUTCOMES.filter((o) => o === 'dead' || o === 'retry').map((o) => q(o, processedCount(recordScope(target, queue, jobType, o)))),
        ],
        [
          { formula: 'dead / all', alias: 'dead ratio' },
          { formula: 'retry / all', alias: 'retry ratio' },
          { formula: '(dead + retry) / all', alias: 'failure ratio' },
        ],
        'line',
        [...thresholdMarkers('dead ratio', deadRatio), ...thresholdMarkers('retry ratio', retryRatio)],
      ),
      timeseries(
        'Job duration p50 / p95 / p99 (ms)',
        [
          q('p50', percentile(METRIC.duration, 50, scopeAll)),
          q('p95', percentile(METRIC.duration, 95, scopeAll)),
          q('p99', percentile(METRIC.duration, 99, scopeAll)),
        ],
        [
          { formula: 'p50', alias: 'p50' },
          { formula: 'p95', alias: 'p95' },
          { formula: 'p99', alias: 'p99' },
        ],
      ),
      timeseries(
        'Queue latency p50 / p95 / p99 (ms)',
        [
          q('p50', percentile(METRIC.queueLatency, 50, scopeAll)),
          q('p95', percentile(METRIC.queueLatency, 95, scopeAll)),
          q('p99', percentile(METRIC.queueLatency, 99, scopeAll)),
        ],
        [
          { formula: 'p50', alias: 'p50' },
          { formula: 'p95', alias: 'p95' },
          { formula: 'p99', alias: 'p99' },
        ],
        'line',
        thresholdMarkers('queue p95', latency),
      ),
      toplist('Dead letters by reason', q('dead', processedCount(recordScope(target, queue, jobType, 'dead'), [TAG.reason])), {
        formula: 'dead',
        limit: { count: 10, order: 'desc' },
      }),
    ],
    'vivid_green',
  );
}

/** The dashboard of the target, with its queries. */
export function buildDashboard(target: MonitoringTarget, options: ResolvedMonitoringOptions): BuiltDashboard {
  const queries: MetricQuery[] = [];
  const q: SeriesOf = (name, query) => {
    queries.push(query);
    return { name, query };
  };
  const widgets: Widget<GroupWidgetDefinition | NoteWidgetDefinition>[] = [
    note(
      [
        `**${target.service}** (${target.env}): typed background jobs on SQS and Lambda.`,
        `Queues: ${target.queues.map((mq) => `\`${mq.queue}\` (${mq.jobTypes.join(', ')})`).join('; ')}.`,
        'Generated by `infra/monitoring` from the job catalog; edit the code, not this dashboard.',
        `Runbook: ${options.runbookUrl}#runbook. Percentile widgets need percentiles enabled on \`${METRIC.duration}\` and \`${METRIC.queueLatency}\` (Metrics Summary).`,
      ].join(' '),
    ),
  ];
  for (const queue of target.queues) {
    widgets.push(queueGroup(q, target, queue, options), sandboxGroup(q, target, queue, options));
    for (const jobType of queue.jobTypes) widgets.push(jobTypeGroup(q, target, queue, jobType, options));
  }
  if (target.scheduleGroupName !== undefined) widgets.push(schedulerGroup(q, target.scheduleGroupName, options.runbookUrl));
  const dashboard: DashboardDefinition = {
    title: options.dashboardTitle ?? `${target.service} (${target.env})`,
    description: `Queues, workers and jobs of ${target.service} in ${target.env}. Managed by CloudFormation (infra/monitoring); changes made here are overwritten.`,
    layout_type: 'ordered',
    reflow_type: 'auto',
    widgets,
    notify_list: [],
  };
  return { dashboard, queries };
}
