/**
 * The monitors, generated per queue and per job type from a {@link MonitoringTarget}.
 *
 * Per queue: DLQ not empty, dead letters close to expiry, oldest message too old, p95 queue latency,
 * worker errors, worker throttles, heap growth and open-fd growth (the leak monitors), worker metrics
 * absent. Per job type: dead ratio, retry ratio.
 *
 * The leak monitors are change monitors, not fixed ceilings and not forecasts: a leak is a ramp per
 * warm sandbox, visible as the largest sandbox's heap and open fds rising hour over hour while the
 * process is still far from its memory limit. A `change`/`pct_change` of the last 30 minutes
 * against an hour before sees that slope within about an hour, whatever the configured memory.
 * A fixed ceiling fires only near the out-of-memory kill (or never, if memory is raised); a `forecast`
 * needs a ceiling too and a long, regular history, and sandbox recycling (a ramp that drops to zero
 * at each cold start) is exactly the sawtooth a linear forecast fits badly.
 */
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import { METRIC, TAG } from '../../functions/runtime/metric-names.ts';
import type { MonitorDefinition, MonitorPriority, MonitorThresholdValues } from './types.ts';
import { ratioThresholds, type AboveThreshold, type ResolvedMonitoringOptions } from './options.ts';
import { awsQueries, percentile, processedCount, recordScope, runtime } from './queries.ts';
import { MonitorQuery, Ratio, type Evaluation, type Expression } from './query.ts';
import { RUNBOOK, fillPlaceholders, runbookAnchor, type MonitorKind } from './runbook.ts';
import type { MonitoredQueue, MonitoringTarget } from './target.ts';

/** A monitor with what it belongs to; `key` is unique and stable (it names the CloudFormation resource). */
export interface MonitorSpec {
  readonly key: string;
  readonly kind: MonitorKind;
  readonly queue: string;
  readonly jobType: string | undefined;
  /** The query as a model (its text is `definition.query`). */
  readonly query: MonitorQuery;
  readonly definition: MonitorDefinition;
}

/** Seconds AWS metrics crawled from CloudWatch arrive late; Datadog recommends at least this delay. */
export const CLOUDWATCH_EVALUATION_DELAY_SECONDS = 900;
/** Window of the ratio, latency, error and throttle monitors. */
export const RATIO_WINDOW = 'last_15m';

function thresholds(t: AboveThreshold): MonitorThresholdValues {
  return t.warning === undefined ? { critical: t.critical } : { critical: t.critical, warning: t.warning };
}

function over(timeAggregation: Evaluation['timeAggregation'], window: Evaluation['window']): Evaluation {
  return { form: 'threshold', timeAggregation, window };
}

interface Context {
  readonly target: MonitoringTarget;
  readonly options: ResolvedMonitoringOptions;
  readonly queue: MonitoredQueue;
}

function message(ctx: Context, kind: MonitorKind, jobType: string | undefined, extra?: string): string {
  const entry = RUNBOOK[kind];
  const fill = (text: string): string =>
    fillPlaceholders(text, {
      stage: ctx.target.env,
      queue: ctx.queue.queue,
      ...(jobType === undefined ? {} : { jobType }),
      functionName: ctx.queue.functionName,
      deadLetterQueue: ctx.queue.sqsDeadLetterQueueName,
    });
  const lines = [
    `{{#is_alert}}ALERT{{/is_alert}}{{#is_warning}}WARNING{{/is_warning}}{{#is_no_data}}NO DATA{{/is_no_data}}{{#is_recovery}}RECOVERED{{/is_recovery}}: ${entry.title} (value {{value}}, threshold {{threshold}})`,
    '',
    `**What it means:** ${fill(entry.meaning)}`,
  ];
  if (extra !== undefined) lines.push('', extra);
  lines.push('', '**What to do first:**');
  entry.firstChecks.forEach((check, i) => lines.push(`${i + 1}. ${fill(check)}`));
  lines.push('', `Runbook: ${ctx.options.runbookUrl}#${runbookAnchor(kind)}`);
  if (ctx.options.notify.length > 0) lines.push('', ctx.options.notify.join(' '));
  return lines.join('\n');
}

function tags(ctx: Context, kind: MonitorKind, jobType: string | undefined): string[] {
  const out = [
    `${TAG.service}:${ctx.target.service}`,
    `${TAG.env}:${ctx.target.env}`,
    `${TAG.queue}:${ctx.queue.queue}`,
    `monitor:${kind}`,
  ];
  if (jobType !== undefined) out.push(`${TAG.jobType}:${jobType}`);
  return [...out, ...ctx.options.monitorTags];
}

function name(ctx: Context, kind: MonitorKind, jobType: string | undefined): string {
  const subject = jobType === undefined ? ctx.queue.queue : `${ctx.queue.queue}/${jobType}`;
  return `[${ctx.target.service} ${ctx.target.env}] ${subject}: ${RUNBOOK[kind].title}`;
}

interface MonitorParts {
  readonly kind: MonitorKind;
  readonly jobType?: string;
  readonly evaluation: Evaluation;
  readonly expression: Expression;
  /** Default `>`: alert above the threshold. */
  readonly comparator?: '>' | '<';
  /** The alert threshold (`critical`) is the number in the query. */
  readonly thresholds: MonitorThresholdValues;
  readonly priority: MonitorPriority;
  readonly cloudwatch?: boolean;
  readonly noDataMinutes?: number;
  readonly extra?: string;
}

function monitor(ctx: Context, parts: MonitorParts): MonitorSpec {
  const { kind, jobType } = parts;
  const query = new MonitorQuery(parts.evaluation, parts.expression, parts.comparator ?? '>', parts.thresholds.critical);
  return {
    key: jobType === undefined ? `${ctx.queue.queue}-${kind}` : `${ctx.queue.queue}-${jobType}-${kind}`,
    kind,
    queue: ctx.queue.queue,
    jobType,
    query,
    definition: {
      name: name(ctx, kind, jobType),
      type: 'query alert',
      query: query.toString(),
      message: message(ctx, kind, jobType, parts.extra),
      tags: tags(ctx, kind, jobType),
      priority: parts.priority,
      options: {
        thresholds: parts.thresholds,
        notify_no_data: parts.noDataMinutes !== undefined,
        ...(parts.noDataMinutes === undefined ? {} : { no_data_timeframe: parts.noDataMinutes }),
        // Sparse data (jobs arrive when they arrive): evaluate whatever the window holds.
        require_full_window: false,
        ...(parts.cloudwatch === true ? { evaluation_delay: CLOUDWATCH_EVALUATION_DELAY_SECONDS } : {}),
        include_tags: true,
      },
    },
  };
}

/**
 * The oldest-message threshold of a queue: the configured one, but never below the queue's retry
 * window plus a minute (a message waiting for its last retry is legitimately that old).
 */
export function oldestMessageThreshold(configured: AboveThreshold, retryWindowSeconds: number): AboveThreshold {
  const floor = Math.ceil(retryWindowSeconds) + 60;
  const critical = Math.max(configured.critical, floor);
  const warning = configured.warning === undefined ? undefined : Math.max(configured.warning, floor);
  return warning === undefined || warning >= critical ? { critical } : { critical, warning };
}

/**
 * The oldest-message thresholds of one queue: the queue's own alarm setting when it has one (shared with
 * its CloudWatch alarm), else the option; never below the retry window (see {@link oldestMessageThreshold}).
 */
export function queueOldestMessageThreshold(queue: MonitoredQueue, options: ResolvedMonitoringOptions): AboveThreshold {
  const configured = options.thresholds.oldestMessageAgeSeconds;
  const own = queue.oldestMessageAgeAlarmSeconds;
  const base: AboveThreshold =
    own === undefined
      ? configured
      : configured.warning !== undefined && configured.warning < own
        ? { critical: own, warning: configured.warning }
        : { critical: own };
  return oldestMessageThreshold(base, queue.retryWindowSeconds);
}

/** SQS's longest retention, which the stack gives every dead-letter queue. */
const DEFAULT_DLQ_RETENTION_SECONDS = 14 * 86_400;

function dlqAgeThreshold(ctx: Context): AboveThreshold {
  const t = ctx.options.thresholds.dlqOldestMessageAgeSeconds;
  const retention = ctx.queue.deadLetterRetentionSeconds ?? DEFAULT_DLQ_RETENTION_SECONDS;
  if (t.critical >= retention) {
    throw new ConfigurationError(
      `monitoring: dlqOldestMessageAgeSeconds.critical (${t.critical}) must be below the retention of queue "${ctx.queue.queue}"'s DLQ (${retention} s), or dead letters expire before it alerts`,
    );
  }
  return t;
}

/** The queue's own symptoms (SQS metrics): dead letters, dead letters about to expire, a backlog that ages. */
function sqsMonitors(ctx: Context): MonitorSpec[] {
  const t = ctx.options.thresholds;
  const aws = awsQueries(ctx.queue);
  const age = queueOldestMessageThreshold(ctx.queue, ctx.options);
  return [
    monitor(ctx, {
      kind: 'dlq-not-empty',
      evaluation: over('max', 'last_5m'),
      expression: aws.dlqVisible,
      thresholds: thresholds(t.dlqMessages),
      priority: 2,
      cloudwatch: true,
    }),
    monitor(ctx, {
      kind: 'dlq-message-expiring',
      evaluation: over('max', 'last_15m'),
      expression: aws.dlqOldestAge,
      thresholds: thresholds(dlqAgeThreshold(ctx)),
      priority: 2,
      cloudwatch: true,
    }),
    monitor(ctx, {
      kind: 'oldest-message-age',
      evaluation: over('max', 'last_15m'),
      expression: aws.sourceOldestAge,
      thresholds: thresholds(age),
      priority: 2,
      cloudwatch: true,
      extra: `Alert threshold: ${age.critical} s (the queue's oldestMessageAgeAlarmSeconds, as its CloudWatch alarm, and at least the ${Math.ceil(ctx.queue.retryWindowSeconds)} s retry window of its job types plus 60 s).`,
    }),
  ];
}

/** The worker's symptoms as Lambda and the jobs see them: queue latency, invocation errors, throttles. */
function workerMonitors(ctx: Context): MonitorSpec[] {
  const t = ctx.options.thresholds;
  const aws = awsQueries(ctx.queue);
  return [
    monitor(ctx, {
      kind: 'queue-latency',
      evaluation: over('avg', RATIO_WINDOW),
      expression: percentile(METRIC.queueLatency, 95, recordScope(ctx.target, ctx.queue)),
      thresholds: thresholds(t.queueLatencyP95Ms),
      priority: 3,
    }),
    monitor(ctx, {
      kind: 'lambda-errors',
      evaluation: over('sum', RATIO_WINDOW),
      expression: aws.errors,
      thresholds: thresholds(t.lambdaErrors),
      priority: 2,
      cloudwatch: true,
    }),
    monitor(ctx, {
      kind: 'lambda-throttles',
      evaluation: over('sum', RATIO_WINDOW),
      expression: aws.throttles,
      thresholds: thresholds(t.lambdaThrottles),
      priority: 3,
      cloudwatch: true,
    }),
  ];
}

/** The worker's runtime figures: heap and open descriptors that grow (a leak), and a worker that went silent. */
function runtimeMonitors(ctx: Context): MonitorSpec[] {
  const t = ctx.options.thresholds;
  const monitors: MonitorSpec[] = [
    monitor(ctx, {
      kind: 'heap-growth',
      evaluation: { form: 'pct_change', timeAggregation: 'avg', window: 'last_30m', shift: 'last_1h' },
      expression: runtime('max', METRIC.heapUsed, ctx.target, ctx.queue),
      thresholds: thresholds(t.heapGrowthPercent),
      priority: 2,
    }),
    monitor(ctx, {
      kind: 'open-fds-growth',
      evaluation: { form: 'change', timeAggregation: 'avg', window: 'last_30m', shift: 'last_1h' },
      expression: runtime('max', METRIC.openFds, ctx.target, ctx.queue),
      thresholds: thresholds(t.openFdsGrowth),
      priority: 2,
    }),
  ];
  const silence = ctx.options.workerSilenceMinutes;
  if (silence !== false) {
    monitors.push(
      monitor(ctx, {
        kind: 'worker-silent',
        // The value never crosses the threshold (memory is never negative): only no-data notifies.
        evaluation: over('max', RATIO_WINDOW),
        expression: runtime('max', METRIC.heapUsed, ctx.target, ctx.queue),
        comparator: '<',
        thresholds: { critical: 0 },
        priority: 3,
        noDataMinutes: silence,
        extra: `Notifies after ${silence} minutes without data.`,
      }),
    );
  }
  return monitors;
}

function jobTypeMonitors(ctx: Context, jobType: string): MonitorSpec[] {
  const { deadRatio, retryRatio } = ratioThresholds(ctx.options, jobType);
  const all = processedCount(recordScope(ctx.target, ctx.queue, jobType));
  const ratio = (outcome: 'dead' | 'retry'): Ratio => new Ratio(processedCount(recordScope(ctx.target, ctx.queue, jobType, outcome)), all);
  const evaluation = over('sum', RATIO_WINDOW);
  return [
    monitor(ctx, { kind: 'dead-ratio', jobType, evaluation, expression: ratio('dead'), thresholds: thresholds(deadRatio), priority: 2 }),
    monitor(ctx, { kind: 'retry-ratio', jobType, evaluation, expression: ratio('retry'), thresholds: thresholds(retryRatio), priority: 3 }),
  ];
}

/** Every monitor of the target: per queue, then per job type of the queue. */
export function buildMonitors(target: MonitoringTarget, options: ResolvedMonitoringOptions): MonitorSpec[] {
  return target.queues.flatMap((queue) => {
    const ctx: Context = { target, options, queue };
    return [
      ...sqsMonitors(ctx),
      ...workerMonitors(ctx),
      ...runtimeMonitors(ctx),
      ...queue.jobTypes.flatMap((jobType) => jobTypeMonitors(ctx, jobType)),
    ];
  });
}
