import { describe, expect, it } from 'vitest';
import { catalog, queueNames } from '../../functions/jobs/catalog.ts';
import { METRIC } from '../../functions/runtime/metric-names.ts';
import { resolveQueueSettings } from '../../infra/queue-settings.ts';
import { DEFAULT_THRESHOLDS } from '../../infra/monitoring/options.ts';
import { buildMonitoring } from '../../infra/monitoring/definitions.ts';
import { CLOUDWATCH_EVALUATION_DELAY_SECONDS, oldestMessageThreshold, type MonitorSpec } from '../../infra/monitoring/monitors.ts';
import {
  MONITOR_KINDS,
  RUNBOOK,
  SCHEDULER_MONITOR_KINDS,
  renderRunbookMarkdown,
  runbookAnchor,
  type MonitorKind,
} from '../../infra/monitoring/runbook.ts';
import { retryWindowSeconds, targetFromCatalog, type MonitoringTarget } from '../../infra/monitoring/target.ts';
import type { GroupWidgetDefinition } from '../../infra/monitoring/types.ts';

const definitions = buildMonitoring(targetFromCatalog());
const jobs = Object.values(catalog);
const groups = definitions.dashboard.widgets.map((w) => w.definition).filter((d): d is GroupWidgetDefinition => d.type === 'group');
const PER_STAGE: readonly MonitorKind[] = SCHEDULER_MONITOR_KINDS;
const PER_QUEUE: readonly MonitorKind[] = MONITOR_KINDS.filter((k) => k !== 'dead-ratio' && k !== 'retry-ratio' && !PER_STAGE.includes(k));

function monitorsOf(kind: MonitorKind): MonitorSpec[] {
  return definitions.monitors.filter((m) => m.kind === kind);
}

describe('coverage of the catalog', () => {
  it('gives every queue a "Queue" group and a "Sandbox health" group on the dashboard', () => {
    for (const queue of queueNames) {
      expect(groups.some((g) => g.title.startsWith(`Queue ${queue}:`))).toBe(true);
      expect(groups.some((g) => g.title === `Sandbox health: serverless-jobs-dev-${queue}-worker`)).toBe(true);
    }
  });

  it('gives every job type a group with throughput, failure ratio, percentiles and dead reasons', () => {
    for (const job of jobs) {
      const group = groups.find((g) => g.title === `Job ${job.type} (queue ${job.queue})`);
      expect(group?.widgets.map((w) => ('title' in w.definition ? w.definition.title : ''))).toEqual([
        'Throughput by outcome',
        'Failure ratio: dead and retried / processed',
        'Job duration p50 / p95 / p99 (ms)',
        'Queue latency p50 / p95 / p99 (ms)',
        'Dead letters by reason',
      ]);
    }
  });

  it('gives every queue each per-queue monitor exactly once', () => {
    for (const queue of queueNames) {
      for (const kind of PER_QUEUE) expect(definitions.monitors.filter((m) => m.queue === queue && m.kind === kind)).toHaveLength(1);
    }
  });

  it('gives every job type a dead-ratio and a retry-ratio monitor scoped to its queue and job type', () => {
    for (const job of jobs) {
      for (const kind of ['dead-ratio', 'retry-ratio'] as const) {
        const monitor = definitions.monitors.find((m) => m.kind === kind && m.jobType === job.type);
        expect(monitor?.queue).toBe(job.queue);
        expect(monitor?.definition.query).toContain(`job_type:${job.type}`);
        expect(monitor?.definition.query).toContain(`queue:${job.queue}`);
      }
    }
  });

  it('shows a queue and a job type added to the catalog without editing the definitions', () => {
    const base = targetFromCatalog();
    const grown: MonitoringTarget = {
      ...base,
      queues: [
        ...base.queues,
        {
          queue: 'reports',
          jobTypes: ['render-report', 'mail-report'],
          sqsQueueName: 'serverless-jobs-dev-reports',
          sqsDeadLetterQueueName: 'serverless-jobs-dev-reports-dlq',
          functionName: 'serverless-jobs-dev-reports-worker',
          retryWindowSeconds: 0,
        },
      ],
    };
    const more = buildMonitoring(grown);
    expect(more.monitors.length).toBe(definitions.monitors.length + PER_QUEUE.length + 2 * 2);
    const titles = more.dashboard.widgets.map((w) => ('title' in w.definition ? w.definition.title : ''));
    expect(titles).toContain('Job render-report (queue reports)');
    expect(titles).toContain('Job mail-report (queue reports)');
    expect(titles).toContain('Sandbox health: serverless-jobs-dev-reports-worker');
  });
});

describe('the monitors', () => {
  it('have unique keys and names', () => {
    expect(new Set(definitions.monitors.map((m) => m.key)).size).toBe(definitions.monitors.length);
    expect(new Set(definitions.monitors.map((m) => m.definition.name)).size).toBe(definitions.monitors.length);
  });

  it('put the alert threshold of the options into the query (Datadog rejects a mismatch)', () => {
    for (const m of definitions.monitors) {
      expect(m.query.threshold).toBe(m.definition.options.thresholds.critical);
      expect(m.definition.query.endsWith(` ${m.query.comparator} ${m.definition.options.thresholds.critical}`)).toBe(true);
    }
  });

  it('say what it means, what to do first, and link the runbook anchor in every message', () => {
    for (const m of definitions.monitors) {
      expect(m.definition.message).toContain(`**What it means:** `);
      expect(m.definition.message).toMatch(/\*\*What to do first:\*\*\n1\. .+\n2\. .+\n3\. .+/);
      expect(m.definition.message).toContain(`README.md#${runbookAnchor(m.kind)}`);
    }
  });

  it('name the exact DLQ commands for the queue in the DLQ message', () => {
    for (const m of monitorsOf('dlq-not-empty')) {
      expect(m.definition.message).toContain(`\`npm run jobs -- dlq list ${m.queue} --stage dev\``);
      expect(m.definition.message).toContain(`\`npm run jobs -- dlq redrive ${m.queue} --stage dev\``);
      expect(m.definition.message).not.toMatch(/<queue>|<function>|<dlq>|<stage>/);
    }
  });

  it('watch leaks as growth (change monitors on heap and open fds of the largest sandbox), not as a fixed ceiling', () => {
    const heap = monitorsOf('heap-growth')[0]!.query;
    const fds = monitorsOf('open-fds-growth')[0]!.query;
    expect(heap.evaluation).toMatchObject({ form: 'pct_change', window: 'last_30m', shift: 'last_1h' });
    expect(heap.comparator).toBe('>');
    expect(heap.metrics[0]).toMatchObject({ aggregator: 'max', metric: METRIC.heapUsed });
    expect(fds.evaluation).toMatchObject({ form: 'change', window: 'last_30m', shift: 'last_1h' });
    expect(fds.comparator).toBe('>');
    expect(fds.metrics[0]).toMatchObject({ aggregator: 'max', metric: METRIC.openFds });
    expect(heap.toString()).toMatch(/^pct_change\(avg\(last_30m\),last_1h\):max:jobs\.runtime\.heap_used\{/);
  });

  it("notify when the worker's runtime metrics stop arriving (no data on jobs.runtime.heap_used)", () => {
    for (const m of monitorsOf('worker-silent')) {
      expect(m.query.metrics[0]?.metric).toBe(METRIC.heapUsed);
      expect(m.definition.options).toMatchObject({ notify_no_data: true, no_data_timeframe: 60 });
    }
    expect(monitorsOf('dlq-not-empty').every((m) => !m.definition.options.notify_no_data)).toBe(true);
  });

  it('can leave the silence monitor out for queues that are idle for long', () => {
    const quiet = buildMonitoring(targetFromCatalog(), { workerSilenceMinutes: false });
    expect(quiet.monitors.some((m) => m.kind === 'worker-silent')).toBe(false);
    expect(
      buildMonitoring(targetFromCatalog(), { workerSilenceMinutes: 180 }).monitors.find((m) => m.kind === 'worker-silent')?.definition
        .options.no_data_timeframe,
    ).toBe(180);
  });

  it('delay the evaluation of metrics crawled from CloudWatch, and only those', () => {
    for (const m of definitions.monitors) {
      const crawled = /aws\.(sqs|lambda|scheduler)\.(?!enhanced)/.test(m.definition.query);
      expect(m.definition.options.evaluation_delay).toBe(crawled ? CLOUDWATCH_EVALUATION_DELAY_SECONDS : undefined);
    }
  });

  it('never alert on the age of a message that is only waiting for its retries', () => {
    expect(oldestMessageThreshold({ critical: 1_800, warning: 600 }, 3_000)).toEqual({ critical: 3_060 });
    expect(oldestMessageThreshold({ critical: 1_800, warning: 600 }, 700)).toEqual({ critical: 1_800, warning: 760 });
    expect(oldestMessageThreshold({ critical: 1_800, warning: 600 }, 0)).toEqual({ critical: 1_800, warning: 600 });
    const sendEmail = jobs.find((j) => j.type === 'send-email')!;
    expect(retryWindowSeconds(sendEmail)).toBe(30 + 60 + 120 + 240);
  });

  it("alert on the oldest message at the queue's own oldestMessageAgeAlarmSeconds (queue-settings.ts)", () => {
    for (const queue of queueNames) {
      const own = resolveQueueSettings(
        queue,
        jobs.filter((j) => j.queue === queue),
      ).oldestMessageAgeAlarmSeconds;
      const monitor = monitorsOf('oldest-message-age').find((m) => m.queue === queue)!;
      expect(monitor.query.threshold).toBe(own);
      expect(monitor.definition.options.thresholds).toEqual({ critical: own, warning: DEFAULT_THRESHOLDS.oldestMessageAgeSeconds.warning });
    }
  });

  it("refuse a dead-letter age threshold the DLQ's retention would never reach", () => {
    const base = targetFromCatalog();
    const short: MonitoringTarget = { ...base, queues: [{ ...base.queues[0]!, deadLetterRetentionSeconds: 5 * 86_400 }] };
    expect(() => buildMonitoring(short)).toThrow(
      /dlqOldestMessageAgeSeconds\.critical \(864000\) must be below the retention of queue "default"'s DLQ \(432000 s\)/,
    );
  });

  it('carry service, env, queue and kind tags', () => {
    for (const m of definitions.monitors.filter((spec) => !PER_STAGE.includes(spec.kind))) {
      expect(m.definition.tags).toEqual(
        expect.arrayContaining(['service:serverless-jobs', 'env:dev', `queue:${m.queue}`, `monitor:${m.kind}`]),
      );
    }
  });
});

describe('the runbook', () => {
  it('has an entry with three first checks for every monitor kind', () => {
    for (const kind of MONITOR_KINDS) expect(RUNBOOK[kind].firstChecks).toHaveLength(3);
  });

  it('renders a README section with an anchor per monitor and the jobs CLI commands', () => {
    const markdown = renderRunbookMarkdown();
    expect(markdown.startsWith('## Runbook\n')).toBe(true);
    for (const kind of MONITOR_KINDS) expect(markdown).toContain(`<a id="${runbookAnchor(kind)}"></a>\n\n### ${RUNBOOK[kind].title}`);
    expect(markdown).toContain('`npm run jobs -- dlq list <queue> --stage <stage>`');
    expect(markdown).toContain('`npm run jobs -- dlq redrive <queue> --stage <stage>`');
  });

  it('describes the leak pattern and what to do, not the project history', () => {
    const notes = JSON.stringify(definitions.dashboard);
    for (const text of [renderRunbookMarkdown(), notes, ...definitions.monitors.map((m) => m.definition.message)]) {
      expect(text).not.toMatch(/\bseed\b/i);
    }
    expect(RUNBOOK['heap-growth'].meaning).toContain('ramps a little with every invocation');
    expect(notes).toContain('instead of once at module scope');
  });

  it('covers every monitor that is built', () => {
    for (const m of definitions.monitors) expect(MONITOR_KINDS).toContain(m.kind);
    expect(new Set(definitions.monitors.map((m) => m.kind))).toEqual(new Set(MONITOR_KINDS));
  });
});

describe("EventBridge Scheduler's own failures", () => {
  it('are watched once per stage, on the schedule group the stack names, with the CloudWatch delay', () => {
    for (const kind of PER_STAGE) {
      const [monitor, ...others] = monitorsOf(kind);
      expect(others).toHaveLength(0);
      expect(monitor?.definition.query).toContain('{schedulegroup:serverless-jobs-dev}');
      expect(monitor?.definition.options.evaluation_delay).toBe(CLOUDWATCH_EVALUATION_DELAY_SECONDS);
      expect(monitor?.definition.tags).toEqual(expect.arrayContaining(['env:dev', 'schedulegroup:serverless-jobs-dev', `monitor:${kind}`]));
    }
  });

  it('alert on the first failed and the first dropped delivery', () => {
    expect(monitorsOf('scheduler-target-errors')[0]?.definition.query).toBe(
      'sum(last_15m):sum:aws.scheduler.target_error_count{schedulegroup:serverless-jobs-dev}.as_count() > 0',
    );
    expect(monitorsOf('scheduler-dropped')[0]?.definition.query).toBe(
      'sum(last_15m):sum:aws.scheduler.invocation_dropped_count{schedulegroup:serverless-jobs-dev}.as_count() > 0',
    );
  });

  it('name the schedule group and the scheduler DLQ in the notification', () => {
    const text = monitorsOf('scheduler-target-errors')[0]?.definition.message ?? '';
    expect(text).toContain('`serverless-jobs-dev`');
    expect(text).toContain('serverless-jobs-dev-scheduler-dlq');
    expect(text).toContain('#runbook-scheduler-target-errors');
  });

  it('have a dashboard group with failed and dropped deliveries', () => {
    const scheduler = groups.find((g) => g.title.startsWith('Scheduler: schedule group serverless-jobs-dev'));
    expect(scheduler?.widgets.map((w) => ('title' in w.definition ? w.definition.title : ''))).toEqual([
      'Dropped scheduled jobs (count)',
      'Scheduler deliveries failed and dropped (count)',
    ]);
  });

  it('are left out for a target without a schedule group', () => {
    const { scheduleGroupName: _omitted, ...base } = targetFromCatalog();
    const kinds = buildMonitoring(base).monitors.map((m) => m.kind);
    for (const kind of PER_STAGE) expect(kinds).not.toContain(kind);
  });
});
