/**
 * What the local dashboard remembers of the last 15 minutes, from the DogStatsD listener (the metrics the
 * workers really send) and the event sources' invocation reports: jobs per outcome in 10 s buckets, job
 * duration and queue latency samples, and the latest invocations. Bounded: old entries are dropped as new ones arrive.
 */
import type { DogStatsdListener } from '../local/dogstatsd-listener.ts';
import type { InvocationReport } from '../local/event-source.ts';
import { METRIC, OUTCOMES, TAG } from '../runtime/metric-names.ts';
import type { ActivityView, PercentilesView, TimeSeriesView } from './model.ts';

/** The window every chart covers. */
export const WINDOW_MS = 15 * 60_000;
/** Width of one outcome bucket. */
export const BUCKET_MS = 10_000;
const MAX_SAMPLES = 20_000;
const MAX_ACTIVITY = 30;

interface Point {
  readonly at: number;
  readonly value: number;
}

function tagValue(tags: readonly string[], key: string): string | undefined {
  const prefix = `${key}:`;
  return tags.find((tag) => tag.startsWith(prefix))?.slice(prefix.length);
}

function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

/** Listens to the local environment and keeps the dashboard's history. */
export class LocalHistory {
  private readonly outcomes: { at: number; outcome: string }[] = [];
  private readonly duration: Point[] = [];
  private readonly latency: Point[] = [];
  private readonly activity: ActivityView[] = [];
  private readonly unsubscribe: () => void;
  private readonly now: () => number;

  constructor(listener: DogStatsdListener, now: () => number = Date.now) {
    this.now = now;
    this.unsubscribe = listener.subscribe((metric) => {
      const at = this.now();
      if (metric.name === METRIC.processed)
        push(this.outcomes, { at, outcome: tagValue(metric.tags, TAG.outcome) ?? 'unknown' }, MAX_SAMPLES);
      else if (metric.name === METRIC.duration) push(this.duration, { at, value: metric.value }, MAX_SAMPLES);
      else if (metric.name === METRIC.queueLatency) push(this.latency, { at, value: metric.value }, MAX_SAMPLES);
    });
  }

  /** Records one invocation for Recent activity. */
  invocation(report: InvocationReport): void {
    const entry: ActivityView = {
      at: this.now(),
      functionName: report.functionName,
      status: report.status,
      records: report.messageIds.length,
      failed: report.failedIds.length,
      deleted: report.deleted,
      durationMs: report.durationMs,
      coldStart: report.coldStart,
      error: report.error,
    };
    push(this.activity, entry, MAX_ACTIVITY);
  }

  /** The latest invocations, newest first. */
  recent(): ActivityView[] {
    return this.activity.toReversed();
  }

  /** Jobs per outcome in 10 s buckets over the window. */
  outcomeSeries(): TimeSeriesView {
    const now = this.now();
    const first = Math.floor((now - WINDOW_MS) / BUCKET_MS) * BUCKET_MS;
    const buckets = Math.floor((now - first) / BUCKET_MS) + 1;
    const times = Array.from({ length: buckets }, (_, index) => (first + index * BUCKET_MS) / 1000);
    const series: Record<string, number[]> = Object.fromEntries(
      OUTCOMES.map((outcome) => [outcome, Array.from({ length: buckets }, () => 0)]),
    );
    for (const { at, outcome } of this.outcomes) {
      const index = Math.floor((at - first) / BUCKET_MS);
      const values = series[outcome];
      if (values && index >= 0 && index < buckets) values[index] = (values[index] ?? 0) + 1;
    }
    return { times, series };
  }

  /** p50 / p95 of job duration and queue latency over the window. */
  percentiles(): { duration: PercentilesView; latency: PercentilesView } {
    const since = this.now() - WINDOW_MS;
    const of = (points: readonly Point[]): PercentilesView => {
      const sorted = points
        .filter((point) => point.at >= since)
        .map((point) => point.value)
        .toSorted((a, b) => a - b);
      return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) };
    };
    return { duration: of(this.duration), latency: of(this.latency) };
  }

  /** Stops listening. */
  close(): void {
    this.unsubscribe();
  }
}
