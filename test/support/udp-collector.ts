/** A real UDP socket on 127.0.0.1 (ephemeral port) that keeps every datagram it receives. */
import { createSocket, type Socket } from 'node:dgram';

/** A running collector. */
export interface UdpCollector {
  readonly port: number;
  readonly datagrams: Buffer[];
  /** Resolves once at least `count` datagrams arrived, or after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Starts a collector. */
export async function startUdpCollector(): Promise<UdpCollector> {
  const socket: Socket = createSocket('udp4');
  const datagrams: Buffer[] = [];
  socket.on('message', (message) => datagrams.push(message));
  // A larger receive buffer than the default: these tests count every line, not the kernel's drops.
  await new Promise<void>((resolve) => socket.bind({ address: '127.0.0.1', port: 0 }, resolve));
  socket.setRecvBufferSize(8 * 1024 * 1024);
  return {
    port: socket.address().port,
    datagrams,
    async waitFor(predicate, timeoutMs = 2000) {
      const end = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > end) return false;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return true;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
