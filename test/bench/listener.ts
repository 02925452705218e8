/**
 * The benchmarks' DogStatsD listener: a SEPARATE process (as the Datadog Lambda extension is) with a UDP
 * socket on 127.0.0.1, an ephemeral port and the kernel's DEFAULT receive buffer, counting what arrives.
 *
 * Every line is checked with the extension's rules (functions/local/dogstatsd-parser.ts): each distinct
 * shape (metric name + everything after the value) is parsed once in full and its verdict cached; every
 * line's value is checked on its own (one finite number: a packed `name:1:2|d` line counts as packed).
 * This keeps the listener fast enough that what it misses is the kernel's doing, not its own.
 *
 * Run it with {@link startListener} (test/bench/listener-client.ts); it talks over the IPC channel.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { EXTENSION_BUFFER_BYTES } from '../../functions/datadog-extension.ts';
import { parseLine } from '../../functions/local/dogstatsd-parser.ts';

/** What the listener has counted. */
export interface ListenerStats {
  readonly datagrams: number;
  readonly bytes: number;
  readonly lines: number;
  /** Lines the extension would keep. */
  readonly accepted: number;
  /** Lines the extension would drop, by drop code. */
  readonly rejected: Record<string, number>;
  /** Lines with more than one value (the extension keeps only the first). */
  readonly packed: number;
  /** Datagrams longer than the extension's 8,192-byte buffer. */
  readonly oversized: number;
  readonly largestDatagram: number;
  /** Accepted lines by metric name. */
  readonly byName: Record<string, number>;
  /** Lines by type field (`d`, `c`, ...). */
  readonly byType: Record<string, number>;
  /** A few rejected lines, for the report. */
  readonly examples: string[];
  /** The socket's receive buffer as the kernel reports it. */
  readonly recvBufferBytes: number;
  /** Datagrams the kernel dropped because the receive buffer was full (`drops` in /proc/net/udp), -1 if unknown. */
  readonly kernelDrops: number;
}

/** The `drops` counter of the UDP socket bound to 127.0.0.1:`port` (/proc/net/udp), or -1. */
export function kernelDrops(port: number): number {
  try {
    const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    for (const line of readFileSync('/proc/net/udp', 'latin1').split('\n')) {
      const fields = line.trim().split(/\s+/);
      if (fields[1] === local) return Number(fields.at(-1));
    }
  } catch {
    // Not Linux.
  }
  return -1;
}

/** Messages the parent sends. */
export type ListenerCommand = { readonly cmd: 'stats' } | { readonly cmd: 'reset' };

/** Messages the listener sends. */
export type ListenerMessage =
  | { readonly type: 'ready'; readonly port: number; readonly recvBufferBytes: number }
  | { readonly type: 'stats'; readonly stats: ListenerStats };

type Verdict = { ok: true; name: string; type: string } | { ok: false; code: string };

function send(message: ListenerMessage): void {
  process.send?.(message);
}

type Counts = {
  datagrams: number;
  bytes: number;
  lines: number;
  accepted: number;
  rejected: Record<string, number>;
  packed: number;
  oversized: number;
  largestDatagram: number;
  byName: Record<string, number>;
  byType: Record<string, number>;
  examples: string[];
};

function fresh(): Counts {
  return {
    datagrams: 0,
    bytes: 0,
    lines: 0,
    accepted: 0,
    rejected: {},
    packed: 0,
    oversized: 0,
    largestDatagram: 0,
    byName: {},
    byType: {},
    examples: [],
  };
}

function main(): void {
  const socket = createSocket('udp4');
  const shapes = new Map<string, Verdict>();
  let stats = fresh();

  const reject = (code: string, line: string): void => {
    stats.rejected[code] = (stats.rejected[code] ?? 0) + 1;
    if (stats.examples.length < 5) stats.examples.push(`${code}: ${line.slice(0, 200)}`);
  };

  const onDatagram = (message: Buffer): void => {
    stats.datagrams += 1;
    stats.bytes += message.length;
    if (message.length > stats.largestDatagram) stats.largestDatagram = message.length;
    if (message.length > EXTENSION_BUFFER_BYTES) stats.oversized += 1;
    const text = message.toString('utf8');
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      const line = text.slice(start, end);
      start = end + 1;
      if (line === '') continue;
      stats.lines += 1;
      const colon = line.indexOf(':');
      const pipe = line.indexOf('|', colon + 1);
      if (colon <= 0 || pipe === -1) {
        const result = parseLine(line);
        if (result.ok) stats.accepted += 1;
        else reject(result.rejected.code, line);
        continue;
      }
      const values = line.slice(colon + 1, pipe);
      if (values.includes(':')) stats.packed += 1;
      const shapeKey = `${line.slice(0, colon)}\u0000${line.slice(pipe)}`;
      let verdict = shapes.get(shapeKey);
      if (verdict === undefined) {
        const result = parseLine(`${line.slice(0, colon)}:1${line.slice(pipe)}`);
        verdict = result.ok
          ? { ok: true, name: result.metric.name, type: line.slice(pipe + 1).split('|')[0] ?? '' }
          : { ok: false, code: result.rejected.code };
        shapes.set(shapeKey, verdict);
      }
      const first = values.split(':')[0] ?? '';
      if (!verdict.ok) {
        reject(verdict.code, line);
      } else if (first === '' || !Number.isFinite(Number(first))) {
        reject('invalid_value', line);
      } else {
        stats.accepted += 1;
        stats.byName[verdict.name] = (stats.byName[verdict.name] ?? 0) + 1;
        stats.byType[verdict.type] = (stats.byType[verdict.type] ?? 0) + 1;
      }
    }
  };

  // Warm up: run the handler on synthetic datagrams until the JIT has compiled it, so the first real
  // datagrams are not read by cold code (a slow start would drop them), then forget them.
  const tags = '|#service:warm-up,env:warm-up,job_type:warm-up,queue:warm-up,outcome:success';
  const warmUp = Buffer.from(Array.from({ length: 33 }, (_, i) => `warm.up.metric_${i % 4}:${i}.5|d${tags}`).join('\n'));
  for (let i = 0; i < 3000; i++) onDatagram(warmUp);
  stats = fresh();
  shapes.clear();
  socket.on('message', onDatagram);

  socket.bind({ address: '127.0.0.1', port: 0 }, () => {
    const recvBufferBytes = socket.getRecvBufferSize();
    const port = socket.address().port;
    let dropsAtReset = kernelDrops(port);
    send({ type: 'ready', port, recvBufferBytes });
    process.on('message', (command: ListenerCommand) => {
      if (command.cmd === 'stats') {
        const drops = kernelDrops(port);
        send({ type: 'stats', stats: { ...stats, recvBufferBytes, kernelDrops: drops < 0 ? -1 : drops - dropsAtReset } });
      } else if (command.cmd === 'reset') {
        stats = fresh();
        dropsAtReset = kernelDrops(port);
      }
    });
    process.on('disconnect', () => {
      socket.close();
      process.exit(0);
    });
  });
}

// Only when run as the listener process (the parent imports the types from this file too).
if (process.send !== undefined && process.env.BENCH_LISTENER === '1') main();
