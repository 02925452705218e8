import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import { METRIC, TAG, type MetricName } from '../../functions/runtime/metric-names.ts';
import { INTEGRATION_METRICS, type IntegrationMetric } from '../../infra/monitoring/integration-metrics.ts';
import { MetricQuery, MonitorQuery, Ratio, type TagKey } from '../../infra/monitoring/query.ts';

const processed = (filters: Array<readonly [TagKey, string]>, by: TagKey[] = []) =>
  MetricQuery.worker('sum', METRIC.processed, filters, { by, asCount: true });

describe('metric queries', () => {
  it('write the aggregator, metric, scope, group-by keys and as_count()', () => {
    const query = processed(
      [
        [TAG.service, 'serverless-jobs'],
        [TAG.queue, 'default'],
      ],
      [TAG.jobType, TAG.outcome],
    );
    expect(String(query)).toBe('sum:jobs.processed{service:serverless-jobs,queue:default} by {job_type,outcome}.as_count()');
  });

  it('write a percentile of a distribution and an empty scope as {*}', () => {
    expect(String(MetricQuery.worker('p95', METRIC.queueLatency, []))).toBe('p95:jobs.queue_latency{*}');
  });

  it('select an integration metric by its resource tag', () => {
    expect(String(MetricQuery.integration('max', INTEGRATION_METRICS.sqsVisible, 'serverless-jobs-dev-default-dlq'))).toBe(
      'max:aws.sqs.approximate_number_of_messages_visible{queuename:serverless-jobs-dev-default-dlq}',
    );
    expect(String(MetricQuery.integration('sum', INTEGRATION_METRICS.lambdaErrors, 'w', true))).toBe(
      'sum:aws.lambda.errors{functionname:w}.as_count()',
    );
  });

  it('refuse a metric the worker does not emit', () => {
    expect(() => MetricQuery.worker('sum', 'jobs.proccessed' as MetricName, [])).toThrow(
      'monitoring: metric "jobs.proccessed" is not one the worker emits (METRIC)',
    );
  });

  it('refuse a tag key the worker does not send', () => {
    expect(() => processed([], ['jobtype' as TagKey])).toThrow(
      'monitoring: tag key "jobtype" on jobs.processed is not one of the worker\'s TAG keys',
    );
  });

  it('refuse an integration metric outside the allow-list', () => {
    const sent: IntegrationMetric = { ...INTEGRATION_METRICS.sqsVisible, name: 'aws.sqs.number_of_messages_sent' };
    expect(() => MetricQuery.integration('sum', sent, 'q')).toThrow(
      /"aws\.sqs\.number_of_messages_sent" is not in the integration allow-list/,
    );
  });

  it('refuse a tag value Datadog would change or split (upper case, comma, space)', () => {
    for (const value of ['MyQueue', 'a,b', 'a b', '']) {
      expect(() => processed([[TAG.queue, value]])).toThrow(ConfigurationError);
    }
  });

  it('keep a CDK token standing for a name CloudFormation fills in', () => {
    expect(String(processed([[TAG.queue, '${Token[TOKEN.123]}']]))).toContain('{queue:${Token[TOKEN.123]}}');
  });
});

describe('monitor queries', () => {
  const visible = MetricQuery.integration('max', INTEGRATION_METRICS.sqsVisible, 'q-dlq');

  it('write a threshold monitor: time aggregation, window, comparator and threshold', () => {
    const query = new MonitorQuery({ form: 'threshold', timeAggregation: 'max', window: 'last_5m' }, visible, '>', 0);
    expect(String(query)).toBe('max(last_5m):max:aws.sqs.approximate_number_of_messages_visible{queuename:q-dlq} > 0');
  });

  it('write a ratio of two queries and a threshold without float noise', () => {
    const ratio = new Ratio(processed([[TAG.outcome, 'dead']]), processed([]));
    const query = new MonitorQuery({ form: 'threshold', timeAggregation: 'sum', window: 'last_15m' }, ratio, '>', 0.1 + 0.2);
    expect(String(query)).toBe('sum(last_15m):sum:jobs.processed{outcome:dead}.as_count() / sum:jobs.processed{*}.as_count() > 0.3');
    expect(query.metrics).toHaveLength(2);
  });

  it('write change and pct_change monitors with their shift', () => {
    const fds = MetricQuery.worker('max', METRIC.openFds, [[TAG.env, 'dev']]);
    const query = new MonitorQuery({ form: 'change', timeAggregation: 'avg', window: 'last_30m', shift: 'last_1h' }, fds, '>', 20);
    expect(String(query)).toBe('change(avg(last_30m),last_1h):max:jobs.runtime.open_fds{env:dev} > 20');
  });

  it('refuse a change monitor without a shift, and a threshold monitor with one', () => {
    expect(() => new MonitorQuery({ form: 'pct_change', timeAggregation: 'avg', window: 'last_30m' }, visible, '>', 1)).toThrow(
      'monitoring: a pct_change monitor needs a shift window',
    );
    expect(
      () => new MonitorQuery({ form: 'threshold', timeAggregation: 'avg', window: 'last_30m', shift: 'last_1h' }, visible, '>', 1),
    ).toThrow('monitoring: a threshold monitor takes no shift window');
  });

  it('refuse a threshold that is not a number', () => {
    expect(() => new MonitorQuery({ form: 'threshold', timeAggregation: 'max', window: 'last_5m' }, visible, '>', Number.NaN)).toThrow(
      /threshold must be a number/,
    );
  });
});
