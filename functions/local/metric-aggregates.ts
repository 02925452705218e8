/**
 * Per-series aggregates of the metrics the local DogStatsD listener records: count, sum, min, max, last,
 * p50 and p95 by name + tags. Percentiles come from up to `maxSamples` values per series (a uniform
 * reservoir beyond that); a query over several series merges their samples.
 */
import type { MetricKind, ParsedMetric } from './dogstatsd-parser.ts';

/** The aggregate of one series (name + tags) or of several merged. */
export interface MetricAggregate {
  readonly name: string;
  /** The series' tags (empty for a merged query). */
  readonly tags: readonly string[];
  readonly kind: MetricKind;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** The most recent value. */
  readonly last: number;
  readonly p50: number;
  readonly p95: number;
}

/** A filter on tags: every entry must be present as `key:value`. */
export type TagFilter = Readonly<Record<string, string>>;

interface Series {
  readonly name: string;
  readonly tags: readonly string[];
  readonly tagSet: ReadonlySet<string>;
  kind: MetricKind;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  samples: number[];
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] ?? Number.NaN;
}

function matches(tagSet: ReadonlySet<string>, where: TagFilter | undefined): boolean {
  return Object.entries(where ?? {}).every(([key, value]) => tagSet.has(`${key}:${value}`));
}

/** The series of every recorded metric. */
export class MetricAggregates {
  private readonly series = new Map<string, Series>();

  /** `maxSamples`: values kept per series for p50/p95. */
  constructor(private readonly maxSamples: number) {}

  record(metric: ParsedMetric): void {
    const { name, tags, kind } = metric;
    const key = `${name}\u0000${tags.join(',')}`;
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { name, tags, tagSet: new Set(tags), kind, count: 0, sum: 0, min: Infinity, max: -Infinity, last: Number.NaN, samples: [] };
      this.series.set(key, entry);
    }
    entry.kind = metric.kind;
    entry.count += 1;
    entry.sum += metric.value;
    entry.min = Math.min(entry.min, metric.value);
    entry.max = Math.max(entry.max, metric.value);
    entry.last = metric.value;
    if (entry.samples.length < this.maxSamples) {
      entry.samples.push(metric.value);
    } else {
      const slot = Math.floor(Math.random() * entry.count);
      if (slot < this.maxSamples) entry.samples[slot] = metric.value;
    }
  }

  /** Every series' aggregate. */
  all(): MetricAggregate[] {
    return [...this.series.values()].map((entry) => this.aggregate([entry], entry.tags));
  }

  /** The merged aggregate of every series of `name` whose tags include `where`; undefined if none. */
  query(name: string, where?: TagFilter): MetricAggregate | undefined {
    const parts = this.matching(name, where);
    const first = parts[0];
    if (first === undefined) return undefined;
    return this.aggregate(parts, parts.length === 1 ? first.tags : []);
  }

  /** The merged count of `name` (with tags `where`). */
  count(name: string, where?: TagFilter): number {
    return this.matching(name, where).reduce((sum, entry) => sum + entry.count, 0);
  }

  /** The merged count of `name` per value of tag `key` ('' for series without it). */
  countBy(name: string, key: string, where?: TagFilter): Map<string, number> {
    const counts = new Map<string, number>();
    const prefix = `${key}:`;
    for (const entry of this.matching(name, where)) {
      const tag = entry.tags.find((candidate) => candidate.startsWith(prefix));
      const value = tag === undefined ? '' : tag.slice(prefix.length);
      counts.set(value, (counts.get(value) ?? 0) + entry.count);
    }
    return counts;
  }

  clear(): void {
    this.series.clear();
  }

  private matching(name: string, where: TagFilter | undefined): Series[] {
    return [...this.series.values()].filter((entry) => entry.name === name && matches(entry.tagSet, where));
  }

  private aggregate(parts: readonly Series[], tags: readonly string[]): MetricAggregate {
    const samples = parts.flatMap((entry) => entry.samples).toSorted((a, b) => a - b);
    return {
      name: parts[0]?.name ?? '',
      tags,
      kind: parts[0]?.kind ?? 'distribution',
      count: parts.reduce((sum, entry) => sum + entry.count, 0),
      sum: parts.reduce((sum, entry) => sum + entry.sum, 0),
      min: Math.min(...parts.map((entry) => entry.min)),
      max: Math.max(...parts.map((entry) => entry.max)),
      last: parts.reduce((latest, entry) => (entry.count > 0 ? entry.last : latest), Number.NaN),
      p50: quantile(samples, 0.5),
      p95: quantile(samples, 0.95),
    };
  }
}
