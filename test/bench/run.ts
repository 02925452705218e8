/**
 * `npm run bench [-- --quick] [-- --only leak,overhead,delivery,cold-start]`
 *
 * Runs the benchmarks of issue 6, prints one Markdown table per benchmark (medians, min-max, ratios to a
 * baseline measured in the same run) with its targets, and writes everything as JSON to
 * test/bench/results/ (git-ignored; `BENCH_RESULTS_DIR` overrides). `--quick` is the tiny size the test
 * suite runs; the figures worth quoting come from a full run.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './child.ts';
import { renderReport, type Bench, type BenchReport } from './report.ts';

const BENCHES: Readonly<Record<string, () => Promise<Bench>>> = {
  leak: async () => (await import('./leak.ts')).leak,
  overhead: async () => (await import('./overhead.ts')).overhead,
  delivery: async () => (await import('./delivery.ts')).delivery,
  'cold-start': async () => (await import('./cold-start.ts')).coldStart,
};

function parseArgs(argv: readonly string[]): { quick: boolean; only: string[] } {
  let quick = false;
  let only = Object.keys(BENCHES);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--quick') quick = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? (argv[++i] ?? '') : arg.slice('--only='.length);
      only = value
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean);
    } else if (arg === '--help' || arg === '-h') {
      console.log(`usage: npm run bench -- [--quick] [--only ${Object.keys(BENCHES).join(',')}]`);
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${arg}`);
    }
  }
  for (const name of only)
    if (!(name in BENCHES)) throw new Error(`unknown benchmark "${name}" (known: ${Object.keys(BENCHES).join(', ')})`);
  return { quick, only };
}

const { quick, only } = parseArgs(process.argv.slice(2));
const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};
const machine = {
  node: process.version,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.availableParallelism(),
  memoryMb: Math.round(os.totalmem() / 1024 / 1024),
};
console.log(`# serverless-jobs benchmarks${quick ? ' (--quick: tiny sizes, not figures to quote)' : ''}\n`);
console.log(`Node.js ${machine.node}, ${machine.platform}, ${machine.cores} x ${machine.cpu}, ${machine.memoryMb} MB\n`);

const reports: BenchReport[] = [];
const failures: { name: string; error: string }[] = [];
const started = Date.now();
for (const name of only) {
  const benchStarted = Date.now();
  try {
    const bench = await (BENCHES[name] as () => Promise<Bench>)();
    const report = await bench({ quick, log });
    reports.push(report);
    console.log(renderReport(report));
    log(`${name}: ${((Date.now() - benchStarted) / 1000).toFixed(1)} s`);
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    failures.push({ name, error: message });
    console.log(`### ${name}: FAILED\n\n\`\`\`\n${message}\n\`\`\`\n`);
  }
}

const resultsDir = process.env.BENCH_RESULTS_DIR ?? path.join(REPO_ROOT, 'test', 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const stamp = new Date()
  .toISOString()
  .replaceAll(':', '-')
  .replace(/\.\d+Z$/, 'Z');
const json = JSON.stringify({ startedAt: new Date(started).toISOString(), quick, machine, reports, failures }, null, 2);
const file = path.join(resultsDir, `bench-${stamp}${quick ? '-quick' : ''}.json`);
writeFileSync(file, json);
writeFileSync(path.join(resultsDir, quick ? 'latest-quick.json' : 'latest.json'), json);
log(`results: ${path.relative(process.cwd(), file)} (${((Date.now() - started) / 1000).toFixed(1)} s in all)`);
if (failures.length > 0) process.exitCode = 1;
