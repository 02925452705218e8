/**
 * Benchmark 3, metric delivery: a million metrics through the worker to listeners in separate processes
 * with the kernel's default receive buffer; received / sent and datagrams per invocation, against hot-shots'
 * own buffered client (maxBufferSize 8,192) and its default (maxBufferSize 0, a datagram per metric). Run
 * twice: back to back (as fast as the process goes) and paced to a rate a Lambda sandbox can reach.
 * Datagrams are counted where they arrive: received by the listener, or dropped by its kernel socket.
 */
import { runChild } from './child.ts';
import type { DeliveryResult, DeliverySent } from './delivery-child.ts';
import { LINES_PER_INVOCATION, workerEnv } from './fixtures.ts';
import { startListener, type Listener } from './listener-client.ts';
import type { ListenerStats } from './listener.ts';
import { bytes, int, num, percent, ratio, type Bench, type BenchReport, type Table } from './report.ts';

const LABELS: Readonly<Record<string, string>> = {
  worker: 'worker: metrics.ts (hot-shots distribution(), maxBufferSize 8,192, flushed per invocation)',
  'hot-shots-8192': "baseline: hot-shots' own buffered client, distribution(), maxBufferSize 8,192",
  'hot-shots-0': 'baseline: hot-shots distribution(), default maxBufferSize 0',
};

/** Invocations per second in the paced mode: about 1 ms of runtime API round trips per invocation. */
const PACED_RATE = 1000;

interface Mode {
  readonly id: 'back-to-back' | 'paced';
  readonly title: string;
  readonly metrics: number;
  readonly rate: number;
  /** The emitters this mode runs. */
  readonly variants: readonly string[];
}

interface ModeResult {
  readonly mode: Mode;
  readonly sent: DeliveryResult;
  readonly received: Record<string, ListenerStats>;
}

/** One variant's sends, summed over the rounds. */
function sumSent(id: string, rounds: readonly DeliverySent[]): DeliverySent {
  const mine = rounds.filter((v) => v.id === id);
  const sum = (field: 'invocations' | 'linesSent' | 'socketErrors' | 'failedRecords' | 'elapsedMs'): number =>
    mine.reduce((n, v) => n + v[field], 0);
  return {
    id,
    invocations: sum('invocations'),
    linesSent: sum('linesSent'),
    socketErrors: sum('socketErrors'),
    failedRecords: sum('failedRecords'),
    elapsedMs: sum('elapsedMs'),
  };
}

/** Adds two counters of the form `{key: count}`. */
function addCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Record<string, number> {
  const out = { ...a };
  for (const [key, n] of Object.entries(b)) out[key] = (out[key] ?? 0) + n;
  return out;
}

/** What a variant's listeners counted over the rounds, summed. */
function mergeStats(a: ListenerStats | undefined, b: ListenerStats): ListenerStats {
  if (a === undefined) return b;
  return {
    datagrams: a.datagrams + b.datagrams,
    bytes: a.bytes + b.bytes,
    lines: a.lines + b.lines,
    accepted: a.accepted + b.accepted,
    rejected: addCounts(a.rejected, b.rejected),
    packed: a.packed + b.packed,
    oversized: a.oversized + b.oversized,
    largestDatagram: Math.max(a.largestDatagram, b.largestDatagram),
    byName: addCounts(a.byName, b.byName),
    byType: addCounts(a.byType, b.byType),
    examples: [...a.examples, ...b.examples].slice(0, 5),
    recvBufferBytes: b.recvBufferBytes,
    kernelDrops: a.kernelDrops < 0 || b.kernelDrops < 0 ? -1 : a.kernelDrops + b.kernelDrops,
  };
}

function lost(result: ModeResult, id: string): number {
  const sent = result.sent.variants.find((v) => v.id === id);
  const got = result.received[id];
  return sent && got ? 1 - got.accepted / sent.linesSent : Number.NaN;
}

/** Datagrams that reached the listener's socket: received, or dropped there by the kernel. */
function datagramsArrived(got: ListenerStats | undefined): number {
  return (got?.datagrams ?? 0) + Math.max(0, got?.kernelDrops ?? 0);
}

function table(result: ModeResult): Table {
  return {
    columns: [
      `${result.mode.title}: variant`,
      'metric lines sent',
      'received',
      'lost',
      'x baseline loss',
      'datagrams / invocation',
      'datagrams received / arrived',
      'dropped by the kernel',
      'largest datagram',
      'lines the extension would drop or misread',
      'send time',
    ],
    rows: result.sent.variants.map((sent) => {
      const got = result.received[sent.id];
      const accepted = got?.accepted ?? 0;
      const misread = Object.values(got?.rejected ?? {}).reduce((a, b) => a + b, 0) + (got?.packed ?? 0);
      const baselineLoss = lost(result, 'hot-shots-0');
      const loss = 1 - accepted / sent.linesSent;
      return [
        LABELS[sent.id] ?? sent.id,
        int(sent.linesSent),
        int(accepted),
        percent(loss),
        baselineLoss > 0 ? ratio(loss / baselineLoss) : 'n/a',
        num(datagramsArrived(got) / sent.invocations),
        `${int(got?.datagrams ?? 0)} / ${int(datagramsArrived(got))}`,
        got && got.kernelDrops >= 0 ? int(got.kernelDrops) : 'n/a',
        bytes(got?.largestDatagram ?? 0),
        int(misread),
        `${num(sent.elapsedMs / 1000)} s`,
      ];
    }),
  };
}

export const delivery: Bench = async ({ quick, log }): Promise<BenchReport> => {
  const modes: Mode[] = [
    { id: 'back-to-back', title: 'back to back', metrics: quick ? 20_000 : 1_000_000, rate: 0, variants: Object.keys(LABELS) },
    // hot-shots with a buffer sends the same datagrams as the worker: at the same rate it adds nothing.
    {
      id: 'paced',
      title: `paced, ${int(PACED_RATE)} invocations/s`,
      metrics: quick ? 20_000 : 1_000_000,
      rate: PACED_RATE,
      variants: ['worker', 'hot-shots-0'],
    },
  ];
  const ids = Object.keys(LABELS);
  const listeners: Listener[] = [];
  const results: ModeResult[] = [];
  try {
    while (listeners.length < ids.length) listeners.push(await startListener());
    for (const mode of modes) {
      const invocations = Math.ceil(mode.metrics / LINES_PER_INVOCATION);
      // Each round is its own sending process, and each round moves every variant to the next listener, so
      // every variant meets every listener process equally often (listeners are not equally scheduled).
      const rounds = mode.variants.length * (quick ? 1 : 4);
      log(`delivery (${mode.title}): ${int(invocations * LINES_PER_INVOCATION)} metrics per variant, ${rounds} rounds, listeners rotated`);
      const sent: DeliverySent[] = [];
      const received: Record<string, ListenerStats> = {};
      for (let round = 0; round < rounds; round++) {
        const listenerOf = (i: number): Listener => listeners[(i + round) % mode.variants.length] as Listener;
        const ports = Object.fromEntries(mode.variants.map((id, i) => [id, listenerOf(i).port]));
        for (const listener of listeners) await listener.reset();
        const share = Math.floor(invocations / rounds) + (round < invocations % rounds ? 1 : 0);
        const outcome = await runChild<DeliveryResult>('delivery-child.ts', {
          args: [String(share), '1', String(mode.rate)],
          env: { ...workerEnv(9), BENCH_PORTS: JSON.stringify(ports) },
          timeoutMs: quick ? 120_000 : 900_000,
        });
        const result = outcome.lines.find((line) => line.type === 'result');
        if (result === undefined)
          throw new Error(`the delivery process wrote no result (exit ${outcome.exitCode}): ${outcome.stderrTail.join('\n')}`);
        sent.push(...result.variants);
        for (const [i, id] of mode.variants.entries()) received[id] = mergeStats(received[id], await listenerOf(i).settle());
      }
      results.push({ mode, sent: { type: 'result', variants: mode.variants.map((id) => sumSent(id, sent)) }, received });
    }
  } finally {
    for (const listener of listeners) await listener.stop();
  }

  const recvBuffer = listeners[0]?.recvBufferBytes ?? 0;
  const perInvocation = (id: string): number => {
    const sent = results[0]?.sent.variants.find((v) => v.id === id);
    return sent ? datagramsArrived(results[0]?.received[id]) / sent.invocations : Number.NaN;
  };
  const targets = results.map((result) => {
    const workerLoss = lost(result, 'worker');
    if (result.mode.id === 'back-to-back') {
      const buffered = lost(result, 'hot-shots-8192');
      return {
        what: `worker metric lines lost (${result.mode.title}) vs hot-shots' own buffered client`,
        target: '<= baseline',
        measured: `${percent(workerLoss)} (baseline ${percent(buffered)})`,
        met: workerLoss <= buffered,
      };
    }
    return {
      what: `worker metric lines lost (${result.mode.title})`,
      target: '0 %',
      measured: `${percent(workerLoss)} (hot-shots default: ${percent(lost(result, 'hot-shots-0'))})`,
      met: workerLoss === 0,
    };
  });

  return {
    name: 'delivery',
    title: 'Metric delivery to a DogStatsD listener in another process',
    method:
      `Invocations of worker.ts's assembly (benchmark-only no-op job; ${LINES_PER_INVOCATION} metric lines each: 3 per record, 3 runtime) with three metrics emitters, ` +
      'each round a new process running every emitter once in random order, each emitter sending to its own listener process, the emitters moved to the next listener every round ' +
      `(UDP on 127.0.0.1, the kernel's default receive buffer: ${bytes(recvBuffer)}); run back to back, then paced to about ${int(PACED_RATE)} invocations per second (groups of ${PACED_RATE / 100} every 10 ms). ` +
      "A line counts as received when the Lambda extension's rules (functions/local/dogstatsd-parser.ts) accept it.",
    tables: results.map(table),
    targets,
    notes: [
      `Datagrams per invocation: ${num(perInvocation('worker'))} for the worker vs ${num(perInvocation('hot-shots-0'))} for the baseline (${ratio(perInvocation('hot-shots-0') / perInvocation('worker'))} fewer).`,
      'What is lost is what the kernel dropped ("dropped by the kernel", the socket\'s drops counter in /proc/net/udp) while the listener process was not scheduled; UDP gives the sender no way to know. Back to back, one process runs thousands of invocations per second, faster than a Lambda sandbox, whose runtime API round trips sit between invocations.',
      'The processes run at a raised priority (nice -10 when permitted) so that other work on the machine disturbs them less; on a loaded 2-core machine the back-to-back figures still vary from run to run.',
    ],
    data: results,
  };
};
