/**
 * Benchmark 4, cold start: the worker bundle built exactly as the CDK stack builds it (the esbuild options
 * come from infra/bundling.ts, shared, not copied), its size on the success path, and the time a fresh
 * Node.js 24 process takes to import it, as a ratio to an empty module. Also: zod vs zod/mini for one
 * schema, the SQS client bundled vs loaded from node_modules, and a naive single-file bundle.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { bundleWorker, WORKER_BUILD_OPTIONS } from '../../infra/bundling.ts';
import { NODE_BIN, raisePriority, REPO_ROOT } from './child.ts';
import { workerEnv } from './fixtures.ts';
import { bytes, int, num, ratio, type Bench, type BenchReport } from './report.ts';
import { median, range, shuffled } from './stats.ts';

/** Targets of issue 6. */
const MAX_RATIO = 1.25;
const MAX_START_BYTES = 150 * 1024;

/** Prints how long `import(argv[2])` took and when it finished, in ms since the process started. */
const HARNESS = `const started = performance.now();
await import(process.argv[2]);
const done = performance.now();
process.stdout.write(JSON.stringify({ importMs: done - started, readyMs: done }));
`;

interface Timing {
  readonly wallMs: number;
  readonly importMs: number;
  readonly readyMs: number;
}

/** Starts a fresh process that imports `target`, and times it from spawn to exit. */
function timeImport(harness: string, target: string, env: Record<string, string>): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(NODE_BIN, [harness, target], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    raisePriority(child.pid);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`importing ${target} failed (exit ${code}): ${err.slice(0, 500)}`));
      try {
        const { importMs, readyMs } = JSON.parse(out) as { importMs: number; readyMs: number };
        resolve({ wallMs, importMs, readyMs });
      } catch {
        reject(new Error(`importing ${target} printed no timing: ${out.slice(0, 200)} ${err.slice(0, 300)}`));
      }
    });
  });
}

/** Bytes of a minified ESM bundle of `contents` (resolved from the repository). */
async function bundledBytes(contents: string): Promise<number> {
  const result = await build({
    stdin: { contents, resolveDir: REPO_ROOT, loader: 'ts' },
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles.reduce((sum, file) => sum + file.contents.byteLength, 0);
}

const ZOD_SCHEMA = `
  export const schema = z.object({
    to: z.email(), subject: z.string().min(1).max(998), text: z.string().optional(), html: z.string().optional(),
  }).refine((p) => p.text !== undefined || p.html !== undefined, { message: 'one of text or html is required' });`;
const ZOD_MINI_SCHEMA = `
  export const schema = z.object({
    to: z.email(), subject: z.string().check(z.minLength(1), z.maxLength(998)), text: z.optional(z.string()), html: z.optional(z.string()),
  }).check(z.refine((p) => p.text !== undefined || p.html !== undefined, { message: 'one of text or html is required' }));`;

/** A naive single-file worker: middy, hot-shots, Powertools batch + logger and zod, all loaded at start. */
const NAIVE_ENTRY = `
import middy from '@middy/core';
import { StatsD } from 'hot-shots';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import { SQSClient } from '@aws-sdk/client-sqs';
const logger = new Logger({ serviceName: 'naive' });
const statsd = new StatsD({ maxBufferSize: 8192 });
const schema = z.object({ type: z.string(), payload: z.unknown() });
const processor = new BatchProcessor(EventType.SQS);
const sqs = new SQSClient({});
export const handler = middy().handler((event, context) =>
  processPartialResponse(event, async (record) => { schema.parse(JSON.parse(record.body)); statsd.distribution('jobs.processed', 1); logger.debug('done', { sqs: typeof sqs }); }, processor, { context }));
`;

/** The worker's own esbuild options, for one entry written to one file (no splitting). */
function single(entry: string, outdir: string): BuildOptions {
  return { ...WORKER_BUILD_OPTIONS, entryPoints: { index: entry }, splitting: false, sourcemap: false, outdir };
}

export const coldStart: Bench = async ({ quick, log }): Promise<BenchReport> => {
  const processes = quick ? 5 : 25;
  // Inside the repository, so that the harness resolves @aws-sdk/client-sqs from node_modules; the folder is
  // git-ignored, so a fresh checkout running this benchmark alone has to make it.
  const workRoot = path.join(REPO_ROOT, 'test', 'bench', 'results');
  mkdirSync(workRoot, { recursive: true });
  const dir = mkdtempSync(path.join(workRoot, '.cold-start-'));
  try {
    log('cold start: bundling the worker with infra/bundling.ts');
    const bundle = bundleWorker(path.join(dir, 'worker'));
    const harness = path.join(dir, 'harness.mjs');
    writeFileSync(harness, HARNESS);
    const empty = path.join(dir, 'empty.mjs');
    writeFileSync(empty, '');

    // The SQS client as one bundle, with the worker's own options (no splitting: one file).
    const sqsEntry = path.join(dir, 'sqs-entry.ts');
    writeFileSync(sqsEntry, "export * from '@aws-sdk/client-sqs';\n");
    await build(single(sqsEntry, path.join(dir, 'sqs-bundle')));
    const naiveEntry = path.join(dir, 'naive-entry.ts');
    writeFileSync(naiveEntry, NAIVE_ENTRY);
    await build(single(naiveEntry, path.join(dir, 'naive-bundle')));
    const naiveBytes = (await build({ ...single(naiveEntry, path.join(dir, 'naive-size')), write: false })).outputFiles
      .filter((file) => file.path.endsWith('.mjs'))
      .reduce((sum, file) => sum + file.contents.byteLength, 0);
    const [zodBytes, zodMiniBytes] = await Promise.all([
      bundledBytes(`import { z } from 'zod';${ZOD_SCHEMA}`),
      bundledBytes(`import * as z from 'zod/mini';${ZOD_MINI_SCHEMA}`),
    ]);

    const targets = [
      { id: 'empty', label: 'an empty module (baseline)', target: empty },
      { id: 'worker', label: 'the worker bundle (index.mjs and its static imports)', target: bundle.entryFile },
      {
        id: 'naive',
        label: `naive single-file bundle: middy, hot-shots, Powertools batch + logger, zod, SQS client (${bytes(naiveBytes)})`,
        target: path.join(dir, 'naive-bundle', 'index.mjs'),
      },
      { id: 'sqs-node-modules', label: '@aws-sdk/client-sqs from node_modules', target: '@aws-sdk/client-sqs' },
      {
        id: 'sqs-bundled',
        label: '@aws-sdk/client-sqs bundled (one file, worker options)',
        target: path.join(dir, 'sqs-bundle', 'index.mjs'),
      },
    ];
    const env = workerEnv(9);
    const timings = new Map<string, Timing[]>(targets.map((t) => [t.id, []]));
    log(`cold start: ${processes} fresh processes per module, interleaved`);
    // One untimed round: the first process pays for the disk cache.
    for (const t of targets) await timeImport(harness, t.target, env);
    for (let i = 0; i < processes; i++) {
      for (const t of shuffled(targets)) timings.get(t.id)?.push(await timeImport(harness, t.target, env));
    }

    // Ratios are taken round by round (each module against the empty module of the same round), so a
    // moment when the machine is busy slows both sides of a ratio, not one.
    const emptyList = timings.get('empty') ?? [];
    const rows = targets.map((t) => {
      const list = timings.get(t.id) ?? [];
      const wall = median(list.map((x) => x.wallMs));
      const [low, high] = range(list.map((x) => x.wallMs));
      const ratios = list.map((x, i) => x.wallMs / (emptyList[i]?.wallMs ?? Number.NaN));
      const [ratioLow, ratioHigh] = range(ratios);
      const ratioMid = median(ratios);
      return {
        id: t.id,
        ratio: ratioMid,
        cells: [
          t.label,
          `${num(wall)} ms`,
          `${num(low)}-${num(high)} ms`,
          ratio(ratioMid),
          `${num(ratioLow, 2)}-${num(ratioHigh, 2)}`,
          `${num(median(list.map((x) => x.importMs)))} ms`,
        ],
      };
    });
    const workerRatio = rows.find((r) => r.id === 'worker')?.ratio ?? Number.NaN;
    const firstUse = bundle.files.filter((file) => file.loads === 'first-use');

    return {
      name: 'cold-start',
      title: 'Cold start: bundle size and fresh-process import time',
      method:
        `The worker bundled by infra/bundling.ts's bundleWorker() (the CDK stack's own esbuild options: ESM, splitting, minified). ` +
        `${processes} fresh Node.js 24 processes per module, interleaved in random order, each importing the module and exiting; ` +
        'wall time from spawn to exit, and its ratio to a process importing an empty module in the same round (median of the rounds); the import alone as the process measured it.',
      tables: [
        {
          columns: ['bundle part', 'files', 'bytes'],
          rows: [
            [
              'success path: loaded at import (entry + its static imports)',
              int(bundle.files.length - firstUse.length),
              bytes(bundle.startBytes),
            ],
            [
              'loaded on first use (SQS client for dead letters and visibility, SES client, email transport)',
              int(firstUse.length),
              bytes(bundle.totalBytes - bundle.startBytes),
            ],
            ['whole bundle', int(bundle.files.length), bytes(bundle.totalBytes)],
            ['one send-email schema with zod (classic)', '1', bytes(zodBytes)],
            ['the same schema with zod/mini', '1', bytes(zodMiniBytes)],
          ],
        },
        {
          columns: [
            'module imported by a fresh process',
            'process wall (median)',
            'min-max',
            'x empty module (median of rounds)',
            'x empty, min-max',
            'import alone (median)',
          ],
          rows: rows.map((r) => r.cells),
        },
      ],
      targets: [
        {
          what: 'success-path bundle size',
          target: `<= ${bytes(MAX_START_BYTES)}`,
          measured: bytes(bundle.startBytes),
          met: bundle.startBytes <= MAX_START_BYTES,
        },
        {
          what: 'fresh-process import vs empty module',
          target: `<= ${MAX_RATIO} x`,
          measured: ratio(workerRatio),
          met: workerRatio <= MAX_RATIO,
        },
      ],
      notes: [
        'A successful send-email batch also loads the email transport and the SES client on its first email (they are first-use chunks); only failures load the SQS client.',
        "Fresh-process timing is a proxy for Lambda's init phase: it includes starting Node.js, which Lambda's runtime also does.",
      ],
      data: { bundle, timings: Object.fromEntries(timings), zodBytes, zodMiniBytes, naiveBytes },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
