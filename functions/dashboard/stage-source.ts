/**
 * The dashboard's data source for a deployed stage (`jobs ui --stage <stage>`): queues and dead letters
 * through the CLI's functions on SQS (as `jobs queues` and `jobs dlq` read them), the charts and the
 * workers from CloudWatch (one GetMetricData call a minute, cloudwatch-metrics.ts). With `--endpoint`
 * (a local SQS) there is no CloudWatch: the workers view says so.
 *
 * AWS calls while a page is open: every `refreshMs` (5 s) one GetQueueAttributes per queue and per DLQ;
 * a DLQ is peeked (ReceiveMessage + ChangeMessageVisibilityBatch) only when its count changed or its list
 * is a minute old, never when it is empty; CloudWatch once a minute; the Scheduler (one-time jobs) once a
 * minute: ListSchedules per one-time prefix and GetSchedule per pending job. Nothing is called while no page is open.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { workerFunctionName } from '../client/queue-names.ts';
import type { Target } from '../cli/target.ts';
import { readStageMetrics, type MetricTargets, type StageMetrics } from './cloudwatch-metrics.ts';
import { DeadLetterStore } from './dead-letters.ts';
import type { LambdaWorkerView, QueueRowView, Snapshot, TimeSeriesView } from './model.ts';
import { NO_ONE_TIME, cancelAction, type OneTimeSchedules } from './one-time-schedules.ts';
import { QueueLocations } from './queue-locations.ts';
import { periodicSchedules } from './schedules.ts';
import type { DashboardSource } from './source.ts';

/** Options of {@link createStageSource}. */
export interface StageSourceOptions {
  readonly target: Target;
  /** CloudWatch in the stage's region; undefined when there is none (a local endpoint). */
  readonly cloudWatch: CloudWatchClient | undefined;
  /** Milliseconds between snapshots. Default 5,000. */
  readonly refreshMs?: number;
  /** The stage's pending one-time jobs (EventBridge Scheduler); undefined when there is no Scheduler to read. */
  readonly oneTime?: OneTimeSchedules | undefined;
  /** Milliseconds between CloudWatch reads. Default 60,000 (the metrics' resolution). */
  readonly metricsEveryMs?: number;
}

const EMPTY: TimeSeriesView = { times: [], series: {} };

function sumSeries(views: readonly TimeSeriesView[], names: readonly string[]): TimeSeriesView {
  const times = views.find((view) => view.times.length > 0)?.times ?? [];
  const series: Record<string, number[]> = {};
  for (const name of names) {
    series[name] = times.map((_, index) => views.reduce((sum, view) => sum + (view.series[name]?.[index] ?? 0), 0));
  }
  return { times, series };
}

function lastValue(values: readonly (number | null)[] | undefined): number | undefined {
  const found = values?.toReversed().find((value) => value !== null);
  return found === null ? undefined : found;
}

function total(values: readonly (number | null)[] | undefined, how: 'sum' | 'max'): number | undefined {
  const present = (values ?? []).filter((value): value is number => value !== null);
  if (present.length === 0) return undefined;
  return how === 'sum' ? present.reduce((a, b) => a + b, 0) : Math.max(...present);
}

/** The CloudWatch metrics of a stage's queues and workers, read at most every `everyMs`, with what went wrong. */
class StageMetricsReader {
  private last: { at: number; value: StageMetrics | undefined; problem: string | undefined } | undefined;

  constructor(
    private readonly target: Target,
    private readonly cloudWatch: CloudWatchClient | undefined,
    private readonly everyMs: number,
  ) {}

  async read(rows: readonly QueueRowView[]): Promise<{ value: StageMetrics | undefined; problem: string | undefined }> {
    if (this.last && Date.now() - this.last.at < this.everyMs) return this.last;
    if (!this.cloudWatch) {
      const problem = `no CloudWatch for ${this.target.target}: worker metrics are read from AWS only (without --endpoint)`;
      this.last = { at: Date.now(), value: undefined, problem };
      return this.last;
    }
    try {
      this.last = { at: Date.now(), value: await readStageMetrics(this.cloudWatch, this.targets(rows)), problem: undefined };
    } catch (error) {
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const problem = `CloudWatch did not answer (${text}); the credentials need cloudwatch:GetMetricData`;
      this.last = { at: Date.now(), value: this.last?.value, problem };
    }
    return this.last;
  }

  private targets(rows: readonly QueueRowView[]): MetricTargets[] {
    return rows.flatMap((row) =>
      row.name === undefined
        ? []
        : [
            {
              queue: row.queue,
              queueName: row.name,
              deadLetterName: row.deadLetterName,
              functionName: workerFunctionName({ stage: this.target.stage, queue: row.queue }),
            },
          ],
    );
  }
}

/** Each worker's charts and totals over the metrics' window. */
function workerViews(stage: string, rows: readonly QueueRowView[], lambdaViews: readonly TimeSeriesView[]): LambdaWorkerView[] {
  return rows.map((row, index) => {
    const view = lambdaViews[index] ?? EMPTY;
    return {
      functionName: workerFunctionName({ stage, queue: row.queue }),
      queue: row.queue,
      metrics: view,
      totals: {
        invocations: total(view.series.Invocations, 'sum'),
        errors: total(view.series.Errors, 'sum'),
        throttles: total(view.series.Throttles, 'sum'),
        'duration p95 (ms)': total(view.series['Duration p95 (ms)'], 'max'),
        'max memory used (MB)': total(view.series['Max memory used (MB)'], 'max'),
      },
    };
  });
}

/** The queues view: rows, outcomes per minute and the percentiles CloudWatch can give. */
function queuesView(
  rows: readonly QueueRowView[],
  stage: StageMetrics | undefined,
  lambdaViews: readonly TimeSeriesView[],
): Snapshot['queues'] {
  const worst = (name: string): number | undefined =>
    total(
      lambdaViews.map((view) => lastValue(view.series[name]) ?? null),
      'max',
    );
  const ages = rows.map((row) => stage?.oldestAgeMs.get(row.queue) ?? null);
  return {
    rows,
    outcomes: stage ? sumSeries([...stage.outcomes.values()], ['done', 'dead']) : EMPTY,
    outcomesLabel:
      'per minute, all queues, from CloudWatch: done = NumberOfMessagesDeleted of the queues, dead = NumberOfMessagesSent of their DLQs',
    duration: { p50: worst('Duration p50 (ms)'), p95: worst('Duration p95 (ms)') },
    latency: { p50: undefined, p95: total(ages, 'max') },
    percentilesLabel:
      'duration: Lambda Duration per invocation (latest minute, slowest worker); latency: ApproximateAgeOfOldestMessage (max over 15 min) - per-job figures are in Datadog',
  };
}

/** Reads a deployed stage. */
export function createStageSource(options: StageSourceOptions): DashboardSource {
  const { target, cloudWatch } = options;
  const locations = new QueueLocations(target);
  const deadLetters = new DeadLetterStore(locations, { maxAgeMs: 60_000 });
  const metrics = new StageMetricsReader(target, cloudWatch, options.metricsEveryMs ?? 60_000);
  return {
    kind: 'stage',
    target: target.target,
    refreshMs: options.refreshMs ?? 5000,
    async snapshot(readOnly): Promise<Snapshot> {
      const rows = await locations.rows();
      const [lists, read, oneTime] = await Promise.all([
        deadLetters.listAll(rows),
        metrics.read(rows),
        options.oneTime?.read() ?? Promise.resolve(NO_ONE_TIME),
      ]);
      const lambdaViews = rows.map((row) => read.value?.lambda.get(workerFunctionName({ stage: target.stage, queue: row.queue })) ?? EMPTY);
      return {
        at: Date.now(),
        source: 'stage',
        stage: target.stage,
        target: target.target,
        readOnly,
        queues: queuesView(rows, read.value, lambdaViews),
        deadLetters: lists,
        workers: { kind: 'stage', workers: workerViews(target.stage, rows, lambdaViews), problem: read.problem },
        activity: undefined,
        schedules: [...periodicSchedules(target.stage), ...oneTime.views],
        schedulesProblem: oneTime.problem,
      };
    },
    body: (queue, messageId) => deadLetters.body(queue, messageId),
    redrive: (queue, selection) => deadLetters.redrive(queue, selection),
    deleteMessages: (queue, messageIds) => deadLetters.deleteMessages(queue, messageIds),
    purge: (queue) => deadLetters.purge(queue),
    ...cancelAction(options.oneTime),
    async close() {
      cloudWatch?.destroy();
    },
  };
}
