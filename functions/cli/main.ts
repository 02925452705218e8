/**
 * The `jobs` CLI: argument parsing, dispatch, and error reporting (one line, no stack trace; JOBS_DEBUG=1
 * prints it). `runCli` takes its world as {@link CliIo}, so tests run it in-process.
 */
import { parseArgs } from 'node:util';
import { DASHBOARD_PORT_ENV, DEFAULT_DASHBOARD_PORT, DEFAULT_SQS_PORT, LOCAL_HOST, SQS_PORT_ENV } from '../local/ports.ts';
import { dlqListCommand } from './commands/dlq-list.ts';
import { dlqPurgeCommand } from './commands/dlq-purge.ts';
import { dlqRedriveCommand } from './commands/dlq-redrive.ts';
import { enqueueCommand } from './commands/enqueue.ts';
import { cancelCommand, schedulesCommand } from './commands/schedules.ts';
import { queuesCommand } from './commands/queues.ts';
import { soakCommand } from './commands/soak.ts';
import { CRASHED_REASON, LISTED_REASONS, NOT_DELIVERED_REASON } from './dead-letters.ts';
import { SCHEDULER_QUEUE } from '../scheduling/names.ts';
import { uiCommand } from './commands/ui.ts';
import { CliError, explainError, UsageError } from './errors.ts';
import { println, type CliIo, type ParsedValues } from './io.ts';
import { resolveTarget, type Target } from './target.ts';

/** Usage text. */
export const USAGE = `Usage: jobs <command> [options]

Commands:
  enqueue <type> <json|@file|@->     send one job (payload as JSON, a file, or stdin)
  enqueue <type> --from <file.jsonl> send one job per line (a payload per line), in batches
  queues                             visible / in flight / delayed / DLQ counts of every queue
  schedules                          periodic schedules (next 3 runs, in their time zone) and pending delayed jobs
  cancel <jobId>                     cancel a pending delayed job (exit 1 when there was none)
  dlq list <queue>                   show dead-letter messages (job type, reason, error) without consuming them
  dlq redrive <queue>                move dead-letter messages back to the queue (safe to stop and rerun)
  dlq purge <queue>                  delete every dead-letter message (asks first)
  soak <type>                        leak check: run a job type in a warm local sandbox, print heap/RSS/fd slopes
  ui                                 the web dashboard for the stage on http://${LOCAL_HOST}:${DEFAULT_DASHBOARD_PORT} (read-only by default)

Where (default: the local environment, http://${LOCAL_HOST}:${DEFAULT_SQS_PORT} or $${SQS_PORT_ENV}, stage "local"):
  --stage <stage>       a deployed stage on AWS (credentials and region from the usual AWS environment)
  --local               the local environment even with --stage
  --endpoint <url>      another SQS endpoint (implies --local)
  --region <region>

enqueue options:  --delay <seconds|30m|2h|3d> (up to a year; beyond 900 s through the Scheduler)  --at <ISO time>  --job-id <id>  --group <id>  --dedup-id <id>  --job-id-prefix <p> (with --from)
dlq list:         --limit <n> (default 50)  --type <job type>  --reason <reason>
dlq redrive:      --type <job type>  --reason <reason>  --limit <n>  --rate <messages/s>  --lease <seconds>  --journal <file>
                  <reason>: ${LISTED_REASONS.join(', ')}
                  (${CRASHED_REASON}: moved by SQS with no reason attached; the worker crashed, timed out or ran out of memory;
                  ${NOT_DELIVERED_REASON}: in the Scheduler's DLQ, the Scheduler could not send it to its job queue)
dlq purge:        --yes
soak:             --invocations <n> (default 2000)  --payload <json|@file> (default the job's example)  --batch-size <n>
ui:               --port <port> (default $${DASHBOARD_PORT_ENV} or ${DEFAULT_DASHBOARD_PORT})  --allow-actions (redrive, delete, purge from the page)
Everywhere:       --json (machine-readable output), --help

<queue> is a logical queue name of the job catalog (default, webhooks); for the dlq commands also ${SCHEDULER_QUEUE}, the
Scheduler's dead-letter queue (dlq redrive sends each of its messages to the job queue it was meant for).`;

const OPTIONS = {
  stage: { type: 'string' },
  local: { type: 'boolean' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  from: { type: 'string' },
  delay: { type: 'string' },
  at: { type: 'string' },
  'job-id': { type: 'string' },
  'job-id-prefix': { type: 'string' },
  group: { type: 'string' },
  'dedup-id': { type: 'string' },
  type: { type: 'string' },
  limit: { type: 'string' },
  rate: { type: 'string' },
  lease: { type: 'string' },
  journal: { type: 'string' },
  reason: { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
  invocations: { type: 'string' },
  payload: { type: 'string' },
  'batch-size': { type: 'string' },
  port: { type: 'string' },
  'allow-actions': { type: 'boolean' },
} as const;

const COMMON = ['stage', 'local', 'endpoint', 'region', 'json', 'help'];

type Command = (target: Target, positionals: readonly string[], values: ParsedValues, io: CliIo) => Promise<number>;

/** Commands that need no queue (no target is resolved for them). */
type LocalCommand = (positionals: readonly string[], values: ParsedValues, io: CliIo) => Promise<number>;
const LOCAL_COMMANDS: Readonly<Record<string, { run: LocalCommand; options: readonly string[] }>> = {
  soak: { run: soakCommand, options: ['invocations', 'payload', 'batch-size'] },
};

const COMMANDS: Readonly<Record<string, { run: Command; options: readonly string[] }>> = {
  enqueue: { run: enqueueCommand, options: ['from', 'delay', 'at', 'job-id', 'job-id-prefix', 'group', 'dedup-id'] },
  schedules: { run: schedulesCommand, options: [] },
  cancel: { run: cancelCommand, options: [] },
  queues: { run: queuesCommand, options: [] },
  'dlq list': { run: dlqListCommand, options: ['limit', 'type', 'reason'] },
  'dlq redrive': { run: dlqRedriveCommand, options: ['type', 'reason', 'limit', 'rate', 'lease', 'journal'] },
  'dlq purge': { run: dlqPurgeCommand, options: ['yes'] },
  ui: { run: uiCommand, options: ['port', 'allow-actions'] },
};

function parse(argv: readonly string[]): { values: ParsedValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    return { values: values as ParsedValues, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'bad arguments');
  }
}

/** Runs the CLI; resolves with the process exit code. Never rejects. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let target: Target | undefined;
  try {
    const { values, positionals } = parse(argv);
    if (positionals.length === 0) {
      if (values.help === true) {
        println(io.stdout, USAGE);
        return 0;
      }
      throw new UsageError('no command given');
    }
    const [first = '', second = ''] = positionals;
    const key = first === 'dlq' ? `dlq ${second}` : first;
    const local = LOCAL_COMMANDS[key];
    if (local) {
      if (values.help === true) {
        println(io.stdout, USAGE);
        return 0;
      }
      const strayLocal = Object.keys(values).find((name) => name !== 'json' && name !== 'help' && !local.options.includes(name));
      if (strayLocal) throw new UsageError(`--${strayLocal} does not apply to "${key}"`);
      return await local.run(positionals.slice(1), values, io);
    }
    const command = COMMANDS[key];
    if (!command)
      throw new UsageError(first === 'dlq' ? `unknown dlq command "${second}" (list, redrive, purge)` : `unknown command "${first}"`);
    if (values.help === true) {
      println(io.stdout, USAGE);
      return 0;
    }
    const allowed = new Set([...COMMON, ...command.options]);
    const stray = Object.keys(values).find((name) => !allowed.has(name));
    if (stray) throw new UsageError(`--${stray} does not apply to "${key}"`);

    target = resolveTarget(
      {
        stage: typeof values.stage === 'string' ? values.stage : undefined,
        local: values.local === true,
        endpoint: typeof values.endpoint === 'string' ? values.endpoint : undefined,
        region: typeof values.region === 'string' ? values.region : undefined,
      },
      io.env,
      io.sqs,
    );
    return await command.run(target, positionals.slice(first === 'dlq' ? 2 : 1), values, io);
  } catch (error) {
    const context = target ?? { target: 'SQS', local: true };
    println(io.stderr, `jobs: ${explainError(error, context)}`);
    if (error instanceof UsageError) println(io.stderr, 'Run `jobs --help` for usage.');
    if (io.env.JOBS_DEBUG && error instanceof Error && error.stack) println(io.stderr, error.stack);
    return error instanceof CliError ? error.exitCode : 1;
  } finally {
    if (target && target.sqs !== io.sqs) target.sqs.destroy();
  }
}
