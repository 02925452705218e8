/**
 * Runs a benchmark part in its own Node.js 24 process (node_modules/.bin/node), so variants never share a
 * heap, a descriptor table or module state. The child script is first bundled by esbuild into plain
 * JavaScript (dependencies left in node_modules), so the measured process runs no TypeScript loader: tsx
 * holds descriptors and caches of its own that would show up in the leak figures.
 *
 * The child writes JSON lines to the file named by `BENCH_RESULT_FILE` (progressively: a child that crashes
 * or runs out of memory still leaves its samples); its stdout and stderr are counted, and their last lines
 * kept for the report.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The repository root. */
export const REPO_ROOT: string = fileURLToPath(new URL('../..', import.meta.url));
/** Node.js 24, as pinned in package.json (the machine's default `node` may be older). */
export const NODE_BIN: string = path.join(REPO_ROOT, 'node_modules', '.bin', 'node');

/** This run's compiled child scripts: inside the repository (so `node_modules` resolves), git-ignored, removed at exit. */
const BUILD_DIR = path.join(REPO_ROOT, 'test', 'bench', 'results', '.build', String(process.pid));
const builds = new Map<string, Promise<string>>();
let cleanupRegistered = false;

/** Bundles test/bench/`script` into one .mjs file (once per run) and returns its path. */
export function compileScript(script: string): Promise<string> {
  let built = builds.get(script);
  if (built === undefined) {
    if (!cleanupRegistered) {
      cleanupRegistered = true;
      process.once('exit', () => rmSync(BUILD_DIR, { recursive: true, force: true }));
    }
    const outfile = path.join(BUILD_DIR, `${path.basename(script, '.ts')}.mjs`);
    mkdirSync(BUILD_DIR, { recursive: true });
    built = build({
      entryPoints: [path.join(REPO_ROOT, 'test', 'bench', script)],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      packages: 'external',
      logLevel: 'warning',
    }).then(() => outfile);
    builds.set(script, built);
  }
  return built;
}

/**
 * The scheduling priority (nice value) of every process the benchmarks start: raised above the default
 * when the user may (root), so the measuring processes and the listeners share the CPU among themselves
 * rather than with whatever else runs on the machine, as a Lambda sandbox has its CPU to itself.
 * `BENCH_NICE` overrides it (0 = do not change).
 */
export const BENCH_NICE = Number(process.env.BENCH_NICE ?? -10);

/** Applies {@link BENCH_NICE} to `pid`; true when it took effect. */
export function raisePriority(pid: number | undefined): boolean {
  if (pid === undefined || BENCH_NICE === 0) return false;
  try {
    setPriority(pid, BENCH_NICE);
    return true;
  } catch {
    return false;
  }
}

/** Options of {@link runChild}. */
export interface ChildOptions {
  /** Arguments after the script. */
  readonly args?: readonly string[];
  /** Environment added to this process's. */
  readonly env?: Readonly<Record<string, string>>;
  /** Run with `--expose-gc`. */
  readonly exposeGc?: boolean;
  /** `ulimit -n` for the child (Lambda's limit is 1,024). */
  readonly fdLimit?: number;
  /** `--max-old-space-size`, in MB. */
  readonly maxOldSpaceMb?: number;
  /** Kill the child after this long. Default 10 minutes. */
  readonly timeoutMs?: number;
}

/** How a child ended, with what it wrote. */
export interface ChildOutcome<T> {
  /** Every JSON line the child wrote to its result file. */
  readonly lines: T[];
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdoutLines: number;
  readonly stderrLines: number;
  /** The last few lines of stderr (crash messages). */
  readonly stderrTail: readonly string[];
  readonly wallMs: number;
}

function lineCounter(): { push(chunk: Buffer): void; count(): number; tail: string[] } {
  let count = 0;
  let partial = '';
  const tail: string[] = [];
  return {
    tail,
    count: () => count + (partial === '' ? 0 : 1),
    push(chunk) {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      count += parts.length;
      for (const line of parts.slice(-20)) {
        tail.push(line.slice(0, 400));
        if (tail.length > 20) tail.shift();
      }
    },
  };
}

/** Runs `script` (a path relative to test/bench) in a new Node.js 24 process and collects its result lines. */
export async function runChild<T>(script: string, options: ChildOptions = {}): Promise<ChildOutcome<T>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-child-'));
  const resultFile = path.join(dir, 'result.jsonl');
  const nodeArgs = [
    ...(options.exposeGc ? ['--expose-gc'] : []),
    ...(options.maxOldSpaceMb ? [`--max-old-space-size=${options.maxOldSpaceMb}`] : []),
    await compileScript(script),
    ...(options.args ?? []),
  ];
  const [command, args] =
    options.fdLimit === undefined
      ? [NODE_BIN, nodeArgs]
      : ['bash', ['-c', `ulimit -n ${Math.trunc(options.fdLimit)} && exec "$0" "$@"`, NODE_BIN, ...nodeArgs]];
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env, BENCH_RESULT_FILE: resultFile, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  raisePriority(child.pid);
  const stdout = lineCounter();
  const stderr = lineCounter();
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, sig) => resolve([code, sig]));
  });
  clearTimeout(timer);
  let text = '';
  try {
    text = readFileSync(resultFile, 'utf8');
  } catch {
    // The child wrote nothing.
  }
  rmSync(dir, { recursive: true, force: true });
  const lines = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as T];
      } catch {
        return [];
      }
    });
  return {
    lines,
    exitCode,
    signal,
    stdoutLines: stdout.count(),
    stderrLines: stderr.count(),
    stderrTail: stderr.tail,
    wallMs: performance.now() - started,
  };
}
