/**
 * TypeScript shapes of the Datadog API v1 JSON this module produces: the subset of the dashboard
 * (`POST /api/v1/dashboard`) and monitor (`POST /api/v1/monitor`) bodies that the definitions use.
 *
 * Field names are the API's own (snake_case), so a definition serialises to a body the API, the
 * `Datadog::Dashboards::Dashboard` registry type (`DashboardDefinition`) and
 * `@datadog/datadog-api-client` all accept as is. Monitors are turned into the registry type's
 * PascalCase properties by `cfn.ts`.
 *
 * Datadog's models are camelCase classes, not these wire shapes, so only their enumerations are taken
 * from them (type-only: nothing of the client loads at synth); `test/monitoring/datadog-models.test.ts`
 * reads every body with the models themselves.
 */
import type { v1 } from '@datadog/datadog-api-client';

/** A string enum of Datadog's v1 models, without the client's placeholder for values it does not know. */
type Known<T> = Extract<T, string>;

/** How a timeseries request is drawn. */
export type DisplayType = Known<v1.WidgetDisplayType>;

/** How a scalar (query value, toplist) query reduces its points to one number. */
export type ScalarAggregator = Known<v1.FormulaAndFunctionMetricAggregation>;

/** One metric query of a formulas-and-functions request (`data_source: metrics`). */
export interface MetricDataQuery {
  readonly data_source: Known<v1.FormulaAndFunctionMetricDataSource>;
  /** The name formulas refer to (`query1`, `dead`, ...). */
  readonly name: string;
  /** A Datadog metric query: `agg:metric{tag:value,...} by {tag}.function()`. */
  readonly query: string;
}

/** A metric query reduced to a scalar (query value and toplist widgets). */
export interface ScalarMetricDataQuery extends MetricDataQuery {
  readonly aggregator: ScalarAggregator;
}

/** An arithmetic expression over query names (`dead / processed`). */
export interface WidgetFormula {
  readonly formula: string;
  readonly alias?: string;
  /** Toplists and query values: how many groups to show. */
  readonly limit?: { readonly count: number; readonly order: Known<v1.QuerySortOrder> };
}

/** A timeseries request in the formulas-and-functions form. */
export interface TimeseriesRequest {
  readonly response_format: 'timeseries';
  readonly queries: readonly MetricDataQuery[];
  readonly formulas: readonly WidgetFormula[];
  readonly display_type: DisplayType;
}

/** A scalar request in the formulas-and-functions form. */
export interface ScalarRequest {
  readonly response_format: 'scalar';
  readonly queries: readonly ScalarMetricDataQuery[];
  readonly formulas: readonly WidgetFormula[];
  readonly conditional_formats?: readonly ConditionalFormat[];
}

/** Colours a query value by comparison with a number. */
export interface ConditionalFormat {
  readonly comparator: Known<v1.WidgetComparator>;
  readonly value: number;
  readonly palette: Known<v1.WidgetPalette>;
}

/** A horizontal line on a timeseries (a monitor threshold, say): `value` is `y = <number>`. */
export interface WidgetMarker {
  readonly value: string;
  readonly display_type: 'error dashed' | 'warning dashed' | 'ok dashed' | 'info dashed';
  readonly label?: string;
}

/** `type: timeseries`. */
export interface TimeseriesWidgetDefinition {
  readonly type: 'timeseries';
  readonly title: string;
  readonly show_legend: boolean;
  readonly legend_layout?: Known<v1.TimeseriesWidgetLegendLayout>;
  readonly requests: readonly TimeseriesRequest[];
  readonly markers?: readonly WidgetMarker[];
  readonly yaxis?: { readonly min?: string; readonly max?: string; readonly scale?: 'linear' | 'log' | 'sqrt' };
}

/** `type: query_value`. */
export interface QueryValueWidgetDefinition {
  readonly type: 'query_value';
  readonly title: string;
  readonly requests: readonly ScalarRequest[];
  readonly autoscale: boolean;
  readonly precision: number;
}

/** `type: toplist`. */
export interface ToplistWidgetDefinition {
  readonly type: 'toplist';
  readonly title: string;
  readonly requests: readonly ScalarRequest[];
}

/** `type: note`: markdown text. */
export interface NoteWidgetDefinition {
  readonly type: 'note';
  readonly content: string;
  readonly background_color?: 'white' | 'gray' | 'yellow' | 'blue' | 'transparent';
  readonly font_size?: '12' | '14' | '16';
  readonly text_align?: Known<v1.WidgetTextAlign>;
  readonly show_tick?: boolean;
}

/** `type: group`: a titled, collapsible set of widgets. Groups do not nest. */
export interface GroupWidgetDefinition {
  readonly type: 'group';
  readonly title: string;
  readonly layout_type: 'ordered';
  readonly show_title: boolean;
  readonly background_color?:
    | 'vivid_blue'
    | 'vivid_purple'
    | 'vivid_pink'
    | 'vivid_orange'
    | 'vivid_yellow'
    | 'vivid_green'
    | 'blue'
    | 'purple'
    | 'gray'
    | 'white';
  readonly widgets: readonly Widget<LeafWidgetDefinition>[];
}

/** Any widget that may sit inside a group. */
export type LeafWidgetDefinition = TimeseriesWidgetDefinition | QueryValueWidgetDefinition | ToplistWidgetDefinition | NoteWidgetDefinition;

/** Any widget definition. */
export type WidgetDefinition = LeafWidgetDefinition | GroupWidgetDefinition;

/** A widget: its definition (ordered layouts with `reflow_type: auto` need no layout). */
export interface Widget<D extends WidgetDefinition = WidgetDefinition> {
  readonly definition: D;
}

/** A dashboard body (`POST /api/v1/dashboard`). */
export interface DashboardDefinition {
  readonly title: string;
  readonly description: string;
  readonly layout_type: 'ordered';
  readonly reflow_type: 'auto';
  readonly widgets: readonly Widget<GroupWidgetDefinition | NoteWidgetDefinition>[];
  readonly notify_list: readonly string[];
}

/** Alert and warning thresholds; the alert threshold must equal the number in the query. */
export interface MonitorThresholdValues {
  readonly critical: number;
  readonly warning?: number;
  readonly critical_recovery?: number;
  readonly warning_recovery?: number;
}

/** The monitor options this module sets (`options` of `POST /api/v1/monitor`). */
export interface MonitorOptions {
  readonly thresholds: MonitorThresholdValues;
  readonly notify_no_data: boolean;
  /** Minutes without data before a no-data notification; only with `notify_no_data`. */
  readonly no_data_timeframe?: number;
  readonly require_full_window: boolean;
  /** Seconds to wait before evaluating: 900 for metrics crawled from CloudWatch. */
  readonly evaluation_delay?: number;
  readonly include_tags: boolean;
  readonly renotify_interval?: number;
  readonly new_group_delay?: number;
}

/** Monitor priority, 1 (highest) to 5. */
export type MonitorPriority = 1 | 2 | 3 | 4 | 5;

/** A monitor body (`POST /api/v1/monitor`). Every monitor here is a metric `query alert`. */
export interface MonitorDefinition {
  readonly name: string;
  readonly type: 'query alert';
  readonly query: string;
  readonly message: string;
  readonly tags: readonly string[];
  readonly priority: MonitorPriority;
  readonly options: MonitorOptions;
}
