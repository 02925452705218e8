/**
 * The servers of the local environment as one list: each says in one line where it listens and what it
 * stands in for (`npm start` prints these lines), and closes; they close in the reverse order they started.
 * To add one, write a {@link LocalServerSpec} for the `servers` list of functions/local/start.ts. Rules: bind
 * {@link LOCAL_HOST} only, on a fixed port movable by an env var (both defined in ports.ts), checked with {@link checkPort} and bound with
 * {@link listenTcp} (or {@link listenFailure} for UDP): a port that cannot be bound is one sentence saying which
 * port and which variable moves it, and no stack trace.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalEnvironment } from './environment.ts';
import { isPort, LOCAL_HOST, MAX_PORT } from './ports.ts';

/** A running local server. */
export interface LocalServer {
  /** Short name shown in the header: `SQS`, `DogStatsD`. */
  readonly name: string;
  /** Where it listens and what it stands in for, e.g. `http://127.0.0.1:9324    (AWS_ENDPOINT_URL_SQS; ...)`. */
  readonly line: string;
  /** Stops it; idempotent. */
  close(): Promise<void>;
}

/** A server started once the environment is up (its queues, tables and workers). */
export interface LocalServerSpec {
  /** Short name, used in errors when it does not start. */
  readonly name: string;
  /** Starts it; rejects with `PortInUseError` when its port is taken. */
  start(environment: LocalEnvironment): Promise<LocalServer>;
}

/** `close` made idempotent, as {@link LocalServer.close} must be: the first call runs it, later calls get the same promise. */
export function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

/** The header lines of the running servers, names aligned. */
export function serverLines(servers: readonly LocalServer[]): string[] {
  const width = Math.max(10, ...servers.map((server) => server.name.length + 1));
  return servers.map((server) => `  ${server.name.padEnd(width)} ${server.line}`);
}

/** A local server could not bind its port because something else holds it. */
export class PortInUseError extends Error {
  override readonly name: string = 'PortInUseError';
}

/** A local server could not bind its address for another reason (permission, address not available). */
export class ListenError extends Error {
  override readonly name: string = 'ListenError';
}

/** Checks a port option once, at start: a whole number from 0 (any free port) to {@link MAX_PORT}. */
export function checkPort(what: string, port: number): number {
  if (!isPort(port)) throw new RangeError(`${what} port must be a whole number from 0 to ${MAX_PORT}, got ${port}`);
  return port;
}

/** The error of a failed listen: {@link PortInUseError} when the port is taken, else a {@link ListenError}. */
export function listenFailure(what: string, protocol: 'tcp' | 'udp', port: number, envVar: string, error: unknown): Error {
  const where = `${what} cannot listen on ${protocol.toUpperCase()} ${LOCAL_HOST}:${port}`;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (code === 'EADDRINUSE') {
    const advice = `(another local environment, an ElasticMQ or a Datadog agent?). Stop it, or pick another port with ${envVar}=<port>.`;
    return new PortInUseError(`${where}: the port is already in use ${advice}`, { cause: error });
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new ListenError(`${where}: ${reason}`, { cause: error });
}

/** Binds an HTTP server to {@link LOCAL_HOST}:`port`; resolves with the bound port, rejects with {@link listenFailure}'s error. */
export async function listenTcp(server: Server, port: number, what: string, envVar: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(listenFailure(what, 'tcp', port, envVar, error)));
    server.listen(port, LOCAL_HOST, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}
