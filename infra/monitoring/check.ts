/**
 * Checks generated definitions against what the worker and the integrations really emit:
 * every query parses, every metric is one of the worker's `METRIC` names or an allowed integration
 * metric, every tag key on a `jobs.*` metric is a `TAG` value, and every integration metric is
 * selected by its resource tag. Runs when the definitions are built (a mistake refuses to
 * synthesize) and in the tests.
 */
import { METRIC, TAG } from '../../functions/runtime/metric-names.ts';
import { findIntegrationMetric } from './integration-metrics.ts';
import { parseFormula, parseMetricExpression, parseMonitorQuery, QuerySyntaxError, type MetricQueryNode } from './query-grammar.ts';
import type { DashboardDefinition, MetricDataQuery, WidgetFormula, Widget, WidgetDefinition } from './types.ts';
import type { MonitorSpec } from './monitors.ts';

const WORKER_METRICS: ReadonlySet<string> = new Set(Object.values(METRIC));
const WORKER_TAG_KEYS: ReadonlySet<string> = new Set(Object.values(TAG));
/** CDK tokens stand for names CloudFormation fills in; they are checked as a plain word. */
const TOKEN = /\$\{Token\[[^\]]+\]\}/g;

/** A query found in a definition, with where it was found. */
export interface FoundQuery {
  readonly where: string;
  readonly kind: 'metric' | 'formula' | 'monitor';
  readonly text: string;
  /** Formula mode: the query names the formula may use. */
  readonly names?: readonly string[];
}

function collectWidgetQueries(widget: Widget<WidgetDefinition>, where: string, out: FoundQuery[]): void {
  const d = widget.definition;
  const here = `${where} > ${'title' in d ? d.title : d.type}`;
  if (d.type === 'group') {
    for (const w of d.widgets) collectWidgetQueries(w, here, out);
    return;
  }
  if (d.type === 'note') return;
  for (const request of d.requests) {
    const queries: readonly MetricDataQuery[] = request.queries;
    const names = queries.map((x) => x.name);
    for (const x of queries) out.push({ where: `${here} [${x.name}]`, kind: 'metric', text: x.query });
    const formulas: readonly WidgetFormula[] = request.formulas;
    for (const f of formulas) out.push({ where: `${here} (formula)`, kind: 'formula', text: f.formula, names });
  }
}

/** Every query string of a dashboard. */
export function dashboardQueries(dashboard: DashboardDefinition): FoundQuery[] {
  const out: FoundQuery[] = [];
  for (const widget of dashboard.widgets) collectWidgetQueries(widget, dashboard.title, out);
  return out;
}

/** Every query string of the monitors. */
export function monitorQueries(monitors: readonly MonitorSpec[]): FoundQuery[] {
  return monitors.map((m) => ({ where: `monitor ${m.key}`, kind: 'monitor', text: m.definition.query }));
}

/** The metric terms of one query (throws {@link QuerySyntaxError} when it does not parse). */
export function metricsOf(found: FoundQuery): readonly MetricQueryNode[] {
  const text = found.text.replace(TOKEN, 'token');
  if (found.kind === 'monitor') return parseMonitorQuery(text).metrics;
  if (found.kind === 'formula') return parseFormula(text, found.names ?? []).metrics;
  return parseMetricExpression(text).metrics;
}

/** What is wrong with one metric term, if anything. */
export function metricProblems(node: MetricQueryNode): string[] {
  const problems: string[] = [];
  const keys = [...node.filters.map((f) => f.key).filter((k) => k !== '*'), ...node.groupBy];
  if (WORKER_METRICS.has(node.metric)) {
    for (const key of keys)
      if (!WORKER_TAG_KEYS.has(key)) problems.push(`tag key "${key}" on ${node.metric} is not one of the worker's TAG keys`);
    return problems;
  }
  const integration = findIntegrationMetric(node.metric);
  if (integration === undefined)
    return [`metric "${node.metric}" is neither emitted by the worker (METRIC) nor in the integration allow-list`];
  if (!node.filters.some((f) => f.key === integration.resourceTag && f.value !== undefined && !f.negated)) {
    problems.push(`${node.metric} must be selected by ${integration.resourceTag}:<name>, or it mixes in other resources`);
  }
  return problems;
}

/** Every problem of the given queries, as `where: problem` lines (empty when all is well). */
export function checkQueries(found: readonly FoundQuery[]): string[] {
  const problems: string[] = [];
  for (const item of found) {
    try {
      for (const node of metricsOf(item)) for (const p of metricProblems(node)) problems.push(`${item.where}: ${p}`);
    } catch (error) {
      if (!(error instanceof QuerySyntaxError)) throw error;
      problems.push(`${item.where}: ${error.message}`);
    }
  }
  return problems;
}

/**
 * Monitor-level problems: the alert threshold in the query must equal `options.thresholds.critical`
 * (Datadog rejects the monitor otherwise), a warning must sit on the safe side of it, and the
 * message must link the monitor's runbook entry.
 */
export function checkMonitors(monitors: readonly MonitorSpec[]): string[] {
  const problems: string[] = [];
  const keys = new Set<string>();
  for (const m of monitors) {
    const where = `monitor ${m.key}`;
    if (keys.has(m.key)) problems.push(`${where}: duplicate key`);
    keys.add(m.key);
    let parsed;
    try {
      parsed = parseMonitorQuery(m.definition.query.replace(TOKEN, 'token'));
    } catch (error) {
      if (!(error instanceof QuerySyntaxError)) throw error;
      problems.push(`${where}: ${error.message}`);
      continue;
    }
    const t = m.definition.options.thresholds;
    if (parsed.threshold !== t.critical)
      problems.push(`${where}: query threshold ${parsed.threshold} differs from thresholds.critical ${t.critical}`);
    if (t.warning !== undefined) {
      const above = parsed.comparator === '>' || parsed.comparator === '>=';
      if (above ? t.warning >= t.critical : t.warning <= t.critical)
        problems.push(`${where}: warning ${t.warning} is not on the safe side of critical ${t.critical}`);
    }
    if (!m.definition.message.includes(`#runbook-${m.kind}`)) problems.push(`${where}: message does not link #runbook-${m.kind}`);
  }
  return problems;
}
