/** Starts the benchmarks' DogStatsD listener (test/bench/listener.ts) in its own process and queries it. */
import { fork } from 'node:child_process';
import { compileScript, NODE_BIN, raisePriority, REPO_ROOT } from './child.ts';
import type { ListenerCommand, ListenerMessage, ListenerStats } from './listener.ts';

/** A running listener process. */
export interface Listener {
  readonly port: number;
  /** The socket's receive buffer (the kernel's default: nothing is tuned). */
  readonly recvBufferBytes: number;
  stats(): Promise<ListenerStats>;
  /** Zeroes the counters. */
  reset(): Promise<void>;
  /** Waits until the counts stop moving (nothing arrived for `quietMs`), then returns them. */
  settle(quietMs?: number, maxMs?: number): Promise<ListenerStats>;
  stop(): Promise<void>;
}

/** Forks the listener and resolves when its socket is bound. */
export async function startListener(): Promise<Listener> {
  const child = fork(await compileScript('listener.ts'), [], {
    cwd: REPO_ROOT,
    execPath: NODE_BIN,
    execArgv: [],
    env: { ...process.env, BENCH_LISTENER: '1', NODE_OPTIONS: '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  raisePriority(child.pid);
  const waiting: ((stats: ListenerStats) => void)[] = [];
  const ready = await new Promise<{ port: number; recvBufferBytes: number }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the listener exited (${code}) before it was ready`)));
    child.on('message', (message: ListenerMessage) => {
      if (message.type === 'ready') resolve(message);
      else if (message.type === 'stats') waiting.shift()?.(message.stats);
    });
  });
  child.removeAllListeners('exit');
  const command = (message: ListenerCommand): void => {
    child.send(message);
  };
  const stats = (): Promise<ListenerStats> =>
    new Promise((resolve) => {
      waiting.push(resolve);
      command({ cmd: 'stats' });
    });
  return {
    port: ready.port,
    recvBufferBytes: ready.recvBufferBytes,
    stats,
    async reset() {
      command({ cmd: 'reset' });
      // A stats round trip after the reset: the reset has been applied when it answers.
      await stats();
    },
    async settle(quietMs = 150, maxMs = 10_000) {
      const end = Date.now() + maxMs;
      let last = await stats();
      let quietSince = Date.now();
      while (Date.now() < end) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        const now = await stats();
        if (now.datagrams !== last.datagrams) {
          last = now;
          quietSince = Date.now();
        } else if (Date.now() - quietSince >= quietMs) {
          return now;
        }
      }
      return last;
    },
    stop() {
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null || !child.connected) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
      });
    },
  };
}
