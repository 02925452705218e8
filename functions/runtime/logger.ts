/**
 * Structured JSON logs through Powertools for AWS Lambda's Logger, created once at module scope.
 *
 * Every line about a record carries its job id (when the message has one), job type, message id, receive count
 * and the Lambda request id: "what happened to job X" is one query on `@jobId:X`.
 * Payloads and email addresses are never logged: callers pass identifiers, not data.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';

/** Extra keys of one log line: identifiers and counts, never payload values. */
export type LogAttributes = Record<string, string | number | boolean | undefined>;

/** Attributes of an error line: identifiers plus the error (its name and message are logged, not its data). */
export type ErrorLogAttributes = { error?: unknown } & Record<string, unknown>;

/** The logging surface handed to jobs. */
export interface Logger {
  debug(message: string, attributes?: LogAttributes): void;
  info(message: string, attributes?: LogAttributes): void;
  warn(message: string, attributes?: LogAttributes): void;
  error(message: string, attributes?: ErrorLogAttributes): void;
}

/** The process-wide logger. Level from `POWERTOOLS_LOG_LEVEL` / `LOG_LEVEL` (default INFO). */
export const rootLogger = new PowertoolsLogger({
  serviceName: process.env.DD_SERVICE ?? process.env.POWERTOOLS_SERVICE_NAME ?? 'serverless-jobs',
});

/** Binds keys (job type, message id, ...) to every line, without creating a Powertools child per record. */
export function bindLogger(keys: LogAttributes): Logger {
  return {
    debug: (message, attributes) => rootLogger.debug(message, { ...keys, ...attributes }),
    info: (message, attributes) => rootLogger.info(message, { ...keys, ...attributes }),
    warn: (message, attributes) => rootLogger.warn(message, { ...keys, ...attributes }),
    error: (message, attributes) => {
      const { error, ...rest } = attributes ?? {};
      if (error instanceof Error) {
        rootLogger.error(message, { ...keys, ...rest, error: { name: error.name, message: error.message } });
      } else {
        rootLogger.error(message, { ...keys, ...rest });
      }
    },
  };
}

/** The keys every log line about one record carries. */
export interface RecordLogKeys {
  /** The producer's job id; left out of the lines when the message has none. */
  readonly jobId: string | undefined;
  /** Absent when the message names no job type the catalog knows. */
  readonly jobType?: string | undefined;
  readonly messageId: string;
  readonly receiveCount: number;
  readonly requestId: string;
}

/** The keys that have a value: a line never shows an empty `jobId`. */
function definedKeys(keys: RecordLogKeys): LogAttributes {
  const defined: LogAttributes = {};
  for (const [key, value] of Object.entries(keys)) if (value !== undefined) defined[key] = value;
  return defined;
}

/**
 * The logger of one record: every line carries its {@link RecordLogKeys}. The keys are bound on the first line,
 * not before: most jobs that succeed never log.
 */
export function recordLogger(keys: RecordLogKeys): Logger {
  let bound: Logger | undefined;
  const logger = (): Logger => (bound ??= bindLogger(definedKeys(keys)));
  return {
    debug: (message, attributes) => logger().debug(message, attributes),
    info: (message, attributes) => logger().info(message, attributes),
    warn: (message, attributes) => logger().warn(message, attributes),
    error: (message, attributes) => logger().error(message, attributes),
  };
}
