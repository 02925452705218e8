import { describe, expect, it } from 'vitest';
import { parseFormula, parseMetricExpression, parseMonitorQuery, QuerySyntaxError } from '../../infra/monitoring/query-grammar.ts';

describe('metric queries', () => {
  it('reads the aggregator, metric, tag filters, group-by keys and methods of one query', () => {
    const { metrics } = parseMetricExpression(
      'sum:jobs.processed{service:serverless-jobs,!outcome:success,queue:default} by {job_type,outcome}.as_count().rollup(sum, 60)',
    );
    expect(metrics).toEqual([
      {
        aggregator: 'sum',
        metric: 'jobs.processed',
        filters: [
          { key: 'service', value: 'serverless-jobs', negated: false },
          { key: 'outcome', value: 'success', negated: true },
          { key: 'queue', value: 'default', negated: false },
        ],
        groupBy: ['job_type', 'outcome'],
        methods: [
          { name: 'as_count', args: [] },
          { name: 'rollup', args: ['sum', '60'] },
        ],
      },
    ]);
  });

  it('accepts the wildcard scope, bare tags and fill()', () => {
    const { metrics } = parseMetricExpression('avg:aws.lambda.duration{*}.fill(zero)');
    expect(metrics[0]?.filters).toEqual([{ key: '*', value: undefined, negated: false }]);
    expect(parseMetricExpression('max:jobs.runtime.rss{env:dev,canary}').metrics[0]?.filters[1]).toEqual({
      key: 'canary',
      value: undefined,
      negated: false,
    });
  });

  it('accepts percentile aggregators of distributions, including p99.9', () => {
    for (const agg of ['p50', 'p95', 'p99', 'p99.9']) {
      expect(parseMetricExpression(`${agg}:jobs.queue_latency{queue:default}`).metrics[0]?.aggregator).toBe(agg);
    }
  });

  it('accepts arithmetic between queries and numbers, with parentheses and unary minus', () => {
    const parsed = parseMetricExpression('100 * (sum:a.b{x:y}.as_count() - sum:a.c{x:y}.as_count()) / sum:a.d{x:y}.as_count() + -1');
    expect(parsed.metrics.map((m) => m.metric)).toEqual(['a.b', 'a.c', 'a.d']);
  });

  it('accepts functions around queries and lists them', () => {
    const parsed = parseMetricExpression(
      'per_second(abs(sum:jobs.processed{queue:default}.as_count())) + week_before(avg:jobs.duration{*})',
    );
    expect(parsed.functions).toEqual(['per_second', 'abs', 'week_before']);
  });

  it.each([
    ['a missing closing brace', 'sum:jobs.processed{queue:default'],
    ['an unknown space aggregator', 'median:jobs.duration{*}'],
    ['a misspelled method', 'sum:jobs.processed{*}.as_counts()'],
    ['an unknown function', 'smooth(avg:jobs.duration{*})'],
    ['an upper-case tag value (Datadog lower-cases tags)', 'max:aws.sqs.approximate_number_of_messages_visible{queuename:MyQueue}'],
    ['a boolean tag filter', 'sum:jobs.processed{queue:default OR queue:webhooks}'],
    ['a metric name without a namespace', 'sum:processed{*}'],
    ['a metric without a scope', 'sum:jobs.processed'],
    ['a bad rollup method', 'sum:jobs.processed{*}.rollup(median)'],
    ['a rollup interval that is not whole seconds', 'sum:jobs.processed{*}.rollup(sum, 1m)'],
    ['trailing text', 'sum:jobs.processed{*} foo'],
    ['an empty query', ''],
    ['a tag filter without a key', 'sum:jobs.processed{:default}'],
  ])('rejects %s', (_, query) => {
    expect(() => parseMetricExpression(query)).toThrow(QuerySyntaxError);
  });

  it('says where the query went wrong', () => {
    expect(() => parseMetricExpression('sum:jobs.processed{*}.as_counts()')).toThrow(/unknown method "\.as_counts\(\)" at column 23/);
  });
});

describe('formulas', () => {
  it('accept arithmetic over the request query names', () => {
    expect(parseFormula('(dead + retry) / all', ['dead', 'retry', 'all']).references).toEqual(['dead', 'retry', 'all']);
    expect(parseFormula('100 * used / size', ['used', 'size']).references).toEqual(['used', 'size']);
  });

  it('reject a name that is not one of the queries', () => {
    expect(() => parseFormula('dead / total', ['dead', 'all'])).toThrow(/unknown query name "total"/);
  });
});

describe('monitor queries', () => {
  it('read a threshold monitor: time aggregation, window, comparator and threshold', () => {
    const parsed = parseMonitorQuery('max(last_5m):max:aws.sqs.approximate_number_of_messages_visible{queuename:q-dlq} > 0');
    expect(parsed).toMatchObject({ form: 'threshold', timeAggregation: 'max', window: 'last_5m', comparator: '>', threshold: 0 });
    expect(parsed.metrics[0]?.metric).toBe('aws.sqs.approximate_number_of_messages_visible');
  });

  it('read a ratio of two queries', () => {
    const parsed = parseMonitorQuery('sum(last_15m):sum:jobs.processed{outcome:dead}.as_count() / sum:jobs.processed{*}.as_count() > 0.05');
    expect(parsed.metrics).toHaveLength(2);
    expect(parsed.threshold).toBe(0.05);
  });

  it('read change and pct_change monitors with their shift', () => {
    expect(parseMonitorQuery('change(avg(last_30m),last_1h):max:jobs.runtime.open_fds{env:dev} > 20')).toMatchObject({
      form: 'change',
      window: 'last_30m',
      shift: 'last_1h',
      threshold: 20,
    });
    expect(parseMonitorQuery('pct_change(avg(last_30m),last_1h):max:jobs.runtime.heap_used{env:dev} >= 50').form).toBe('pct_change');
  });

  it('read a forecast monitor over a next_ window', () => {
    const parsed = parseMonitorQuery(
      "max(next_1w):forecast(avg:jobs.runtime.rss{env:dev}, 'linear', 1, interval='60m', history='1w', model='default') >= 3e8",
    );
    expect(parsed).toMatchObject({ form: 'forecast', window: 'next_1w', comparator: '>=', threshold: 3e8 });
  });

  it('read a negative threshold and the < comparators', () => {
    expect(parseMonitorQuery('avg(last_5m):avg:jobs.duration{*} < -1').threshold).toBe(-1);
    expect(parseMonitorQuery('avg(last_5m):avg:jobs.duration{*} <= 1').comparator).toBe('<=');
  });

  it.each([
    ['no comparator', 'avg(last_5m):avg:jobs.duration{*}'],
    ['no threshold', 'avg(last_5m):avg:jobs.duration{*} >'],
    ['no time aggregation', 'avg:jobs.duration{*} > 1'],
    ['an unknown time aggregation', 'p95(last_5m):avg:jobs.duration{*} > 1'],
    ['a window without a unit', 'avg(last_5):avg:jobs.duration{*} > 1'],
    ['a change monitor without a shift', 'change(avg(last_5m)):avg:jobs.duration{*} > 1'],
    ['a change shift into the future', 'change(avg(last_5m),next_1h):avg:jobs.duration{*} > 1'],
    ['a forecast over a last_ window', "avg(last_1h):forecast(avg:jobs.duration{*}, 'linear', 1) > 1"],
    ['a next_ window without a forecast', 'max(next_1w):avg:jobs.duration{*} > 1'],
    ['an unterminated string argument', "max(next_1w):forecast(avg:jobs.duration{*}, 'linear, 1) > 1"],
    ['an equality comparator', 'avg(last_5m):avg:jobs.duration{*} == 1'],
  ])('reject %s', (_, query) => {
    expect(() => parseMonitorQuery(query)).toThrow(QuerySyntaxError);
  });
});
