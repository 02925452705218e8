/**
 * `npm start`: the whole job processor on this machine, with no AWS account, no Docker and no Java.
 *
 * Serves the dashboard first (http://127.0.0.1:9400, `LOCAL_DASHBOARD_PORT`; its address is the first line
 * printed), then starts the local environment on its fixed ports (SQS http://127.0.0.1:9324, DogStatsD
 * udp://127.0.0.1:8125; `LOCAL_SQS_PORT`, `LOCAL_DOGSTATSD_PORT`, `LOCAL_DYNAMODB_PORT` move them), shows it live, and enqueues a
 * short demo unless `--no-demo`. Ctrl-C stops everything. A port that is taken, or a stack that does not
 * synthesize, is one clear message and exit code 1, not a stack trace.
 *
 * Flags: `--no-demo`, `--plain` (plain lines even on a TTY). `LOCAL_MAX_CONCURRENCY` caps sandboxes per worker
 * (default 4); `LOCAL_STATE_DIR` moves `.local/` (outbox, logs). Handler logs go to `.local/logs/workers.log` on a
 * TTY, and inline otherwise.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createLocalSource, type LocalSource } from '../dashboard/local-source.ts';
import { startDashboardServer, type DashboardServer } from '../dashboard/server.ts';
import { ConfigurationError } from '../runtime/errors.ts';
import { enqueueDemo, startEchoServer, type EchoServer } from './demo.ts';
import { DEFAULT_LOCAL_DIR, REPO_ROOT, startLocalEnvironment, type LocalEnvironment } from './environment.ts';
import { startLiveView, type LiveView } from './live-view.ts';
import { ListenError, PortInUseError, serverLines, type LocalServerSpec } from './local-server.ts';
import {
  DASHBOARD_PORT_ENV,
  DEFAULT_SCHEDULER_PORT,
  DOGSTATSD_PORT_ENV,
  DYNAMODB_PORT_ENV,
  portFromVariable,
  PortVariableError,
  SCHEDULER_PORT_ENV,
  SQS_PORT_ENV,
} from './ports.ts';
import { TemplateError } from './template-values.ts';

/** A setting variable whose value is not allowed. */
class InvalidSettingError extends Error {
  override readonly name: string = 'InvalidSettingError';
}

/** A whole number from `min` to `max` in variable `name`, or `fallback` when it is unset (`problem` says what else is wrong). */
function wholeFrom<T>(name: string, fallback: T, min: number, max: number, problem: string): number | T {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new InvalidSettingError(`${name}=${raw} ${problem}`);
  return value;
}

/** The port in variable `name`; unset, the server's own default (`fallback`, when the environment's default differs). */
function portFrom(name: string, fallback?: number): number | undefined {
  return portFromVariable(process.env, name, fallback);
}

const args = new Set(process.argv.slice(2));
const unknown = [...args].filter((arg) => arg !== '--no-demo' && arg !== '--plain');
if (unknown.length > 0) {
  process.stderr.write(`npm start: unknown option ${unknown.join(' ')} (options: --no-demo, --plain)\n`);
  process.exit(2);
}
const demo = !args.has('--no-demo');
const tty = process.stdout.isTTY === true && !args.has('--plain');

let env: LocalEnvironment | undefined;
let view: LiveView | undefined;
let echo: EchoServer | undefined;
let dashboard: DashboardServer | undefined;
let stopping = false;

/**
 * The variables a producer in another shell needs, as `name=value` pairs: region and dummy credentials (without a
 * region the AWS SDK refuses to send), the SQS and Scheduler endpoints, the queue URLs and the Scheduler settings.
 */
function producerVariables(variables: Readonly<Record<string, string>>): string {
  const wanted =
    /^(AWS_REGION|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_ENDPOINT_URL_(SQS|SCHEDULER)|JOBS_QUEUE_URL_.+|JOBS_SCHEDULE.+)$/;
  return Object.entries(variables)
    .filter(([key]) => wanted.test(key))
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
}

/** Errors that are one line for the operator and exit code 1, not a stack trace. */
const OPERATOR_ERRORS = [PortInUseError, ListenError, ConfigurationError, TemplateError, InvalidSettingError, PortVariableError];

async function closeAll(): Promise<void> {
  await dashboard?.close();
  await env?.stop();
  await echo?.close();
}

async function stop(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  await view?.stop();
  process.stdout.write('\nstopping: waiting for running invocations, closing sandboxes and servers...\n');
  await closeAll();
  process.stdout.write('stopped.\n');
  process.exit(code);
}

try {
  // The dashboard first, so its address is the first line; it says "starting" until the environment is up.
  dashboard = await startDashboardServer({ port: portFrom(DASHBOARD_PORT_ENV), allowActions: true });
  process.stdout.write(`serverless-jobs dashboard ${dashboard.url}\n`);
  const sqsPort = portFrom(SQS_PORT_ENV);
  const dogstatsdPort = portFrom(DOGSTATSD_PORT_ENV);
  const dynamodbPort = portFrom(DYNAMODB_PORT_ENV);
  // The environment's Scheduler defaults to any free port and no timer (tests fire it with runDue()).
  const scheduler = { port: portFrom(SCHEDULER_PORT_ENV, DEFAULT_SCHEDULER_PORT), tickMs: 1_000 };
  const concurrencyLimit = wholeFrom('LOCAL_MAX_CONCURRENCY', undefined, 1, Infinity, 'must be a whole number >= 1');
  const localDir = process.env.LOCAL_STATE_DIR?.trim() ? resolve(process.env.LOCAL_STATE_DIR) : DEFAULT_LOCAL_DIR;
  const logDir = join(localDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, 'workers.log');
  const logStream = tty ? createWriteStream(logFile, { flags: 'a' }) : undefined;

  process.stdout.write('serverless-jobs: synthesizing the stack and starting the local environment...\n');
  const pendingInvocations: Parameters<LiveView['invocation']>[0][] = [];
  // Servers started once the workers are up: add a LocalServerSpec here (its port from portFrom(<VAR>, <default>), both in ports.ts).
  const servers: LocalServerSpec[] = [];
  let dashboardSource: LocalSource | undefined;
  env = await startLocalEnvironment({
    servers,
    sqsPort,
    dogstatsdPort,
    dynamodbPort,
    scheduler,
    concurrencyLimit,
    localDir,
    onInvocation: (report) => {
      dashboardSource?.invocation(report);
      return view ? view.invocation(report) : pendingInvocations.push(report);
    },
    onMetricWarning: (warning) => view?.metricWarning(warning),
    onNotice: (message) => (view ? view.note(message) : process.stderr.write(`${message}\n`)),
    onLog: (functionName, stream, line) => {
      if (logStream) logStream.write(`${functionName} ${stream} ${line}\n`);
      else (stream === 'stdout' ? process.stdout : process.stderr).write(`[${functionName}] ${line}\n`);
    },
  });

  dashboardSource = createLocalSource(env);
  dashboard.setSource(dashboardSource);

  const header = [
    `serverless-jobs local environment   (Ctrl-C to stop)`,
    `  dashboard  ${dashboard.url}   (port: ${DASHBOARD_PORT_ENV})`,
    ...serverLines(env.servers),
    `  outbox     ${relative(REPO_ROOT, env.outboxDir) || env.outboxDir}${logStream ? `    worker logs ${relative(REPO_ROOT, logFile)}` : ''}`,
    `  producers  ${producerVariables(env.env)}`,
  ];
  view = startLiveView(env, { tty, header });
  for (const report of pendingInvocations.splice(0)) view.invocation(report);

  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  if (demo) {
    const demoView = view;
    echo = await startEchoServer({ onRequest: (path, status) => demoView.note(`echo server: ${path} answered ${status}`) });
    const queueUrls = Object.fromEntries([...env.queues.values()].map((queue) => [queue.queue, queue.url]));
    for (const line of await enqueueDemo({ sqs: env.client, queueUrls, echoUrl: echo.url })) view.note(`demo: ${line}`);
  } else {
    view.note('no demo (--no-demo): enqueue jobs with `npm run jobs -- enqueue <type> <json>`');
  }
} catch (error) {
  await view?.stop();
  await closeAll();
  if (OPERATOR_ERRORS.some((kind) => error instanceof kind)) {
    const { message } = error as Error;
    process.stderr.write(`serverless-jobs: ${message}\n`);
    process.exit(1);
  }
  throw error;
}
