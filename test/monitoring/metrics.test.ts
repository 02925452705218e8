import { describe, expect, it } from 'vitest';
import { METRIC, OUTCOMES, TAG } from '../../functions/runtime/metric-names.ts';
import { buildMonitoring } from '../../infra/monitoring/definitions.ts';
import { INTEGRATION_METRICS, INTEGRATION_METRIC_NAMES } from '../../infra/monitoring/integration-metrics.ts';
import { targetFromCatalog } from '../../infra/monitoring/target.ts';
import type { GroupWidgetDefinition, MetricDataQuery } from '../../infra/monitoring/types.ts';

const definitions = buildMonitoring(targetFromCatalog());
const terms = definitions.queries;
const workerMetrics = new Set<string>(Object.values(METRIC));
const tagKeys = new Set<string>(Object.values(TAG));

/** Every query string the dashboard body carries. */
function dashboardQueryTexts(): string[] {
  const groups = definitions.dashboard.widgets.map((w) => w.definition).filter((d): d is GroupWidgetDefinition => d.type === 'group');
  return groups.flatMap((g) =>
    g.widgets.flatMap((w) =>
      w.definition.type === 'note' ? [] : w.definition.requests.flatMap((r) => r.queries.map((q: MetricDataQuery) => q.query)),
    ),
  );
}

describe('the metrics the dashboard and monitors query', () => {
  it('are all built from the model: every widget query and monitor query is the text of a model query', () => {
    const texts = new Set(terms.map((t) => t.toString()));
    const widgetQueries = dashboardQueryTexts();
    expect(widgetQueries.length + definitions.monitors.length).toBeGreaterThan(80);
    expect(widgetQueries.filter((q) => !texts.has(q))).toEqual([]);
    for (const m of definitions.monitors) expect(m.definition.query).toBe(m.query.toString());
  });

  it('are each emitted by the worker (METRIC) or in the integration allow-list', () => {
    const unknown = terms.filter((t) => !workerMetrics.has(t.metric) && !INTEGRATION_METRIC_NAMES.has(t.metric));
    expect(unknown.map(String)).toEqual([]);
  });

  it("filter and group jobs.* metrics only by the worker's TAG keys", () => {
    const bad = terms
      .filter((t) => workerMetrics.has(t.metric))
      .flatMap((t) => [...t.filters.map(([key]) => key), ...t.groupBy].filter((k) => !tagKeys.has(k)).map((k) => `${t}: ${k}`));
    expect(bad).toEqual([]);
  });

  it('use only bounded outcome values on jobs.processed', () => {
    const outcomes = terms.flatMap((t) => t.filters.filter(([key]) => key === TAG.outcome).map(([, value]) => value));
    expect(outcomes.length).toBeGreaterThan(0);
    for (const value of outcomes) expect(OUTCOMES).toContain(value);
  });

  it('select every integration metric by its resource tag (queuename / functionname), never account-wide', () => {
    const integration = terms.filter((t) => INTEGRATION_METRIC_NAMES.has(t.metric));
    expect(integration.length).toBeGreaterThan(0);
    for (const t of integration) {
      const resourceTag = Object.values(INTEGRATION_METRICS).find((m) => m.name === t.metric)?.resourceTag;
      expect(t.filters.some(([key, value]) => key === resourceTag && value !== '')).toBe(true);
    }
  });

  it('cover every metric the worker emits', () => {
    const queried = new Set(terms.map((t) => t.metric));
    for (const metric of workerMetrics) expect(queried).toContain(metric);
  });

  it('keep the allow-list to documented SQS, Lambda and EventBridge Scheduler integration metrics', () => {
    for (const metric of Object.values(INTEGRATION_METRICS)) {
      expect(metric.name).toMatch(/^aws\.(sqs|lambda|scheduler)\./);
      expect(metric.docs).toMatch(/^https:\/\/docs\.datadoghq\.com\//);
    }
  });
});
