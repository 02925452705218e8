import { describe, expect, it } from 'vitest';
import { METRIC, OUTCOMES, TAG } from '../../functions/runtime/metric-names.ts';
import { checkQueries, dashboardQueries, metricsOf, monitorQueries, type FoundQuery } from '../../infra/monitoring/check.ts';
import { buildMonitoring } from '../../infra/monitoring/definitions.ts';
import { INTEGRATION_METRICS, INTEGRATION_METRIC_NAMES } from '../../infra/monitoring/integration-metrics.ts';
import { targetFromCatalog } from '../../infra/monitoring/target.ts';

const definitions = buildMonitoring(targetFromCatalog());
const found: FoundQuery[] = [...dashboardQueries(definitions.dashboard), ...monitorQueries(definitions.monitors)];
const terms = found.flatMap((item) => metricsOf(item).map((node) => ({ where: item.where, node })));
const workerMetrics = new Set<string>(Object.values(METRIC));
const tagKeys = new Set<string>(Object.values(TAG));

describe('the metrics the dashboard and monitors query', () => {
  it('all parse: every widget query, formula and monitor query', () => {
    expect(found.length).toBeGreaterThan(100);
    const unparsable = found.filter((item) => {
      try {
        metricsOf(item);
        return false;
      } catch {
        return true;
      }
    });
    expect(unparsable).toEqual([]);
  });

  it('are each emitted by the worker (METRIC) or in the integration allow-list', () => {
    const unknown = terms.filter(({ node }) => !workerMetrics.has(node.metric) && !INTEGRATION_METRIC_NAMES.has(node.metric));
    expect(unknown.map(({ where, node }) => `${where}: ${node.metric}`)).toEqual([]);
  });

  it("filter and group jobs.* metrics only by the worker's TAG keys", () => {
    const bad = terms
      .filter(({ node }) => workerMetrics.has(node.metric))
      .flatMap(({ where, node }) =>
        [...node.filters.map((f) => f.key), ...node.groupBy].filter((k) => !tagKeys.has(k)).map((k) => `${where}: ${k}`),
      );
    expect(bad).toEqual([]);
  });

  it('use only bounded outcome values on jobs.processed', () => {
    const outcomes = terms.flatMap(({ node }) => node.filters.filter((f) => f.key === TAG.outcome).map((f) => f.value));
    expect(outcomes.length).toBeGreaterThan(0);
    for (const value of outcomes) expect(OUTCOMES).toContain(value);
  });

  it('select every integration metric by its resource tag (queuename / functionname), never account-wide', () => {
    const integration = terms.filter(({ node }) => INTEGRATION_METRIC_NAMES.has(node.metric));
    expect(integration.length).toBeGreaterThan(0);
    for (const { node } of integration) {
      const resourceTag = Object.values(INTEGRATION_METRICS).find((m) => m.name === node.metric)?.resourceTag;
      expect(node.filters.some((f) => f.key === resourceTag && f.value !== undefined)).toBe(true);
    }
  });

  it('cover every metric the worker emits', () => {
    const queried = new Set(terms.map(({ node }) => node.metric));
    for (const metric of workerMetrics) expect(queried).toContain(metric);
  });

  it('keep the allow-list to documented SQS and Lambda integration metrics', () => {
    for (const metric of Object.values(INTEGRATION_METRICS)) {
      expect(metric.name).toMatch(/^aws\.(sqs|lambda)\./);
      expect(metric.docs).toMatch(/^https:\/\/docs\.datadoghq\.com\//);
    }
  });
});

const bad = (text: string, kind: FoundQuery['kind'] = 'metric'): string[] => checkQueries([{ where: 'test', kind, text }]);

describe('the metric check itself', () => {
  it('flags a misspelled worker metric', () => {
    expect(bad('sum:jobs.proccessed{queue:default}.as_count()')).toEqual([
      'test: metric "jobs.proccessed" is neither emitted by the worker (METRIC) nor in the integration allow-list',
    ]);
  });

  it('flags a tag key the worker does not send', () => {
    expect(bad('sum:jobs.processed{queue:default} by {jobtype}.as_count()')).toEqual([
      'test: tag key "jobtype" on jobs.processed is not one of the worker\'s TAG keys',
    ]);
  });

  it('flags an integration metric outside the allow-list', () => {
    expect(bad('sum:aws.sqs.number_of_messages_sent{queuename:x}.as_count()')).toHaveLength(1);
  });

  it('flags an integration metric that is not selected by its resource', () => {
    expect(bad('max:aws.sqs.approximate_number_of_messages_visible{*}')).toEqual([
      'test: aws.sqs.approximate_number_of_messages_visible must be selected by queuename:<name>, or it mixes in other resources',
    ]);
  });

  it('flags a query that does not parse, with its place', () => {
    expect(bad('avg(last_5m):sum:jobs.processed{*} >', 'monitor')[0]).toMatch(/^test: expected a number at column/);
  });
});
