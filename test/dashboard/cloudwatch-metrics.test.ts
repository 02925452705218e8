/**
 * The stage's charts from one GetMetricData call. CloudWatch is mocked (no local stand-in exists): a middleware
 * answers the SDK's request with canned results, after recording what was asked.
 */
import { CloudWatchClient, type GetMetricDataCommandInput, type GetMetricDataCommandOutput } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { metricsPerRead, readStageMetrics, type MetricTargets } from '../../functions/dashboard/cloudwatch-metrics.ts';

const TARGETS: MetricTargets[] = [
  {
    queue: 'default',
    queueName: 'serverless-jobs-prod-default',
    deadLetterName: 'serverless-jobs-prod-default-dlq',
    functionName: 'serverless-jobs-prod-default-worker',
  },
];
const NOW = Date.UTC(2026, 11, 7, 3, 0, 30);
const MINUTE = (m: number): Date => new Date(Date.UTC(2026, 11, 7, 2, m));

function mockedCloudWatch(
  answer: (input: GetMetricDataCommandInput) => GetMetricDataCommandOutput,
  asked: GetMetricDataCommandInput[],
): CloudWatchClient {
  const client = new CloudWatchClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  client.middlewareStack.add(
    () => async (args) => {
      const input = args.input as GetMetricDataCommandInput;
      asked.push(input);
      return { response: {}, output: answer(input) };
    },
    { step: 'initialize', name: 'cannedGetMetricData' },
  );
  return client;
}

describe('stage metrics from CloudWatch (CloudWatch mocked: no local stand-in)', () => {
  it('asks for every chart in one call over the last 15 whole minutes, per minute', async () => {
    const asked: GetMetricDataCommandInput[] = [];
    const client = mockedCloudWatch(() => ({ MetricDataResults: [], $metadata: {} }), asked);
    await readStageMetrics(client, TARGETS, NOW);
    expect(asked).toHaveLength(1);
    expect(asked[0]?.MetricDataQueries).toHaveLength(metricsPerRead(TARGETS));
    expect(asked[0]?.StartTime).toEqual(MINUTE(45));
    expect(asked[0]?.EndTime).toEqual(new Date(Date.UTC(2026, 11, 7, 3, 0)));
    expect(new Set(asked[0]?.MetricDataQueries?.map((query) => query.MetricStat?.Period))).toEqual(new Set([60]));
  });

  it('puts deletes as done and DLQ sends as dead, per minute, zero where CloudWatch has no point', async () => {
    const asked: GetMetricDataCommandInput[] = [];
    const client = mockedCloudWatch((input) => {
      const id = (metric: string, queue: string): string =>
        input.MetricDataQueries?.find(
          (query) => query.MetricStat?.Metric?.MetricName === metric && query.MetricStat.Metric.Dimensions?.[0]?.Value === queue,
        )?.Id ?? '';
      return {
        MetricDataResults: [
          { Id: id('NumberOfMessagesDeleted', 'serverless-jobs-prod-default'), Timestamps: [MINUTE(50), MINUTE(51)], Values: [7, 3] },
          { Id: id('NumberOfMessagesSent', 'serverless-jobs-prod-default-dlq'), Timestamps: [MINUTE(51)], Values: [2] },
        ],
        $metadata: {},
      };
    }, asked);
    const metrics = await readStageMetrics(client, TARGETS, NOW);
    const outcomes = metrics.outcomes.get('default');
    expect(outcomes?.times).toHaveLength(15);
    expect(outcomes?.series.done?.slice(4, 7)).toEqual([0, 7, 3]);
    expect(outcomes?.series.dead?.slice(5, 7)).toEqual([0, 2]);
  });

  it('reads Lambda invocations, errors, throttles and duration percentiles of the worker', async () => {
    const asked: GetMetricDataCommandInput[] = [];
    const client = mockedCloudWatch(() => ({ MetricDataResults: [], $metadata: {} }), asked);
    const metrics = await readStageMetrics(client, TARGETS, NOW);
    const stats = asked[0]?.MetricDataQueries?.filter((query) => query.MetricStat?.Metric?.Namespace === 'AWS/Lambda').map(
      (query) => `${query.MetricStat?.Metric?.MetricName}:${query.MetricStat?.Stat}`,
    );
    expect(stats).toEqual(['Invocations:Sum', 'Errors:Sum', 'Throttles:Sum', 'Duration:p50', 'Duration:p95']);
    expect(Object.keys(metrics.lambda.get('serverless-jobs-prod-default-worker')?.series ?? {})).toContain('Max memory used (MB)');
  });
});
