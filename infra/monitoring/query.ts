/**
 * A small typed model of the Datadog metric queries the dashboard and the monitors use; `toString()`
 * of each piece is its query text. Queries are built only from the worker's `METRIC` and `TAG`
 * constants and the integration allow-list, and are checked when built: an unknown metric, a tag key
 * the worker does not send, an integration metric not selected by its resource or a value Datadog
 * cannot keep as a tag throws a {@link ConfigurationError}, so such a definition never synthesizes.
 */
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import { METRIC, TAG, type MetricName } from '../../functions/runtime/metric-names.ts';
import { INTEGRATION_METRICS, type IntegrationMetric } from './integration-metrics.ts';

/** A tag key the worker sends on its `jobs.*` metrics. */
export type TagKey = (typeof TAG)[keyof typeof TAG];
/** One `key:value` of a query scope. */
export type TagFilter = readonly [key: string, value: string];
/** How points of several sources are combined (space aggregation); `pNN` for distributions. */
export type SpaceAggregator = 'avg' | 'max' | 'min' | 'sum' | 'p50' | 'p95' | 'p99';
/** How a monitor reduces its window (time aggregation). */
export type TimeAggregator = 'avg' | 'max' | 'min' | 'sum';
/** A monitor window or shift: `last_15m`, `last_1h`. */
export type Window = `last_${number}${'m' | 'h' | 'd'}`;

const WORKER_METRICS: ReadonlySet<string> = new Set(Object.values(METRIC));
const WORKER_TAG_KEYS: ReadonlySet<string> = new Set(Object.values(TAG));
const INTEGRATION: ReadonlySet<IntegrationMetric> = new Set(Object.values(INTEGRATION_METRICS));
/** CDK tokens (`${Token[...]}`) stand for names only CloudFormation knows; they are passed through. */
const TOKEN = /\$\{Token\[[^\]]+\]\}/g;
const TAG_VALUE = /^[a-z0-9_.\-/]+$/;

/** What is wrong with `value` as a Datadog tag value (it must stay as is: lower case, no separators), if anything. */
export function tagValueProblem(what: string, value: string): string | undefined {
  return TAG_VALUE.test(value.replace(TOKEN, 'token'))
    ? undefined
    : `${what} "${value}" cannot be used as a Datadog tag value (lower-case letters, digits, _ - . / only)`;
}

/** Throws unless `value` is a tag value Datadog keeps as is. */
export function checkTagValue(what: string, value: string): string {
  const problem = tagValueProblem(what, value);
  if (problem !== undefined) throw new ConfigurationError(`monitoring: ${problem}`);
  return value;
}

/** A number as a query writes it (no float noise: 0.1, not 0.10000000000000001). */
export function queryNumber(n: number): string {
  return String(Number(n.toFixed(6)));
}

/** `agg:metric{k:v,...}[ by {k,...}][.as_count()]`: one metric query. */
export class MetricQuery {
  private constructor(
    readonly aggregator: SpaceAggregator,
    readonly metric: string,
    readonly filters: readonly TagFilter[],
    readonly groupBy: readonly string[],
    readonly asCount: boolean,
  ) {
    for (const [key, value] of filters) checkTagValue(`value of tag ${key} on ${metric}`, value);
  }

  /** A query on a metric the worker emits, scoped and grouped by the worker's own tag keys. */
  static worker(
    aggregator: SpaceAggregator,
    metric: MetricName,
    filters: readonly (readonly [TagKey, string])[],
    options: { readonly by?: readonly TagKey[]; readonly asCount?: boolean } = {},
  ): MetricQuery {
    if (!WORKER_METRICS.has(metric)) throw new ConfigurationError(`monitoring: metric "${metric}" is not one the worker emits (METRIC)`);
    const by = options.by ?? [];
    for (const key of [...filters.map(([k]) => k), ...by]) {
      if (!WORKER_TAG_KEYS.has(key))
        throw new ConfigurationError(`monitoring: tag key "${key}" on ${metric} is not one of the worker's TAG keys`);
    }
    return new MetricQuery(aggregator, metric, filters, by, options.asCount ?? false);
  }

  /** A query on an allowed integration metric, always selected by its resource tag (never account-wide). */
  static integration(aggregator: SpaceAggregator, metric: IntegrationMetric, resourceName: string, asCount = false): MetricQuery {
    if (!INTEGRATION.has(metric)) throw new ConfigurationError(`monitoring: metric "${metric.name}" is not in the integration allow-list`);
    return new MetricQuery(aggregator, metric.name, [[metric.resourceTag, resourceName]], [], asCount);
  }

  /** The query text. */
  toString(): string {
    const scope = this.filters.length === 0 ? '{*}' : `{${this.filters.map(([k, v]) => `${k}:${v}`).join(',')}}`;
    const by = this.groupBy.length === 0 ? '' : ` by {${this.groupBy.join(',')}}`;
    return `${this.aggregator}:${this.metric}${scope}${by}${this.asCount ? '.as_count()' : ''}`;
  }
}

/** `numerator / denominator`: a share, such as dead records over all records. */
export class Ratio {
  constructor(
    readonly numerator: MetricQuery,
    readonly denominator: MetricQuery,
  ) {}

  toString(): string {
    return `${this.numerator} / ${this.denominator}`;
  }
}

/** What a monitor evaluates: a query or a ratio of two. */
export type Expression = MetricQuery | Ratio;

/** How a monitor reads its window: the plain value, or its change against `shift` earlier. */
export interface Evaluation {
  readonly form: 'threshold' | 'change' | 'pct_change';
  readonly timeAggregation: TimeAggregator;
  readonly window: Window;
  /** Only for `change` and `pct_change`: how far back the compared window is. */
  readonly shift?: Window;
}

/** `time_agg(window):expression > threshold`: a metric monitor's query. */
export class MonitorQuery {
  constructor(
    readonly evaluation: Evaluation,
    readonly expression: Expression,
    readonly comparator: '>' | '<',
    readonly threshold: number,
  ) {
    const { form, shift } = evaluation;
    if ((form === 'threshold') !== (shift === undefined)) {
      throw new ConfigurationError(`monitoring: a ${form} monitor ${form === 'threshold' ? 'takes no' : 'needs a'} shift window`);
    }
    if (!Number.isFinite(threshold)) throw new ConfigurationError(`monitoring: monitor threshold must be a number, got ${threshold}`);
  }

  /** The metric queries the monitor reads. */
  get metrics(): readonly MetricQuery[] {
    return this.expression instanceof Ratio ? [this.expression.numerator, this.expression.denominator] : [this.expression];
  }

  toString(): string {
    const { form, timeAggregation, window, shift } = this.evaluation;
    const head = form === 'threshold' ? `${timeAggregation}(${window})` : `${form}(${timeAggregation}(${window}),${shift})`;
    return `${head}:${this.expression} ${this.comparator} ${queryNumber(this.threshold)}`;
  }
}
