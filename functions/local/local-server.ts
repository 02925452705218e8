/**
 * The servers of the local environment as one list: each says in one line where it listens and what it
 * stands in for (`npm start` prints these lines), and closes. Servers close in the reverse order they started.
 *
 * To add a server (a scheduler endpoint, a dashboard), write a {@link LocalServerSpec} and add it to the list
 * `npm start` passes as `servers` (functions/local/start.ts): it starts once the queues and workers are up and
 * gets the running environment. Bind 127.0.0.1 only, on a fixed port movable by an env var (`portFrom`).
 */
import type { LocalEnvironment } from './environment.ts';

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

/** The header lines of the running servers, names aligned. */
export function serverLines(servers: readonly LocalServer[]): string[] {
  const width = Math.max(10, ...servers.map((server) => server.name.length + 1));
  return servers.map((server) => `  ${server.name.padEnd(width)} ${server.line}`);
}
