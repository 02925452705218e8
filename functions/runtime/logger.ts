/**
 * Structured JSON logs through Powertools for AWS Lambda's Logger, created once at module scope.
 *
 * Every line a job writes carries its job type, message id, receive count and the Lambda request id.
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
