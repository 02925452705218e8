/**
 * The leak check's printout: a compact table of sampled invocations (heap, RSS, open descriptors), the slope
 * of each figure against its threshold, and a verdict that says what to do when it fails.
 */
import { renderTable } from '../cli/table.ts';
import type { SoakResult } from './run-soak.ts';
import type { FigureVerdict } from './slopes.ts';

/** Rows of the sampled table (first, last and evenly spaced between). */
export const SAMPLED_ROWS = 12;

const MIB = 1024 * 1024;

function mib(bytes: number | undefined): string | number {
  return bytes === undefined ? '-' : Number((bytes / MIB).toFixed(1));
}

function perInvocation(verdict: FigureVerdict): string {
  if (verdict.figure === 'fds') return `${verdict.slope.toFixed(4)} fds/invocation (threshold ${verdict.threshold})`;
  return `${verdict.slope.toFixed(1)} B/invocation (threshold ${verdict.threshold} B)`;
}

const LABEL: Readonly<Record<FigureVerdict['figure'], string>> = {
  heap: 'heap',
  rss: 'rss',
  fds: 'open fds',
};

/** The table of sampled invocations (at most `rows` of them, evenly spaced, first and last included). */
export function renderSamples(result: SoakResult, rows = SAMPLED_ROWS): string {
  const { samples } = result;
  const count = samples.at.length;
  const indexes = new Set<number>();
  const shown = count > 0 ? rows : 0;
  for (let row = 0; row < shown; row++) indexes.add(Math.round((row * (count - 1)) / Math.max(1, rows - 1)));
  const table = [...indexes].map((index) => [
    samples.at[index] ?? '-',
    mib(samples.heap[index]),
    mib(samples.rss[index]),
    samples.fds[index] ?? '-',
  ]);
  return renderTable(['invocation', 'heap MiB', 'rss MiB', 'open fds'], table);
}

/** Why the soak failed, one line each, saying what to do. */
export function failureReasons(result: SoakResult): string[] {
  const reasons: string[] = [];
  for (const verdict of result.verdicts) {
    if (!verdict.ok) {
      reasons.push(
        `${LABEL[verdict.figure]} grows ${perInvocation(verdict)}: something is kept per job and never released ` +
          '(a client, socket or timer created per run); create it once at module scope, or close it when the job ends',
      );
    }
  }
  if (result.failedRecords > 0) {
    reasons.push(`${result.failedRecords} records failed: a soak measures a job that succeeds; check the payload (--payload @file)`);
  }
  for (const error of result.invocationErrors) reasons.push(`${error}: fix the job (or its module's init) before measuring it`);
  if (result.metricLines.invocations < result.invocations) {
    reasons.push(
      `only ${result.metricLines.invocations} of ${result.invocations} invocations sent their runtime metrics: the worker's metrics flush is not working`,
    );
  }
  return reasons;
}

/** The whole printout. */
export function renderSoak(result: SoakResult): string {
  const lines = [
    `soak ${result.jobType}: ${result.invocations} invocations of ${result.batchSize} records in one warm sandbox ` +
      `(${result.memorySizeMb} MB), ${(result.durationMs / 1000).toFixed(1)} s, ` +
      `${(result.durationMs / Math.max(1, result.invocations)).toFixed(2)} ms per invocation`,
    '',
    renderSamples(result),
    '',
    ...result.verdicts.map(
      (verdict) =>
        `${verdict.ok ? 'ok  ' : 'FAIL'}  ${LABEL[verdict.figure].padEnd(10)} ${perInvocation(verdict)}, least squares over ${verdict.samples} samples after warm-up`,
    ),
    `figures after a full garbage collection; metric lines received: ${result.metricLines.received}, ` +
      `dropped by the extension's rules: ${result.metricLines.dropped}`,
    '',
  ];
  const reasons = failureReasons(result);
  if (reasons.length === 0) lines.push(`verdict: flat (no figure grows over its threshold)`);
  else lines.push('verdict: LEAK OR FAILURE', ...reasons.map((reason) => `  - ${reason}`));
  return lines.join('\n');
}
