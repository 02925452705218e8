/**
 * Line charts with uPlot (bundled, no CDN). One chart per key, kept across updates: a snapshot only
 * replaces its data. Each chart's container says how many points it shows (`data-points`), which the
 * browser tests read to see a chart move.
 */
// oxlint-disable-next-line import/default -- uPlot's ES module build has a default export; its type declarations say so with `export =`
import uPlot from 'uplot';
import type { TimeSeriesView } from '../model.ts';
import { el } from './dom.ts';

const WINDOW_SECONDS = 15 * 60;
const COLORS = ['#2f7d32', '#e0a100', '#c62828', '#1565c0', '#6a1b9a', '#00838f'];
const charts = new Map<string, { plot: uPlot; names: string; box: HTMLElement }>();

/** How a chart shows its values. */
export interface ChartOptions {
  readonly title: string;
  readonly width?: number;
  readonly height?: number;
  /** Formats a value on the y axis. */
  readonly format?: (value: number) => string;
  /** Series drawn on a second y axis (right). */
  readonly rightAxis?: readonly string[];
}

function aligned(data: TimeSeriesView, names: readonly string[]): uPlot.AlignedData {
  return [data.times.slice(), ...names.map((name) => (data.series[name] ?? []).slice())];
}

function build(data: TimeSeriesView, names: readonly string[], options: ChartOptions, box: HTMLElement): uPlot {
  const format = options.format ?? ((value: number) => String(value));
  const right = new Set(options.rightAxis ?? []);
  return new uPlot(
    {
      title: options.title,
      width: options.width ?? 560,
      height: options.height ?? 200,
      // The x axis always spans the last 15 minutes, so one point or a quiet worker still reads as a timeline.
      scales: {
        x: { time: true, range: (_plot, _min, max) => [Math.min(max, Date.now() / 1000) - WINDOW_SECONDS, Date.now() / 1000] },
        left: {},
        right: {},
      },
      series: [
        {},
        ...names.map((name, index) => ({
          label: name,
          stroke: COLORS[index % COLORS.length] ?? '#333',
          width: 2,
          scale: right.has(name) ? 'right' : 'left',
          spanGaps: true,
        })),
      ],
      axes: [
        {},
        { scale: 'left', values: (_plot: uPlot, ticks: number[]) => ticks.map(format) },
        ...(right.size > 0 ? [{ scale: 'right', side: 1 as const, grid: { show: false } }] : []),
      ],
    },
    aligned(data, names),
    box,
  );
}

/** A chart for `key` showing `data` (created once, updated afterwards). */
export function chart(key: string, data: TimeSeriesView, options: ChartOptions): HTMLElement {
  const names = Object.keys(data.series);
  const signature = names.join('\u0000');
  const known = charts.get(key);
  if (known && known.names === signature) {
    known.plot.setData(aligned(data, names));
    known.box.dataset.points = String(data.times.length);
    return known.box;
  }
  known?.plot.destroy();
  const box = el('div', { class: 'chart', dataset: { chart: key, points: String(data.times.length) } });
  const plot = build(data, names, options, box);
  charts.set(key, { plot, names: signature, box });
  return box;
}
