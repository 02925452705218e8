/**
 * Each local sandbox's heap and the process's open descriptors over time, sampled from the event sources'
 * pool snapshots at every dashboard refresh (so while a page is open): the picture that shows a leak as a
 * ramp. Bounded: 15 minutes of points per sandbox, and the last few ended sandboxes per worker.
 */
import type { PoolSnapshot } from '../local/sandbox-pool.ts';
import type { SandboxView } from './model.ts';

const WINDOW_MS = 15 * 60_000;
const MAX_POINTS = 900;
const MAX_ENDED_PER_WORKER = 4;

interface Track {
  readonly id: string;
  readonly functionName: string;
  invocations: number;
  alive: boolean;
  lastSeen: number;
  readonly times: number[];
  readonly heap: (number | null)[];
  readonly fds: (number | null)[];
}

/** Remembers every sandbox seen in the pools' snapshots. */
export class SandboxHistory {
  private readonly tracks = new Map<string, Track>();

  /** Adds one sample per live sandbox of `pool`; sandboxes no longer in it are marked ended. */
  record(pool: PoolSnapshot, at: number = Date.now()): void {
    const live = new Set<string>();
    for (const sandbox of pool.sandboxes) {
      live.add(sandbox.id);
      const track = this.tracks.get(sandbox.id) ?? this.newTrack(sandbox.id, pool.functionName);
      track.invocations = sandbox.invocations;
      track.alive = true;
      track.lastSeen = at;
      track.times.push(at / 1000);
      track.heap.push(sandbox.heapUsedBytes ?? null);
      track.fds.push(pool.openFds ?? null);
      const excess = track.times.length - MAX_POINTS;
      if (excess > 0) for (const list of [track.times, track.heap, track.fds]) list.splice(0, excess);
    }
    for (const track of this.tracks.values()) if (track.functionName === pool.functionName && !live.has(track.id)) track.alive = false;
    this.prune(pool.functionName, at);
  }

  /** The sandboxes of one worker, live first, each with its heap and descriptors series. */
  views(functionName: string): SandboxView[] {
    return [...this.tracks.values()]
      .filter((track) => track.functionName === functionName)
      .toSorted((a, b) => Number(b.alive) - Number(a.alive) || a.id.localeCompare(b.id, undefined, { numeric: true }))
      .map((track) => ({
        id: track.id,
        alive: track.alive,
        invocations: track.invocations,
        samples: { times: track.times.slice(), series: { heap: track.heap.slice(), fds: track.fds.slice() } },
      }));
  }

  private newTrack(id: string, functionName: string): Track {
    const track: Track = { id, functionName, invocations: 0, alive: true, lastSeen: 0, times: [], heap: [], fds: [] };
    this.tracks.set(id, track);
    return track;
  }

  /** Drops ended sandboxes past the window, and all but the latest few ended ones. */
  private prune(functionName: string, at: number): void {
    const ended = [...this.tracks.values()]
      .filter((track) => track.functionName === functionName && !track.alive)
      .toSorted((a, b) => b.lastSeen - a.lastSeen);
    ended.forEach((track, index) => {
      if (index >= MAX_ENDED_PER_WORKER || at - track.lastSeen > WINDOW_MS) this.tracks.delete(track.id);
    });
  }
}
