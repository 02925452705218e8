/**
 * The errors the local servers raise when they cannot listen: one sentence saying which port, which variable
 * moves it, and no stack trace in the terminal. {@link checkPort} and {@link listenFailure} are what a new local
 * server uses (it binds 127.0.0.1 only).
 */

/** A local server could not bind its port because something else holds it. */
export class PortInUseError extends Error {
  override readonly name: string = 'PortInUseError';
  /** `tcp` (the SQS endpoint) or `udp` (the DogStatsD listener). */
  readonly protocol: 'tcp' | 'udp';
  readonly host: string;
  readonly port: number;
  constructor(what: string, protocol: 'tcp' | 'udp', host: string, port: number, envVar: string | undefined, options?: ErrorOptions) {
    super(
      `${what} cannot listen on ${protocol.toUpperCase()} ${host}:${port}: the port is already in use ` +
        `(another local environment, an ElasticMQ or a Datadog agent?).` +
        (envVar ? ` Stop it, or pick another port with ${envVar}=<port>.` : ' Stop it, or pick another port.'),
      options,
    );
    this.protocol = protocol;
    this.host = host;
    this.port = port;
  }
}

/** A local server could not bind its address for another reason (permission, address not available). */
export class ListenError extends Error {
  override readonly name: string = 'ListenError';
}

/** True for a Node.js socket error of the given code. */
export function hasErrorCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/** Checks a port option once, at start: a whole number from 0 (any free port) to 65535. */
export function checkPort(what: string, port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new RangeError(`${what} port must be a whole number from 0 to 65535, got ${port}`);
  return port;
}

/** The error of a failed listen: {@link PortInUseError} when the port is taken, else a {@link ListenError}. */
export function listenFailure(
  what: string,
  protocol: 'tcp' | 'udp',
  host: string,
  port: number,
  envVar: string | undefined,
  error: unknown,
): Error {
  if (hasErrorCode(error, 'EADDRINUSE')) return new PortInUseError(what, protocol, host, port, envVar, { cause: error });
  const reason = error instanceof Error ? error.message : String(error);
  return new ListenError(`${what} cannot listen on ${protocol.toUpperCase()} ${host}:${port}: ${reason}`, { cause: error });
}
