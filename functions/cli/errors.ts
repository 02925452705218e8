/**
 * CLI errors and how any error is told to the user: one line, no stack trace (set JOBS_DEBUG=1 for it).
 */
import { EnqueueError } from '../client/errors.ts';

/** An error the CLI reports as its message alone, with an exit code. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  /** Process exit code. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 1, options?: ErrorOptions) {
    super(message, options);
    this.exitCode = exitCode;
  }
}

/** Wrong command line: unknown command or option, missing argument. Exit code 2. */
export class UsageError extends CliError {
  override readonly name: string = 'UsageError';
  constructor(message: string) {
    super(message, 2);
  }
}

/** A queue of the stack that does not exist where the CLI looked. */
export class QueueMissingError extends CliError {
  override readonly name: string = 'QueueMissingError';
}

const CREDENTIAL_CODES = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'ExpiredToken',
  'ExpiredTokenException',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'AccessDenied',
  'AccessDeniedException',
  'AuthFailure',
]);

function networkCode(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof error !== 'object' || error === null) return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const found = networkCode(inner, depth + 1);
      if (found) return found;
    }
  }
  return networkCode(cause, depth + 1);
}

/** Where the CLI was talking to, for error messages. */
export interface ErrorContext {
  /** e.g. `local SQS at http://127.0.0.1:9324` or `AWS (stage prod, region eu-west-1)`. */
  readonly target: string;
  /** True when talking to a local endpoint (hints mention `npm start`). */
  readonly local: boolean;
}

/** A one-line explanation of any error, for the terminal. */
export function explainError(error: unknown, context: ErrorContext): string {
  if (error instanceof CliError || error instanceof EnqueueError) return error.message;
  const failure = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; message?: unknown; Code?: unknown };
  const name = typeof failure.name === 'string' ? failure.name : 'Error';
  const message = typeof failure.message === 'string' ? failure.message : String(error);
  const code = typeof failure.Code === 'string' ? failure.Code : name;
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return `no AWS credentials for ${context.target}: set AWS_PROFILE (after \`aws sso login\`) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; leave out --stage to use the local environment`;
  }
  if (/region is missing/i.test(message)) return `no AWS region for ${context.target}: set AWS_REGION or pass --region`;
  if (CREDENTIAL_CODES.has(code) || CREDENTIAL_CODES.has(name)) return `${context.target} refused the request (${code}): ${message}`;
  if (name === 'QueueDoesNotExist' || code === 'AWS.SimpleQueueService.NonExistentQueue')
    return `queue does not exist at ${context.target}: ${message}`;
  const network = networkCode(error);
  if (network === 'ECONNREFUSED') {
    return `cannot reach ${context.target} (connection refused)${context.local ? ': is the local environment running? Start it with `npm start`' : ''}`;
  }
  if (network === 'ENOTFOUND' || network === 'EAI_AGAIN') return `cannot resolve the host of ${context.target} (${network})`;
  if (network) return `cannot reach ${context.target} (${network})`;
  return `${name}: ${message}`;
}
