/**
 * One variant of the leak benchmark, in its own process (started by test/bench/leak.ts with
 * `--expose-gc`, `ulimit -n 1024` and the listener's port in DD_AGENT_HOST / DD_DOGSTATSD_PORT).
 *
 * Runs `invocations` warm invocations of 10-record batches and, every `sampleEvery` invocations, after two
 * full garbage collections: heap used, RSS and open file descriptors. Variants:
 * - `worker`: worker.ts's assembly (createBatchProcessor + flush-metrics + ONE createMetrics client) with
 *   the benchmark-only job;
 * - `worker-module`: the real functions/handlers/worker.ts with the catalog's `send-email` job writing .eml
 *   files to EMAIL_OUTBOX_DIR (fixed message ids: the same 10 files are rewritten);
 * - `per-invocation`: a client per invocation, closed (awaited) at its end, benchmark-only job;
 * - `seed`: a client per record, never closed, benchmark-only job.
 *
 * Usage: leak-child.ts <variant> <invocations> <sampleEvery>
 */
import { openSync, readSync, statSync } from 'node:fs';
import v8 from 'node:v8';
import { catalog } from '../../functions/jobs/catalog.ts';
import { openFileDescriptors } from '../../functions/runtime/metrics.ts';
import { benchJob, findBenchJob, lambdaContext, LINES_PER_INVOCATION, sqsEvent, BATCH_SIZE } from './fixtures.ts';
import { emitResult } from './result-file.ts';
import { assembledWorker, perInvocationWorker, projectMetrics, seedWayWorker, stubSqs, type WorkerHandler } from './workers.ts';

// Opened now: once the seed way has used every descriptor, /proc can no longer be opened (and
// process.memoryUsage() throws EMFILE), but a descriptor held since the start can still be read.
const statm = openSync('/proc/self/statm', 'r');
const statmBuffer = Buffer.alloc(256);
const PAGE_BYTES = 4096;
/**
 * Open descriptors, also once the seed way has used them all: on Linux 6.2 and later `stat('/proc/self/fd')`
 * reports the count without opening anything; elsewhere the worker's own count (a listing of the directory).
 */
function openDescriptorCount(): number {
  try {
    const size = statSync('/proc/self/fd').size;
    if (size > 0) return size;
  } catch {
    // Fall back below.
  }
  return openFileDescriptors();
}

function residentBytes(): number {
  const length = readSync(statm, statmBuffer, 0, statmBuffer.length, 0);
  return Number(statmBuffer.toString('latin1', 0, length).split(' ')[1]) * PAGE_BYTES;
}

/** One sample. */
export interface LeakSample {
  readonly type: 'sample';
  readonly invocation: number;
  readonly heapUsed: number;
  readonly rss: number;
  readonly external: number;
  readonly fds: number;
  /** Records returned as failures so far. */
  readonly failedRecords: number;
  /** Metric lines handed to the client(s) so far. */
  readonly metricsSent: number;
  /** Milliseconds since the first invocation. */
  readonly elapsedMs: number;
}

/** The last line. */
export interface LeakDone {
  readonly type: 'done';
  readonly invocations: number;
  readonly records: number;
  readonly failedRecords: number;
  /** The first invocation after which the process held `BENCH_FD_LIMIT` - 1 descriptors or more, or null. */
  readonly fdLimitReachedAt: number | null;
  /** The first invocation that returned a failed record, or null. */
  readonly firstFailureAt: number | null;
  /** Metric lines the variant handed to its client(s). */
  readonly metricsSent: number;
  /** hot-shots clients created. */
  readonly clients: number;
  /** Socket errors the variant's error handler counted (the seed way has none: hot-shots logs them). */
  readonly socketErrors: number;
  readonly elapsedMs: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const [variant = 'worker', invocationsText = '2000', sampleEveryText = '100'] = process.argv.slice(2);
const invocations = Number(invocationsText);
const sampleEvery = Number(sampleEveryText);
const host = process.env.DD_AGENT_HOST ?? '127.0.0.1';
const port = Number(process.env.DD_DOGSTATSD_PORT);

let handler: WorkerHandler;
let metricsSent: () => number;
let clients: () => number;
let socketErrors: () => number = () => 0;
let jobType = benchJob.type;
if (variant === 'worker') {
  const metrics = projectMetrics(host, port);
  const real = assembledWorker(metrics, { findJob: findBenchJob, sqs: stubSqs() });
  let invoked = 0;
  handler = (event, context) => {
    invoked += 1;
    return real(event, context);
  };
  metricsSent = () => invoked * LINES_PER_INVOCATION;
  clients = () => 1;
  socketErrors = () => metrics.errors;
} else if (variant === 'worker-module') {
  jobType = catalog['send-email'].type;
  const worker = await import('../../functions/handlers/worker.ts');
  handler = worker.handler;
  let invoked = 0;
  const real = handler;
  handler = (event, context) => {
    invoked += 1;
    return real(event, context);
  };
  metricsSent = () => invoked * LINES_PER_INVOCATION;
  clients = () => 1;
  socketErrors = () => worker.metrics.errors;
} else if (variant === 'seed') {
  const seed = seedWayWorker({ findJob: findBenchJob, host, port, sqs: stubSqs() });
  handler = seed.handler;
  metricsSent = () => seed.counters.metricsSent;
  clients = () => seed.counters.clients;
} else if (variant === 'per-invocation') {
  handler = perInvocationWorker({ findJob: findBenchJob, host, port, sqs: stubSqs() });
  let invoked = 0;
  const real = handler;
  handler = (event, context) => {
    invoked += 1;
    return real(event, context);
  };
  metricsSent = () => invoked * LINES_PER_INVOCATION;
  clients = () => invoked;
} else {
  throw new Error(`unknown variant ${variant}`);
}

const event = sqsEvent(jobType);
let failedRecords = 0;
let firstFailureAt: number | null = null;
let fdLimitReachedAt: number | null = null;
const fdLimit = Number(process.env.BENCH_FD_LIMIT ?? Number.POSITIVE_INFINITY);
const started = performance.now();

async function sample(invocation: number): Promise<void> {
  // Let pending socket callbacks run, then collect everything collectable.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  gc?.();
  gc?.();
  const heap = v8.getHeapStatistics();
  const line: LeakSample = {
    type: 'sample',
    invocation,
    heapUsed: heap.used_heap_size,
    rss: residentBytes(),
    external: heap.external_memory,
    fds: openDescriptorCount(),
    failedRecords,
    metricsSent: metricsSent(),
    elapsedMs: performance.now() - started,
  };
  emitResult(line);
}

for (let i = 1; i <= invocations; i++) {
  const response = await handler(event, lambdaContext);
  failedRecords += response.batchItemFailures.length;
  if (firstFailureAt === null && response.batchItemFailures.length > 0) firstFailureAt = i;
  if (fdLimitReachedAt === null && openDescriptorCount() >= fdLimit - 1) fdLimitReachedAt = i;
  if (i === 1 || i % sampleEvery === 0) await sample(i);
}
const done: LeakDone = {
  type: 'done',
  invocations,
  records: invocations * BATCH_SIZE,
  failedRecords,
  firstFailureAt,
  fdLimitReachedAt,
  metricsSent: metricsSent(),
  clients: clients(),
  socketErrors: socketErrors(),
  elapsedMs: performance.now() - started,
};
emitResult(done);
// Leave the listener time to read the last datagrams; the seed's never-closed sockets are unref'd.
await new Promise((resolve) => setTimeout(resolve, 100));
process.exit(0);
