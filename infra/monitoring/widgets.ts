/**
 * Widget builders of the dashboard: timeseries, query value, toplist, note and group widgets from named
 * {@link MetricQuery} series. Rule: every name a formula uses is one of its request's series (checked here).
 */
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import type { AboveThreshold } from './options.ts';
import type { MetricQuery } from './query.ts';
import type {
  DisplayType,
  GroupWidgetDefinition,
  LeafWidgetDefinition,
  MetricDataQuery,
  NoteWidgetDefinition,
  QueryValueWidgetDefinition,
  ScalarAggregator,
  TimeseriesWidgetDefinition,
  ToplistWidgetDefinition,
  Widget,
  WidgetFormula,
  WidgetMarker,
} from './types.ts';

/** A named query of a widget request; formulas refer to it by name. */
export interface Series {
  readonly name: string;
  readonly query: MetricQuery;
}

/** Makes a series and records its query (the dashboard's queries are listed in {@link BuiltDashboard}). */
export type SeriesOf = (name: string, query: MetricQuery) => Series;

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/g;

/** Throws unless every name a formula uses is one of the request's series. */
function checkFormulas(title: string, series: readonly Series[], formulas: readonly WidgetFormula[]): void {
  const names = new Set(series.map((s) => s.name));
  for (const { formula } of formulas) {
    for (const [name] of formula.matchAll(IDENTIFIER)) {
      if (!names.has(name))
        throw new ConfigurationError(`monitoring: widget "${title}": formula "${formula}" uses unknown query "${name}"`);
    }
  }
}

function metricQueries(series: readonly Series[]): MetricDataQuery[] {
  return series.map((s) => ({ data_source: 'metrics', name: s.name, query: s.query.toString() }));
}

/** A timeseries widget of named series, drawn as `display`, with optional threshold markers. */
export function timeseries(
  title: string,
  series: readonly Series[],
  formulas: readonly WidgetFormula[],
  display: DisplayType = 'line',
  lines: readonly WidgetMarker[] = [],
): Widget<TimeseriesWidgetDefinition> {
  checkFormulas(title, series, formulas);
  return {
    definition: {
      type: 'timeseries',
      title,
      show_legend: true,
      legend_layout: 'auto',
      requests: [{ response_format: 'timeseries', queries: metricQueries(series), formulas, display_type: display }],
      ...(lines.length > 0 ? { markers: lines } : {}),
    },
  };
}

/** A query value widget: one number, red above `redAbove` when given. */
export function queryValue(
  title: string,
  series: readonly Series[],
  aggregator: ScalarAggregator,
  formula: WidgetFormula,
  redAbove?: number,
): Widget<QueryValueWidgetDefinition> {
  checkFormulas(title, series, [formula]);
  return {
    definition: {
      type: 'query_value',
      title,
      autoscale: true,
      precision: 0,
      requests: [
        {
          response_format: 'scalar',
          queries: metricQueries(series).map((m) => ({ ...m, aggregator })),
          formulas: [formula],
          ...(redAbove === undefined
            ? {}
            : {
                conditional_formats: [
                  { comparator: '>', value: redAbove, palette: 'white_on_red' },
                  { comparator: '<=', value: redAbove, palette: 'white_on_green' },
                ],
              }),
        },
      ],
    },
  };
}

/** A toplist widget of one series. */
export function toplist(title: string, series: Series, formula: WidgetFormula): Widget<ToplistWidgetDefinition> {
  checkFormulas(title, [series], [formula]);
  return {
    definition: {
      type: 'toplist',
      title,
      requests: [
        {
          response_format: 'scalar',
          queries: metricQueries([series]).map((m) => ({ ...m, aggregator: 'sum' })),
          formulas: [formula],
        },
      ],
    },
  };
}

/** A markdown note widget. */
export function note(content: string): Widget<NoteWidgetDefinition> {
  return { definition: { type: 'note', content, background_color: 'yellow', font_size: '14', text_align: 'left', show_tick: false } };
}

/** A titled group of widgets. */
export function group(
  title: string,
  widgets: readonly Widget<LeafWidgetDefinition>[],
  color: GroupWidgetDefinition['background_color'],
): Widget<GroupWidgetDefinition> {
  return { definition: { type: 'group', title, layout_type: 'ordered', show_title: true, background_color: color, widgets } };
}

/** Dashed lines at a threshold's alert (and warning) value. */
export function thresholdMarkers(label: string, t: AboveThreshold, scale = 1): WidgetMarker[] {
  const out: WidgetMarker[] = [{ value: `y = ${t.critical * scale}`, display_type: 'error dashed', label: `${label} alert` }];
  if (t.warning !== undefined) out.push({ value: `y = ${t.warning * scale}`, display_type: 'warning dashed', label: `${label} warning` });
  return out;
}
