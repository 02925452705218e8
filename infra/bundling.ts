/**
 * How the worker is bundled: ONE set of esbuild options, used by the CDK stack (through
 * {@link bundleWorker}, called from the asset's local bundling) and by the cold-start benchmark, so
 * the benchmark measures exactly what is deployed.
 *
 * ESM with code splitting: `import()`s in the worker (the SQS client for DLQ sends and visibility
 * changes, the SES client) become separate chunks that load on first use, so the files a successful
 * batch loads stay small. `NodejsFunction` cannot do this (it passes `--outfile` to esbuild, and
 * splitting needs `--outdir`), so the stack uses `lambda.Function` with a local bundling hook instead.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync, type BuildOptions } from 'esbuild';

/** The repository root (absolute). */
export const REPO_ROOT: string = fileURLToPath(new URL('..', import.meta.url));

/** The worker's entry module. */
export const WORKER_ENTRY: string = path.join(REPO_ROOT, 'functions', 'handlers', 'worker.ts');

/** Name of the entry file in the bundle (without extension); the Lambda handler is `index.handler`. */
export const WORKER_ENTRY_NAME = 'index';

/** The Lambda `Handler` setting for the bundle. */
export const WORKER_HANDLER = `${WORKER_ENTRY_NAME}.handler`;

/** File name of the entry in the bundle. */
export const WORKER_ENTRY_FILE = `${WORKER_ENTRY_NAME}.mjs`;

/**
 * ESM output has no `require`; CommonJS dependencies (hot-shots, parts of the AWS SDK) call it for Node
 * built-ins. This banner gives each output file a real one.
 */
const REQUIRE_SHIM =
  "import { createRequire as __sjCreateRequire } from 'node:module'; const require = __sjCreateRequire(import.meta.url);";

/**
 * The esbuild options for the worker, without `outdir`. Node.js 24 (the Lambda runtime; the function runs
 * on arm64, which does not change JavaScript output), ESM, code splitting, minified, linked source maps
 * (without sources content: they only need to map stack traces), the AWS SDK bundled, not taken from the runtime.
 */
export const WORKER_BUILD_OPTIONS: Readonly<BuildOptions> = Object.freeze({
  entryPoints: { [WORKER_ENTRY_NAME]: WORKER_ENTRY },
  absWorkingDir: REPO_ROOT,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  splitting: true,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  mainFields: ['module', 'main'],
  minify: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'external',
  banner: { js: REQUIRE_SHIM },
  logLevel: 'warning',
});

/** One output file of the bundle. */
export interface BundleFile {
  /** Path relative to the bundle directory. */
  readonly path: string;
  readonly bytes: number;
  /** `start`: loaded when the handler module is imported; `first-use`: only when an `import()` runs. */
  readonly loads: 'start' | 'first-use';
}

/** What {@link bundleWorker} produced. */
export interface WorkerBundle {
  /** The bundle directory (the Lambda code asset). */
  readonly outdir: string;
  /** Absolute path of the entry file (`index.mjs`). */
  readonly entryFile: string;
  /** JavaScript files, entry first. Source maps and legal notices are not listed. */
  readonly files: readonly BundleFile[];
  /** Bytes of JavaScript loaded when the handler module is imported: what a successful batch costs. */
  readonly startBytes: number;
  /** Bytes of all JavaScript in the bundle. */
  readonly totalBytes: number;
}

/** The complete build options for a bundle written to `outdir`. */
export function workerBuildOptions(outdir: string): BuildOptions {
  return { ...WORKER_BUILD_OPTIONS, outdir: path.resolve(outdir) };
}

/**
 * Bundles the worker into `outdir` with the shared options (synchronously: CDK's local bundling hook is
 * synchronous). Throws esbuild's error when the build fails, so a broken worker never falls back to Docker.
 */
export function bundleWorker(outdir: string): WorkerBundle {
  const options = workerBuildOptions(outdir);
  buildSync({ ...options, write: true });
  return describeBundle(options.outdir as string);
}

/**
 * Describes a bundle directory (one written by {@link bundleWorker}, or a staged CDK asset): which files
 * load at start (the entry and everything it imports statically) and which load on first use (reachable
 * only through `import()`). The import graph comes from esbuild's own parser, run over the output files.
 */
export function describeBundle(outdir: string): WorkerBundle {
  const dir = path.resolve(outdir);
  const entryFile = path.join(dir, WORKER_ENTRY_FILE);
  if (!existsSync(entryFile)) throw new Error(`${dir} has no ${WORKER_ENTRY_FILE}: not a worker bundle`);
  const { metafile } = buildSync({
    entryPoints: [entryFile],
    absWorkingDir: dir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    write: false,
    metafile: true,
    outdir: path.join(dir, '.describe'),
    logLevel: 'silent',
  });
  const inputs = metafile.inputs;
  const atStart = new Set<string>();
  const pending = [WORKER_ENTRY_FILE];
  while (pending.length > 0) {
    const key = pending.pop() as string;
    if (atStart.has(key)) continue;
    atStart.add(key);
    for (const imported of inputs[key]?.imports ?? []) {
      if (!imported.external && imported.kind === 'import-statement') pending.push(imported.path);
    }
  }
  const files: BundleFile[] = Object.keys(inputs)
    .map((key) => ({
      path: key,
      bytes: statSync(path.join(dir, key)).size,
      loads: atStart.has(key) ? ('start' as const) : ('first-use' as const),
    }))
    .toSorted((a, b) => Number(b.path === WORKER_ENTRY_FILE) - Number(a.path === WORKER_ENTRY_FILE) || a.path.localeCompare(b.path));
  return {
    outdir: dir,
    entryFile,
    files,
    startBytes: files.filter((file) => file.loads === 'start').reduce((sum, file) => sum + file.bytes, 0),
    totalBytes: files.reduce((sum, file) => sum + file.bytes, 0),
  };
}
