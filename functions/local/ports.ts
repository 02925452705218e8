/**
 * Where the local environment listens (and how a port variable is read), and the account it plays, defined once for
 * its servers, `npm start`, the CLI and the dashboard: every local server binds {@link LOCAL_HOST} only, on a fixed
 * default port that one environment variable moves (port 0 picks any free port). No imports, so the CLI reads these
 * without loading a server.
 */

/** The account id in every local queue URL and ARN (fauxqs' fixed account). */
export const LOCAL_ACCOUNT_ID = '000000000000';
/** The region of the local environment's ARNs and dummy credentials. */
export const LOCAL_REGION = 'us-east-1';
/** Dummy credentials for everything local (fauxqs does not check signatures). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
/** The placeholder role ARN of local one-time schedules (the local Scheduler checks no role). */
export const LOCAL_SCHEDULER_ROLE_ARN = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/serverless-jobs-local-scheduler`;

/** The highest port number (0 picks any free port). */
export const MAX_PORT = 65_535;

/** Whether `port` is a port number: a whole number from 0 to {@link MAX_PORT}. */
export function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= MAX_PORT;
}

/** A port variable whose value is not a port number. */
export class PortVariableError extends Error {
  override readonly name: string = 'PortVariableError';
}

/** The port that variable `name` holds in `env`, or `fallback` when it is unset or blank; throws {@link PortVariableError} otherwise. */
export function portFromVariable<T>(env: Readonly<Record<string, string | undefined>>, name: string, fallback: T): number | T {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const port = Number(raw);
  if (!isPort(port)) throw new PortVariableError(`${name}=${raw} is not a port number (0-${MAX_PORT})`);
  return port;
}

/** The only interface local servers bind. */
export const LOCAL_HOST = '127.0.0.1';

/** The local SQS endpoint's default port: ElasticMQ's customary one, which other tools look for. */
export const DEFAULT_SQS_PORT = 9324;
/** The variable that moves the local SQS endpoint. */
export const SQS_PORT_ENV = 'LOCAL_SQS_PORT';

/** The DogStatsD listener's default UDP port: the customary one (and the Datadog Lambda extension's). */
export const DEFAULT_DOGSTATSD_PORT = 8125;
/** The variable that moves the DogStatsD listener. */
export const DOGSTATSD_PORT_ENV = 'LOCAL_DOGSTATSD_PORT';

/** The local EventBridge Scheduler endpoint's default port (`npm start` and the CLI; the environment alone picks a free one). */
export const DEFAULT_SCHEDULER_PORT = 9326;
/** The variable that moves the local Scheduler endpoint. */
export const SCHEDULER_PORT_ENV = 'LOCAL_SCHEDULER_PORT';

/** The dashboard's default port. */
export const DEFAULT_DASHBOARD_PORT = 9400;
/** The variable that moves the dashboard. */
export const DASHBOARD_PORT_ENV = 'LOCAL_DASHBOARD_PORT';

/** The DynamoDB stand-in's default port: 0, any free one (nothing outside the environment looks for it; `npm start` prints it). */
export const DEFAULT_DYNAMODB_PORT = 0;
/** The variable that fixes the DynamoDB stand-in's port. */
export const DYNAMODB_PORT_ENV = 'LOCAL_DYNAMODB_PORT';
