/**
 * What `npm start` shows: per queue its counts and its worker's sandboxes and invocations, then the metric
 * rows (jobs, latencies, what the listener received, heap, the Scheduler's deliveries) and the latest events.
 * A redrawn screen on a TTY; plain lines otherwise (a summary whenever something changed, every event as it happens).
 */
import { METRIC, OUTCOMES, TAG } from '../runtime/metric-names.ts';
import { describeWarning, type ListenerWarning } from './dogstatsd-listener.ts';
import type { LocalEnvironment } from './environment.ts';
import type { InvocationReport } from './event-source.ts';
import type { QueueCounts } from './sqs-server.ts';

/** Options of {@link startLiveView}. */
export interface LiveViewOptions {
  /** Redraw the screen (TTY) or print plain lines. */
  readonly tty: boolean;
  /** Lines shown above the table (endpoints, demo). */
  readonly header: readonly string[];
  /** Refresh interval in ms. Default 250 (TTY) / 1,000 (plain). */
  readonly intervalMs?: number;
  readonly write?: (text: string) => void;
}

/** The running view. */
export interface LiveView {
  /** Records an invocation (shown in the event list). */
  invocation(report: InvocationReport): void;
  metricWarning(warning: ListenerWarning): void;
  note(line: string): void;
  /** Stops refreshing and prints a final frame. */
  stop(): Promise<void>;
}

const ESC = '\u001b[';

function ms(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 1 : 0)} ms`;
}

function mb(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) ? '-' : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function time(): string {
  return new Date().toISOString().slice(11, 19);
}

function describe(report: InvocationReport): string {
  const shortName = report.functionName.replace(/^serverless-jobs-[a-z0-9-]+?-(?=[a-z0-9-]+-worker$)/, '');
  const parts = [`${time()} ${shortName}`, report.status, `${report.messageIds.length} record${report.messageIds.length === 1 ? '' : 's'}`];
  if (report.failedIds.length > 0 && report.status === 'partial') parts.push(`${report.failedIds.length} to retry`);
  parts.push(`${report.deleted} deleted`, ms(report.durationMs));
  if (report.coldStart) parts.push(`cold start (init ${ms(report.initMs)})`);
  if (report.error) parts.push(report.error);
  return parts.join('  ');
}

interface Rows {
  readonly lines: string[];
  readonly plain: string[];
}

/** One row per job queue: depth, DLQ depth, the worker's sandboxes and invocations. */
async function queueRows(env: LocalEnvironment): Promise<Rows> {
  const counts = await env.sqs.counts().catch(() => new Map<string, QueueCounts>());
  const columns = [
    ['queue', 12],
    ['visible', 9],
    ['in flight', 11],
    ['delayed', 9],
    ['DLQ', 6],
    ['sandboxes', 18],
    ['invocations', 13],
    ['cold', 6],
  ] as const;
  const lines = [`${columns.map(([title, width]) => title.padEnd(width)).join('')}failed`];
  const plain: string[] = [];
  for (const queue of env.queues.values()) {
    const own = counts.get(queue.name) ?? { visible: 0, inFlight: 0, delayed: 0 };
    const dlq = queue.deadLetter ? counts.get(queue.deadLetter.name) : undefined;
    const dlqDepth = dlq ? dlq.visible + dlq.inFlight + dlq.delayed : 0;
    const worker = env.workers.find((candidate) => candidate.queue.logicalId === queue.logicalId);
    const stat = worker?.counts();
    const max =
      worker?.maximumConcurrency !== undefined && worker.maximumConcurrency > worker.concurrency
        ? ` (max ${worker.maximumConcurrency})`
        : '';
    const sandboxes = worker ? `${worker.sandboxes()}/${worker.concurrency}${max}` : 'no worker';
    const cells = [queue.queue, own.visible, own.inFlight, own.delayed, dlqDepth, sandboxes, stat?.invocations ?? 0, stat?.coldStarts ?? 0];
    lines.push(`${cells.map((cell, index) => String(cell).padEnd(columns[index]?.[1] ?? 0)).join('')}${stat?.failed ?? 0}`);
    plain.push(
      `${queue.queue}: ${own.visible} visible, ${own.inFlight} in flight, ${own.delayed} delayed, DLQ ${dlqDepth}, ${stat?.invocations ?? 0} invocations`,
    );
  }
  return { lines, plain };
}

/** Jobs per outcome, duration and latency percentiles, what the listener received, worker heap, the Scheduler's deliveries. */
function metricRows(env: LocalEnvironment): Rows {
  const listener = env.listener;
  const outcomes = listener.countBy(METRIC.processed, TAG.outcome);
  const duration = listener.query(METRIC.duration);
  const latency = listener.query(METRIC.queueLatency);
  const totals = listener.totals();
  const { periodic, oneTime, failed, deadLettered } = env.scheduler.deliveries();
  const lost = failed > 0 ? ` (${deadLettered} to the Scheduler DLQ)` : '';
  const delivered = `${periodic + oneTime} delivered (periodic ${periodic}, one-time ${oneTime}), ${failed} failed${lost}`;
  const heaps = [...env.queues.values()].map((queue) => {
    const heap = queue.functionName ? listener.query(METRIC.heapUsed, { [TAG.functionName]: queue.functionName }) : undefined;
    return `${queue.queue} ${mb(heap?.last)}`;
  });
  const jobs = OUTCOMES.map((outcome) => `${outcome} ${outcomes.get(outcome) ?? 0}`);
  const lines = [
    `jobs       ${jobs.join('   ')}`,
    `duration   p50 ${ms(duration?.p50)}  p95 ${ms(duration?.p95)}      queue latency   p50 ${ms(latency?.p50)}  p95 ${ms(latency?.p95)}`,
    `metrics    ${totals.metrics} received   ${totals.dropped} the extension would drop   ${totals.notDistribution} not distributions   ${totals.truncatedDatagrams} datagrams over 8 KiB`,
    `heap       ${heaps.join('   ')}`,
    `scheduler  ${delivered}`,
  ];
  const plain = [
    `jobs ${jobs.join(', ')}`,
    `duration p50 ${ms(duration?.p50)} p95 ${ms(duration?.p95)}`,
    `queue latency p50 ${ms(latency?.p50)} p95 ${ms(latency?.p95)}`,
    `metrics ${totals.metrics} received, ${totals.dropped} would be dropped, ${totals.notDistribution} not distributions`,
    `heap ${heaps.join(', ')}`,
    `scheduler ${delivered}`,
  ];
  return { lines, plain };
}

/** Starts rendering the environment. */
export function startLiveView(env: LocalEnvironment, options: LiveViewOptions): LiveView {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const events: string[] = [];
  const warningCounts = new Map<string, number>();
  let lastPlain = '';
  let rendering: Promise<void> | undefined;

  const pushEvent = (line: string): void => {
    events.push(line);
    if (events.length > 10) events.shift();
    if (!options.tty) write(`${line}\n`);
  };
  const render = async (): Promise<void> => {
    const [queues, metrics] = [await queueRows(env), metricRows(env)];
    if (!options.tty) {
      const plain = [...queues.plain, ...metrics.plain].join(' | ');
      if (plain !== lastPlain) write(`${time()} ${plain}\n`);
      lastPlain = plain;
      return;
    }
    const warnings = [...warningCounts].map(([warning, count]) => `!! ${warning}${count > 1 ? ` (x${count})` : ''}`);
    const table = [...queues.lines, '', ...metrics.lines, ...(warnings.length > 0 ? ['', ...warnings] : [])];
    const screen = [...options.header, '', ...table, '', 'latest', ...events.map((event) => `  ${event}`)];
    write(`${ESC}H${screen.map((line) => `${line}${ESC}K`).join('\n')}\n${ESC}J`);
  };

  if (options.tty) write(`${ESC}?25l${ESC}2J`);
  else for (const line of options.header) write(`${line}\n`);
  const timer = setInterval(
    () => {
      rendering ??= render().finally(() => {
        rendering = undefined;
      });
    },
    options.intervalMs ?? (options.tty ? 250 : 1000),
  );

  return {
    invocation: (report) => pushEvent(describe(report)),
    metricWarning(warning) {
      const key = `${describeWarning(warning)}${warning.kind === 'dropped' ? `: ${warning.rejected.line.slice(0, 120)}` : ''}`;
      warningCounts.set(key, (warningCounts.get(key) ?? 0) + 1);
      if (!options.tty) write(`!! DogStatsD: ${key}\n`);
    },
    note: (line) => pushEvent(`${time()} ${line}`),
    async stop() {
      clearInterval(timer);
      await rendering;
      await render().catch(() => undefined);
      if (options.tty) write(`${ESC}?25h`);
    },
  };
}
