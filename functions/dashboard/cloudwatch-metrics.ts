/**
 * The stage's charts from CloudWatch, in ONE GetMetricData call for the last 15 minutes at 1-minute
 * resolution: per queue AWS/SQS NumberOfMessagesDeleted (jobs done) and ApproximateAgeOfOldestMessage
 * (the waiting time), per DLQ NumberOfMessagesSent (jobs dead-lettered), and per worker AWS/Lambda
 * Invocations, Errors, Throttles, Duration p50/p95 and, when Lambda Insights is on, used memory (max).
 */
import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { TimeSeriesView } from './model.ts';

/** One queue of the stack as CloudWatch names it. */
export interface MetricTargets {
  readonly queue: string;
  readonly queueName: string;
  readonly deadLetterName: string | undefined;
  readonly functionName: string;
}

/** The charts of one stage. */
export interface StageMetrics {
  /** Per queue: `done` and `dead` per minute. */
  readonly outcomes: ReadonlyMap<string, TimeSeriesView>;
  /** Per queue: age of the oldest message (ms), max over the window. */
  readonly oldestAgeMs: ReadonlyMap<string, number | undefined>;
  /** Per worker function: Invocations, Errors, Throttles, Duration p50 (ms), Duration p95 (ms), Max memory used (MB). */
  readonly lambda: ReadonlyMap<string, TimeSeriesView>;
}

const PERIOD_SECONDS = 60;
const WINDOW_MINUTES = 15;

interface QuerySpec {
  readonly namespace: string;
  readonly metric: string;
  readonly dimension: string;
  readonly value: string;
  readonly stat: string;
  /** Where the result goes: [kind, key, series name]. */
  readonly into: readonly ['outcomes' | 'age' | 'lambda', string, string];
}

function specs(targets: readonly MetricTargets[]): QuerySpec[] {
  return targets.flatMap((t): QuerySpec[] => [
    {
      namespace: 'AWS/SQS',
      metric: 'NumberOfMessagesDeleted',
      dimension: 'QueueName',
      value: t.queueName,
      stat: 'Sum',
      into: ['outcomes', t.queue, 'done'],
    },
    ...(t.deadLetterName
      ? [
          {
            namespace: 'AWS/SQS',
            metric: 'NumberOfMessagesSent',
            dimension: 'QueueName',
            value: t.deadLetterName,
            stat: 'Sum',
            into: ['outcomes', t.queue, 'dead'],
          } as const,
        ]
      : []),
    {
      namespace: 'AWS/SQS',
      metric: 'ApproximateAgeOfOldestMessage',
      dimension: 'QueueName',
      value: t.queueName,
      stat: 'Maximum',
      into: ['age', t.queue, 'age'],
    },
    {
      namespace: 'AWS/Lambda',
      metric: 'Invocations',
      dimension: 'FunctionName',
      value: t.functionName,
      stat: 'Sum',
      into: ['lambda', t.functionName, 'Invocations'],
    },
    {
      namespace: 'AWS/Lambda',
      metric: 'Errors',
      dimension: 'FunctionName',
      value: t.functionName,
      stat: 'Sum',
      into: ['lambda', t.functionName, 'Errors'],
    },
    {
      namespace: 'AWS/Lambda',
      metric: 'Throttles',
      dimension: 'FunctionName',
      value: t.functionName,
      stat: 'Sum',
      into: ['lambda', t.functionName, 'Throttles'],
    },
    {
      namespace: 'AWS/Lambda',
      metric: 'Duration',
      dimension: 'FunctionName',
      value: t.functionName,
      stat: 'p50',
      into: ['lambda', t.functionName, 'Duration p50 (ms)'],
    },
    {
      namespace: 'AWS/Lambda',
      metric: 'Duration',
      dimension: 'FunctionName',
      value: t.functionName,
      stat: 'p95',
      into: ['lambda', t.functionName, 'Duration p95 (ms)'],
    },
    {
      namespace: 'LambdaInsights',
      metric: 'used_memory_max',
      dimension: 'function_name',
      value: t.functionName,
      stat: 'Maximum',
      into: ['lambda', t.functionName, 'Max memory used (MB)'],
    },
  ]);
}

/** How many metrics one read asks for (GetMetricData is billed per metric). */
export function metricsPerRead(targets: readonly MetricTargets[]): number {
  return specs(targets).length;
}

/** Reads the last 15 minutes of every chart in one GetMetricData call (paged only past 500 metrics). */
export async function readStageMetrics(
  client: CloudWatchClient,
  targets: readonly MetricTargets[],
  now = Date.now(),
): Promise<StageMetrics> {
  const list = specs(targets);
  const end = Math.floor(now / 60_000) * 60_000;
  const start = end - WINDOW_MINUTES * 60_000;
  const times = Array.from({ length: WINDOW_MINUTES }, (_, index) => (start + index * 60_000) / 1000);
  const queries: MetricDataQuery[] = list.map((spec, index) => ({
    Id: `m${index}`,
    MetricStat: {
      Metric: { Namespace: spec.namespace, MetricName: spec.metric, Dimensions: [{ Name: spec.dimension, Value: spec.value }] },
      Period: PERIOD_SECONDS,
      Stat: spec.stat,
    },
    ReturnData: true,
  }));
  const values = new Map<string, Map<number, number>>();
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: new Date(start),
        EndTime: new Date(end),
        ScanBy: 'TimestampAscending',
        NextToken: nextToken,
      }),
    );
    for (const result of page.MetricDataResults ?? []) {
      const byTime = values.get(result.Id ?? '') ?? new Map<number, number>();
      values.set(result.Id ?? '', byTime);
      (result.Timestamps ?? []).forEach((timestamp, index) => {
        const value = result.Values?.[index];
        if (value !== undefined) byTime.set(timestamp.getTime() / 1000, value);
      });
    }
    nextToken = page.NextToken;
  } while (nextToken);

  const outcomes = new Map<string, Record<string, (number | null)[]>>();
  const lambda = new Map<string, Record<string, (number | null)[]>>();
  const oldestAgeMs = new Map<string, number | undefined>();
  list.forEach((spec, index) => {
    const byTime = values.get(`m${index}`) ?? new Map<number, number>();
    const [kind, key, name] = spec.into;
    const series = times.map((time) => byTime.get(time) ?? (kind === 'lambda' && name.startsWith('D') ? null : kind === 'age' ? null : 0));
    if (kind === 'age') {
      const ages = [...byTime.values()];
      oldestAgeMs.set(key, ages.length > 0 ? Math.max(...ages) * 1000 : undefined);
      return;
    }
    const target = kind === 'outcomes' ? outcomes : lambda;
    const entry = target.get(key) ?? {};
    target.set(key, entry);
    entry[name] = name === 'Max memory used (MB)' ? series.map((value) => (value === null || value === 0 ? null : value)) : series;
  });
  const view = (map: Map<string, Record<string, (number | null)[]>>): Map<string, TimeSeriesView> =>
    new Map([...map].map(([key, series]) => [key, { times, series }]));
  return { outcomes: view(outcomes), oldestAgeMs, lambda: view(lambda) };
}
