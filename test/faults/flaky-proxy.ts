/**
 * A TCP proxy on 127.0.0.1 for injecting a network fault in front of a local server (dynalite for DynamoDB):
 * `pass` forwards every connection, `refuse` resets new and open connections at once, `stall` accepts them and
 * never answers (the client's own timeouts must end the wait). Used by the fault tests; not product code.
 */
import { createServer, connect, type Socket } from 'node:net';

/** What the proxy does with connections. */
export type ProxyMode = 'pass' | 'refuse' | 'stall';

/** A running proxy. */
export interface FlakyProxy {
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Where to forward (set once the server behind it is up). */
  target(port: number): void;
  /** Switches the mode; leaving `pass` cuts every open connection, so a pooled socket cannot slip through. */
  set(mode: ProxyMode): void;
  /** Connections refused and stalled so far. */
  readonly counts: { refused: number; stalled: number; forwarded: number };
  close(): Promise<void>;
}

/** Starts the proxy on a free port, in `pass` mode. */
export async function startFlakyProxy(): Promise<FlakyProxy> {
  let mode: ProxyMode = 'pass';
  let targetPort = 0;
  const open = new Set<Socket>();
  const counts = { refused: 0, stalled: 0, forwarded: 0 };
  const track = (socket: Socket): void => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = createServer((client) => {
    track(client);
    if (mode === 'refuse' || targetPort === 0) {
      counts.refused += 1;
      client.resetAndDestroy();
    } else if (mode === 'stall') {
      counts.stalled += 1;
    } else {
      counts.forwarded += 1;
      const upstream = connect(targetPort, '127.0.0.1');
      track(upstream);
      client.pipe(upstream).pipe(client);
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    target(next) {
      targetPort = next;
    },
    set(next) {
      if (next !== 'pass') for (const socket of open) socket.destroy();
      mode = next;
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
