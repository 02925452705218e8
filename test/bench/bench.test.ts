/**
 * `npm run bench -- --quick` runs every benchmark at a tiny size and prints its table. Nothing here is
 * timed: speed is what the benchmarks report, not what the tests assert.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from './report.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Runs `npm run bench -- <args>` and collects its output. */
function bench(args: readonly string[], resultsDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'bench', '--', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, BENCH_RESULTS_DIR: resultsDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The lines of the section that starts with `### <title>`. */
function section(output: string, title: string): string[] {
  const lines = output.split('\n');
  const start = lines.findIndex((line) => line === `### ${title}`);
  if (start === -1) return [];
  const end = lines.findIndex((line, i) => i > start && line.startsWith('### '));
  return lines.slice(start, end === -1 ? undefined : end);
}

const TITLES = {
  leak: 'Leak: heap, RSS and descriptors over warm invocations',
  overhead: 'Overhead per record (10-record batches)',
  delivery: 'Metric delivery to a DogStatsD listener in another process',
  'cold-start': 'Cold start: bundle size and fresh-process import time',
} as const;

describe('npm run bench -- --quick', () => {
  const resultsDir = mkdtempSync(path.join(tmpdir(), 'bench-results-'));
  let run: { code: number | null; stdout: string; stderr: string };

  beforeAll(async () => {
    run = await bench(['--quick'], resultsDir);
  }, 180_000);
  afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

  it('exits successfully', () => {
    expect(run.stdout).not.toContain('FAILED');
    expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr.slice(-2000) }).toEqual({ code: 0, stderr: '' });
  });

  it.each(Object.entries(TITLES))('prints the %s table with its targets', (_name, title) => {
    const lines = section(run.stdout, title);
    expect(lines.length).toBeGreaterThan(0);
    const tableRows = lines.filter((line) => line.startsWith('| '));
    // At least a header and one row of results, and the targets table.
    expect(tableRows.length).toBeGreaterThanOrEqual(3);
    expect(lines.some((line) => line.startsWith('| target'))).toBe(true);
  });

  it('writes every report to a JSON file in the results directory', () => {
    const files = readdirSync(resultsDir).filter((file) => file.endsWith('.json'));
    expect(files).toContain('latest-quick.json');
    const results = JSON.parse(readFileSync(path.join(resultsDir, 'latest-quick.json'), 'utf8')) as {
      quick: boolean;
      reports: BenchReport[];
      failures: unknown[];
    };
    expect(results.quick).toBe(true);
    expect(results.failures).toEqual([]);
    expect(results.reports.map((report) => report.name)).toEqual(Object.keys(TITLES));
  });

  it('shows the seed way running out of descriptors while the worker keeps a constant count', () => {
    const results = JSON.parse(readFileSync(path.join(resultsDir, 'latest-quick.json'), 'utf8')) as { reports: BenchReport[] };
    const leak = results.reports.find((report) => report.name === 'leak');
    const variants = leak?.data as { id: string; samples: { fds: number }[] }[];
    const fds = (id: string): number[] => variants.find((variant) => variant.id === id)?.samples.map((sample) => sample.fds) ?? [];
    expect(Math.max(...fds('seed'))).toBeGreaterThanOrEqual(1023);
    expect(new Set(fds('worker')).size).toBe(1);
  });
});

describe('npm run bench with a bad argument', () => {
  it('names the unknown benchmark and exits with an error', async () => {
    const resultsDir = mkdtempSync(path.join(tmpdir(), 'bench-results-'));
    try {
      const result = await bench(['--only', 'no-such-bench'], resultsDir);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('unknown benchmark "no-such-bench"');
    } finally {
      rmSync(resultsDir, { recursive: true, force: true });
    }
  }, 60_000);
});
