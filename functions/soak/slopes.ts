/**
 * The leak check's arithmetic: least-squares slopes of sampled figures and the verdict against thresholds.
 * Figures are taken after a full garbage collection (see `soak-entry.ts`), so they hold what is retained,
 * not garbage. The first {@link WARM_UP_SHARE} of the invocations (at least {@link MIN_WARM_UP}) are left
 * out: the first invocations load modules, compile code and open keep-alive connections, growth that stops.
 */

/** What the soak measures once per invocation. */
export type SoakFigure = 'heap' | 'rss' | 'fds';

/** Growth per invocation above which a figure fails the check. */
export interface SoakThresholds {
  /** Bytes of V8 heap in use plus memory held outside it by V8 objects (Buffers), after a full collection, per invocation. */
  readonly heap: number;
  /** Bytes of resident set per invocation. */
  readonly rss: number;
  /** Open file descriptors per invocation (0.01 = one descriptor every 100 invocations). */
  readonly fds: number;
}

/**
 * The default thresholds. RSS gets more room than the heap: the allocator keeps growing it slowly for a while
 * after the warm-up, without a leak; a leak of JavaScript objects or Buffers shows in the heap figure first.
 */
export const DEFAULT_SOAK_THRESHOLDS: SoakThresholds = Object.freeze({ heap: 1024, rss: 16_384, fds: 0.01 });
/** Share of the invocations treated as warm-up. */
export const WARM_UP_SHARE = 0.5;
/** Fewest invocations treated as warm-up. */
export const MIN_WARM_UP = 10;

/** The slope of one figure and whether it passes. */
export interface FigureVerdict {
  readonly figure: SoakFigure;
  /** Growth per invocation (bytes, or descriptors). */
  readonly slope: number;
  readonly threshold: number;
  /** Samples the slope was taken over (after the warm-up). */
  readonly samples: number;
  readonly ok: boolean;
}

/** The least-squares slope of `ys` over `xs` (0 for fewer than two points or no spread in `xs`). */
export function leastSquaresSlope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  let sumX = 0;
  let sumY = 0;
  for (let i = 0; i < n; i++) {
    sumX += xs[i] ?? 0;
    sumY += ys[i] ?? 0;
  }
  const meanX = sumX / n;
  const meanY = sumY / n;
  let covariance = 0;
  let variance = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - meanX;
    covariance += dx * ((ys[i] ?? 0) - meanY);
    variance += dx * dx;
  }
  return variance === 0 ? 0 : covariance / variance;
}

/** How many of the first invocations are warm-up, out of `invocations`. */
export function warmUpInvocations(invocations: number): number {
  return Math.min(Math.max(MIN_WARM_UP, Math.ceil(invocations * WARM_UP_SHARE)), Math.floor(invocations / 2));
}

/**
 * Judges one figure: `at[i]` is the invocation (1-based) of `values[i]`; samples within the warm-up of
 * `invocations` are left out.
 */
export function judgeFigure(
  figure: SoakFigure,
  at: readonly number[],
  values: readonly number[],
  invocations: number,
  threshold: number,
): FigureVerdict {
  const warmUp = warmUpInvocations(invocations);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < Math.min(at.length, values.length); i++) {
    if ((at[i] ?? 0) <= warmUp) continue;
    xs.push(at[i] ?? 0);
    ys.push(values[i] ?? 0);
  }
  const slope = leastSquaresSlope(xs, ys);
  return { figure, slope, threshold, samples: xs.length, ok: slope <= threshold };
}
