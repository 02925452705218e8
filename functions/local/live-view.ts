/**
 * What `npm start` shows: per queue visible / in flight / delayed / DLQ counts, the workers' sandboxes and
 * invocations, jobs per outcome, p50/p95 job duration and queue latency, metrics received (and what the
 * Datadog extension would drop), worker heap, and the latest events. A redrawn screen on a TTY; plain lines
 * otherwise (a summary line whenever something changed, and every event as it happens).
 */
import { METRIC, OUTCOMES, TAG } from '../runtime/metric-names.ts';
import { describeWarning, type ListenerWarning } from './dogstatsd-listener.ts';
import type { LocalEnvironment } from './environment.ts';
import type { InvocationReport } from './event-source.ts';

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
  /** Records a DogStatsD warning. */
  metricWarning(warning: ListenerWarning): void;
  /** Records a free-form event line. */
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

function pad(text: string | number, width: number): string {
  const value = String(text);
  return value.length >= width ? value : value + ' '.repeat(width - value.length);
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

/** Starts rendering the environment. */
export function startLiveView(env: LocalEnvironment, options: LiveViewOptions): LiveView {
  const write = options.write ?? ((text: string) => process.stdout.write(text));
  const interval = options.intervalMs ?? (options.tty ? 250 : 1000);
  const events: string[] = [];
  const warningCounts = new Map<string, number>();
  let lastPlain = '';
  let rendering: Promise<void> | undefined;

  const pushEvent = (line: string): void => {
    events.push(line);
    if (events.length > 10) events.shift();
    if (!options.tty) write(`${line}\n`);
  };

  /** The table rows and the one-line plain summary. */
  const frame = async (): Promise<{ lines: string[]; plain: string }> => {
    const counts = await env.sqs.counts().catch(() => new Map<string, { visible: number; inFlight: number; delayed: number }>());
    const stats = new Map(env.workerStats().map((entry) => [entry.functionName, entry]));
    const listener = env.listener;
    const lines: string[] = [];
    const plainQueues: string[] = [];
    lines.push(
      `${pad('queue', 12)}${pad('visible', 9)}${pad('in flight', 11)}${pad('delayed', 9)}${pad('DLQ', 6)}${pad('sandboxes', 18)}${pad('invocations', 13)}${pad('cold', 6)}failed`,
    );
    for (const queue of env.queues.values()) {
      const own = counts.get(queue.name) ?? { visible: 0, inFlight: 0, delayed: 0 };
      const dlq = queue.deadLetter ? counts.get(queue.deadLetter.name) : undefined;
      const dlqDepth = dlq ? dlq.visible + dlq.inFlight + dlq.delayed : 0;
      const worker = env.workers.find((candidate) => candidate.queue.logicalId === queue.logicalId);
      const stat = queue.functionName ? stats.get(queue.functionName) : undefined;
      const sandboxes = worker
        ? `${worker.sandboxes()}/${worker.concurrency}${worker.maximumConcurrency !== undefined && worker.maximumConcurrency > worker.concurrency ? ` (max ${worker.maximumConcurrency})` : ''}`
        : 'no worker';
      plainQueues.push(
        `${queue.queue}: ${own.visible} visible, ${own.inFlight} in flight, ${own.delayed} delayed, DLQ ${dlqDepth}, ${stat?.invocations ?? 0} invocations`,
      );
      lines.push(
        `${pad(queue.queue, 12)}${pad(own.visible, 9)}${pad(own.inFlight, 11)}${pad(own.delayed, 9)}${pad(dlqDepth, 6)}${pad(sandboxes, 18)}${pad(stat?.invocations ?? 0, 13)}${pad(stat?.coldStarts ?? 0, 6)}${stat?.failed ?? 0}`,
      );
    }
    lines.push('');
    const outcomes = listener.countBy(METRIC.processed, TAG.outcome);
    lines.push(`jobs       ${OUTCOMES.map((outcome) => `${outcome} ${outcomes.get(outcome) ?? 0}`).join('   ')}`);
    const duration = listener.query(METRIC.duration);
    const latency = listener.query(METRIC.queueLatency);
    lines.push(
      `duration   p50 ${ms(duration?.p50)}  p95 ${ms(duration?.p95)}      queue latency   p50 ${ms(latency?.p50)}  p95 ${ms(latency?.p95)}`,
    );
    const totals = listener.totals();
    lines.push(
      `metrics    ${totals.metrics} received   ${totals.dropped} the extension would drop   ${totals.notDistribution} not distributions   ${totals.truncatedDatagrams} datagrams over 8 KiB`,
    );
    const heaps = [...env.queues.values()].map((queue) => {
      const heap = queue.functionName ? listener.query(METRIC.heapUsed, { [TAG.functionName]: queue.functionName }) : undefined;
      return `${queue.queue} ${mb(heap?.last)}`;
    });
    lines.push(`heap       ${heaps.join('   ')}`);
    const plain = [
      ...plainQueues,
      `jobs ${OUTCOMES.map((outcome) => `${outcome} ${outcomes.get(outcome) ?? 0}`).join(', ')}`,
      `duration p50 ${ms(duration?.p50)} p95 ${ms(duration?.p95)}`,
      `queue latency p50 ${ms(latency?.p50)} p95 ${ms(latency?.p95)}`,
      `metrics ${totals.metrics} received, ${totals.dropped} would be dropped, ${totals.notDistribution} not distributions`,
      `heap ${heaps.join(', ')}`,
    ].join(' | ');
    if (warningCounts.size > 0) {
      lines.push('');
      for (const [warning, count] of warningCounts) lines.push(`!! ${warning}${count > 1 ? ` (x${count})` : ''}`);
    }
    return { lines, plain };
  };

  const render = async (): Promise<void> => {
    const { lines, plain } = await frame();
    if (options.tty) {
      const screen = [...options.header, '', ...lines, '', 'latest', ...events.map((event) => `  ${event}`)];
      write(`${ESC}H${screen.map((line) => `${line}${ESC}K`).join('\n')}\n${ESC}J`);
    } else {
      if (plain !== lastPlain) {
        lastPlain = plain;
        write(`${time()} ${plain}\n`);
      }
    }
  };

  if (options.tty) write(`${ESC}?25l${ESC}2J`);
  else for (const line of options.header) write(`${line}\n`);
  const timer = setInterval(() => {
    rendering ??= render().finally(() => {
      rendering = undefined;
    });
  }, interval);

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
