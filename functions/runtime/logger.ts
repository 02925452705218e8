/**
 * Structured JSON logs through Powertools for AWS Lambda's Logger, created once at module scope. Every line about a
 * record carries its job id (when the message has one), job type, message id, receive count, attempt and the Lambda
 * request id: "what happened to job X" is one query on `@jobId:X`. Payloads and email addresses are never logged.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { DEFAULT_SERVICE } from '../client/queue-names.ts';

/** Extra keys of one log line: identifiers and counts, never payload values. */
export type LogAttributes = Record<string, string | number | boolean | undefined>;

/** The logging surface handed to jobs; an error line logs its error's name and message, not its data. */
export interface Logger {
  debug(message: string, attributes?: LogAttributes): void;
  info(message: string, attributes?: LogAttributes): void;
  warn(message: string, attributes?: LogAttributes): void;
  error(message: string, attributes?: { error?: unknown } & Record<string, unknown>): void;
}

/** The process-wide logger. Level from `POWERTOOLS_LOG_LEVEL` / `LOG_LEVEL` (default INFO). */
export const rootLogger = new PowertoolsLogger({
  serviceName: process.env.DD_SERVICE ?? process.env.POWERTOOLS_SERVICE_NAME ?? DEFAULT_SERVICE,
});

/** The logger of one record: every line carries `keys` (undefined ones drop out), without a Powertools child per record. */
export function recordLogger(keys: {
  readonly jobId: string | undefined;
  readonly jobType: string | undefined;
  readonly messageId: string;
  readonly receiveCount: number;
  readonly attempt: number;
  readonly requestId: string;
}): Logger {
  const line = (attributes: Record<string, unknown> | undefined): Record<string, unknown> => ({ ...keys, ...attributes });
  return {
    debug: (message, attributes) => rootLogger.debug(message, line(attributes)),
    info: (message, attributes) => rootLogger.info(message, line(attributes)),
    warn: (message, attributes) => rootLogger.warn(message, line(attributes)),
    error: (message, attributes) => {
      const { error, ...rest } = attributes ?? {};
      rootLogger.error(message, line(error instanceof Error ? { ...rest, error: { name: error.name, message: error.message } } : rest));
    },
  };
}
