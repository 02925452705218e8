/** What a process holds open: file descriptors, and how many of them are sockets (from /proc/self/fd). */
import { readdirSync, readlinkSync } from 'node:fs';

/** Open descriptors and socket descriptors of this process. */
export function openDescriptors(): { fds: number; sockets: number } {
  const entries = readdirSync('/proc/self/fd');
  let sockets = 0;
  for (const entry of entries) {
    try {
      if (readlinkSync(`/proc/self/fd/${entry}`).startsWith('socket:')) sockets += 1;
    } catch {
      // The directory's own descriptor is gone by now.
    }
  }
  return { fds: entries.length - 1, sockets };
}

/** Heap in use after a full garbage collection. */
export async function heapAfterGc(): Promise<number> {
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
