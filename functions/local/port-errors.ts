/**
 * The error the local servers raise when their port is taken: one sentence saying which port, which
 * variable moves it, and no stack trace in the terminal.
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
