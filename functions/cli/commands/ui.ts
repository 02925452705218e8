/**
 * `jobs ui [--stage <stage>] [--endpoint <url>] [--port <port>] [--allow-actions]`: serves the dashboard for a
 * stage on http://127.0.0.1:<port> (default $LOCAL_DASHBOARD_PORT or 9400) until Ctrl-C. Queues and dead
 * letters from SQS, workers from CloudWatch (not with --endpoint, which has none). Read-only unless
 * `--allow-actions`: then redrive, delete and purge work from the page.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { OneTimeSchedules } from '../../dashboard/one-time-schedules.ts';
import { scheduleGroupName } from '../../scheduling/names.ts';
import { startDashboardServer } from '../../dashboard/server.ts';
import {
  DASHBOARD_PORT_ENV,
  DEFAULT_DASHBOARD_PORT,
  LOCAL_CREDENTIALS,
  LOCAL_HOST,
  LOCAL_REGION,
  MAX_PORT,
  portFromVariable,
  PortVariableError,
} from '../../local/ports.ts';
import { ListenError, PortInUseError } from '../../local/local-server.ts';
import { createStageSource } from '../../dashboard/stage-source.ts';
import { numberOption, stringOption } from '../args.ts';
import { CliError, UsageError } from '../errors.ts';
import { println, type CliIo, type ParsedValues } from '../io.ts';
import type { Target } from '../target.ts';

function port(values: ParsedValues, io: CliIo): number {
  const fromFlag = numberOption(values, 'port', 0, MAX_PORT);
  if (fromFlag !== undefined) return fromFlag;
  try {
    return portFromVariable(io.env, DASHBOARD_PORT_ENV, DEFAULT_DASHBOARD_PORT);
  } catch (error) {
    throw error instanceof PortVariableError ? new UsageError(error.message) : error;
  }
}

/**
 * A dashboard that cannot listen, in the CLI's words: a taken port names the flag that moves it (a running `npm start`
 * holds 9400 with its own dashboard), instead of reaching the generic "cannot reach SQS" explanation of EADDRINUSE.
 */
function listenProblem(error: unknown, listenPort: number): unknown {
  if (error instanceof PortInUseError) {
    return new CliError(
      `the dashboard cannot listen on ${LOCAL_HOST}:${listenPort}: the port is already in use (a running \`npm start\` serves its own dashboard there). Pick another with --port <port>.`,
      1,
      { cause: error },
    );
  }
  return error instanceof ListenError ? new CliError(error.message, 1, { cause: error }) : error;
}

function until(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    signal?.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Runs `ui`: resolves with 0 when stopped (Ctrl-C). */
export async function uiCommand(target: Target, positionals: readonly string[], values: ParsedValues, io: CliIo): Promise<number> {
  if (positionals.length > 0) throw new UsageError('usage: jobs ui [--stage <stage>] [--endpoint <url>] [--port <port>] [--allow-actions]');
  const allowActions = values['allow-actions'] === true;
  const region = stringOption(values, 'region') ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
  const cloudWatch = target.local ? undefined : new CloudWatchClient(region ? { region } : {});
  // One-time jobs from the stage's Scheduler; with --endpoint only when AWS_ENDPOINT_URL_SCHEDULER names one (the SDK reads it).
  const scheduler =
    !target.local || io.env.AWS_ENDPOINT_URL_SCHEDULER
      ? new SchedulerClient({
          region: region ?? (target.local ? LOCAL_REGION : undefined),
          ...(target.local ? { credentials: LOCAL_CREDENTIALS, endpoint: io.env.AWS_ENDPOINT_URL_SCHEDULER } : {}),
        })
      : undefined;
  const oneTime = scheduler ? new OneTimeSchedules(scheduler, scheduleGroupName(target.stage)) : undefined;
  const source = createStageSource({ target, cloudWatch, oneTime });
  const listenPort = port(values, io);
  const server = await startDashboardServer({ port: listenPort, allowActions, source }).catch((error: unknown) => {
    cloudWatch?.destroy();
    scheduler?.destroy();
    throw listenProblem(error, listenPort);
  });
  println(io.stdout, `dashboard ${server.url}`);
  println(
    io.stdout,
    `  ${target.target}; ${allowActions ? 'actions allowed (redrive, delete, purge)' : 'read-only (--allow-actions to redrive, delete, purge)'}`,
  );
  println(io.stdout, '  Ctrl-C to stop');
  try {
    await until(io.signal);
  } finally {
    await server.close();
    scheduler?.destroy();
  }
  return 0;
}
