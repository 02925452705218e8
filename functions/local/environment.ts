/**
 * The whole job processor on embedded parts: the SQS endpoint (fauxqs), the DogStatsD listener standing in
 * for the Datadog Lambda extension, a DynamoDB stand-in (dynalite) for the template's tables, the queues and
 * tables created from the synthesized template, one emulated SQS event source per worker function, then any
 * further {@link LocalServerSpec} the caller lists (`servers`).
 *
 * Order: the core servers first (a taken port is reported before the 2-4 s synth), then the template, queues
 * and tables, the workers, the further servers. `stop()` closes in the reverse order and restores the process
 * variables it set (functions/local/local-variables.ts says which).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { startDogStatsdListener, type DogStatsdListener, type ListenerWarning } from './dogstatsd-listener.ts';
import { startLocalDynamoDb, type LocalDynamoDb } from './dynamodb-server.ts';
import { startEventSource, type EventSource, type EventSourceOptions, type InvocationCounts } from './event-source.ts';
import { addTemplateSchedules, schedulerVariables, startLocalScheduler, type LocalSchedulerOptions } from './local-scheduler.ts';
import { once, type LocalServer, type LocalServerSpec } from './local-server.ts';
import { LOCAL_STAGE, synthesizeLocalTemplate, type SynthOptions } from './local-synth.ts';
import {
  applyToProcessEnv,
  jobQueues,
  localVariables,
  sandboxEnvironment,
  type LocalJobQueue,
  type SandboxVariables,
} from './local-variables.ts';
import type { LocalSchedulerServer } from './scheduler-server.ts';
import { DOGSTATSD_PORT_ENV, DYNAMODB_PORT_ENV, LOCAL_ACCOUNT_ID, LOCAL_REGION, SCHEDULER_PORT_ENV, SQS_PORT_ENV } from './ports.ts';
import { startLocalSqsServer, type LocalSqsServer } from './sqs-server.ts';
import { createLocalQueues } from './local-queues.ts';
import { readTemplate, type LocalQueue, type StackModel, type TemplateFunction } from './template.ts';
import type { ResolveContext } from './template-values.ts';

export type { LocalJobQueue };

/** The repository root. */
export const REPO_ROOT: string = fileURLToPath(new URL('../../', import.meta.url));
/** Where local state goes by default (gitignored). */
export const DEFAULT_LOCAL_DIR: string = join(REPO_ROOT, '.local');
/** The worker entry every SQS-triggered function runs unless told otherwise. */
export const DEFAULT_WORKER_ENTRY: string = fileURLToPath(new URL('../handlers/worker.ts', import.meta.url));

/** How the template is obtained. */
export type TemplateSource =
  /** Synthesize the CDK app in-process (infra/app.ts) with these extra context values and queue settings. */
  | { readonly synth: SynthOptions }
  /** Use this parsed template. */
  | { readonly template: unknown };

/** Options of {@link startLocalEnvironment}; the event source ones apply to every worker. */
export interface LocalEnvironmentOptions
  extends Pick<EventSourceOptions, 'concurrencyLimit' | 'waitTimeSeconds' | 'onInvocation' | 'onLog'> {
  /** SQS endpoint port (0 = any free port). Default 9324. */
  readonly sqsPort?: number;
  /** DogStatsD UDP port (0 = any free port). Default 8125. */
  readonly dogstatsdPort?: number;
  /** DynamoDB stand-in port. Default 0. */
  readonly dynamodbPort?: number;
  /** The EventBridge Scheduler endpoint (port, clock, tick; default any free port, fired only by `runDue()`). */
  readonly scheduler?: LocalSchedulerOptions;
  /** Servers started last, given the running environment, in order. Default none. */
  readonly servers?: readonly LocalServerSpec[];
  /** Where the template comes from. Default: synthesize the app with stage `local`. */
  readonly source?: TemplateSource;
  /** Directory of local state (outbox, synthesized assembly). Default `<repo>/.local`. */
  readonly localDir?: string;
  /** The handler module (a path) of a function. Default {@link DEFAULT_WORKER_ENTRY}. */
  readonly entryFor?: (fn: TemplateFunction) => string;
  /** Extra variables for every sandbox (tests: shorter safety margins...). */
  readonly sandboxEnv?: Readonly<Record<string, string>>;
  /** Set the local variables (endpoint, credentials, `JOBS_QUEUE_URL_*`) on this process, for producers here. Default true. */
  readonly applyToProcessEnv?: boolean;
  /** Start the event sources. Default true. */
  readonly startWorkers?: boolean;
  /** DogStatsD warnings; default printed loudly. */
  readonly onMetricWarning?: (warning: ListenerWarning) => void;
  /** Problems that do not stop the environment (unresolvable variables, poller errors); default printed. */
  readonly onNotice?: (message: string) => void;
}

/** Invocation counts of one worker. */
export interface WorkerStats extends InvocationCounts {
  readonly functionName: string;
  /** Its logical job queue (`default`), or the queue's name when it has none. */
  readonly queue: string;
}

/** The running environment. */
export interface LocalEnvironment {
  readonly sqs: LocalSqsServer;
  readonly listener: DogStatsdListener;
  readonly dynamodb: LocalDynamoDb;
  /** The EventBridge Scheduler endpoint, holding the template's schedules and the one-time ones producers create. */
  readonly scheduler: LocalSchedulerServer;
  /** Every running server in start order, each with its header line; the `servers` option's ones join last. */
  readonly servers: readonly LocalServer[];
  /** An SQS client pointing at the local server. */
  readonly client: SQSClient;
  readonly model: StackModel;
  /** Job queues by logical name (`default`, `webhooks`). */
  readonly queues: ReadonlyMap<string, LocalJobQueue>;
  readonly workers: readonly EventSource[];
  /** The variables a producer or the CLI needs to use this environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly outboxDir: string;
  workerStats(): WorkerStats[];
  /** Ends every sandbox (closing their metrics clients); the next batches cold-start new ones. */
  reloadWorkers(): Promise<void>;
  /** Stops the servers of `servers`, the workers, then every core server; restores the process variables it set. */
  stop(): Promise<void>;
}

type Closer = () => Promise<void>;

/** Runs the closers in reverse order, each once, errors ignored (a stop must finish). */
async function closeAll(closers: Closer[]): Promise<void> {
  for (const close of closers.splice(0).toReversed()) await close().catch(() => undefined);
}

type CoreServers = Awaited<ReturnType<typeof startCoreServers>>;

async function startCoreServers(options: LocalEnvironmentOptions, closers: Closer[]) {
  const sqs = await startLocalSqsServer({ port: options.sqsPort });
  closers.push(() => sqs.close());
  const listener = await startDogStatsdListener({ port: options.dogstatsdPort, onWarning: options.onMetricWarning });
  closers.push(() => listener.close());
  const dynamodb = await startLocalDynamoDb(options.dynamodbPort);
  closers.push(() => dynamodb.close());
  // Port 0 and no timer unless asked (npm start asks for 9326 and a 1 s tick): tests fire schedules with runDue().
  const scheduler = await startLocalScheduler(sqs, { port: 0, tickMs: 0, onNotice: options.onNotice, ...options.scheduler });
  closers.push(() => scheduler.close());
  return { sqs, listener, dynamodb, scheduler };
}

function coreServers({ sqs, listener, dynamodb, scheduler }: CoreServers, queues: Iterable<LocalQueue>, scheduled: number): LocalServer[] {
  const urls = [...queues].map((queue) => queue.url).join(', ');
  return [
    { name: 'SQS', line: `${sqs.endpoint}    (port: ${SQS_PORT_ENV}; AWS_ENDPOINT_URL_SQS; queues ${urls})`, close: () => sqs.close() },
    {
      name: 'DogStatsD',
      line: `udp://${listener.host}:${listener.port}   (port: ${DOGSTATSD_PORT_ENV}; standing in for ${listener.standsInFor})`,
      close: () => listener.close(),
    },
    { name: 'DynamoDB', line: `${dynamodb.endpoint}   (port: ${DYNAMODB_PORT_ENV}; idempotency table)`, close: () => dynamodb.close() },
    {
      name: 'Scheduler',
      line: `${scheduler.endpoint}    (port: ${SCHEDULER_PORT_ENV}; AWS_ENDPOINT_URL_SCHEDULER; ${scheduled} periodic schedule(s))`,
      close: () => scheduler.close(),
    },
  ];
}

/** What the workers need besides their mapping. */
interface WorkerContext {
  readonly model: StackModel;
  readonly queues: ReadonlyMap<string, LocalQueue>;
  readonly variables: SandboxVariables;
  readonly client: SQSClient;
  readonly notice: (message: string) => void;
}

/** One event source per enabled SQS event source mapping of the template. */
function startWorkers(options: LocalEnvironmentOptions, context: WorkerContext): EventSource[] {
  const { model, notice } = context;
  const workers: EventSource[] = [];
  for (const mapping of model.mappings) {
    const fn = model.functions.find((candidate) => candidate.logicalId === mapping.functionLogicalId);
    const queue = context.queues.get(mapping.queueLogicalId);
    if (fn === undefined || queue === undefined) continue;
    if (!mapping.enabled) {
      notice(`event source ${mapping.logicalId} is disabled in the template: ${fn.functionName} does not poll ${queue.name}`);
      continue;
    }
    if (mapping.hasFilterCriteria)
      notice(`event source ${mapping.logicalId} has FilterCriteria, which the local environment does not apply`);
    const source = startEventSource({
      mapping,
      fn,
      queue,
      entryUrl: pathToFileURL(options.entryFor?.(fn) ?? DEFAULT_WORKER_ENTRY).href,
      env: sandboxEnvironment(fn, context.variables),
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT_ID,
      sqs: context.client,
      concurrencyLimit: options.concurrencyLimit,
      waitTimeSeconds: options.waitTimeSeconds,
      onInvocation: options.onInvocation,
      onLog: options.onLog,
      onNotice: notice,
    });
    workers.push(source);
  }
  return workers;
}

/** The template's queues created on the local server, and the context that resolves the functions' variables. */
async function createQueues(model: StackModel, client: SQSClient, sqs: LocalSqsServer) {
  const site = { region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID, stackName: `ServerlessJobs-${LOCAL_STAGE}` };
  const queuesByLogicalId = await createLocalQueues(model, client, sqs, site);
  const refs = new Map<string, string>([
    ...model.tables.map((table): [string, string] => [table.logicalId, table.tableName]),
    ...model.functions.map((fn): [string, string] => [fn.logicalId, fn.functionName]),
  ]);
  const resolveContext: ResolveContext = { ...site, queues: queuesByLogicalId, refs };
  return { queuesByLogicalId, resolveContext };
}

/** The workers' counts as read on every view refresh; each worker's job queue is looked up once, here. */
function statsOf(workers: readonly EventSource[], queues: ReadonlyMap<string, LocalJobQueue>): () => WorkerStats[] {
  const jobQueue = (worker: EventSource) => [...queues.values()].find((queue) => queue.logicalId === worker.queue.logicalId)?.queue;
  const named = workers.map((worker) => ({ worker, queue: jobQueue(worker) ?? worker.queue.name }));
  return () => named.map(({ worker, queue }) => ({ functionName: worker.functionName, queue, ...worker.counts() }));
}

/** Starts everything. Ports 0 pick free ports (tests); a taken port rejects with `PortInUseError`. */
export async function startLocalEnvironment(options: LocalEnvironmentOptions = {}): Promise<LocalEnvironment> {
  const notice = options.onNotice ?? ((message: string) => console.warn(message));
  const outboxDir = join(options.localDir ?? DEFAULT_LOCAL_DIR, 'outbox');
  mkdirSync(outboxDir, { recursive: true });
  const closers: Closer[] = [];
  try {
    const core = await startCoreServers(options, closers);
    const { sqs, listener, dynamodb, scheduler } = core;
    const source = options.source ?? { synth: {} };
    const template = 'template' in source ? source.template : await synthesizeLocalTemplate(source.synth);
    const model = readTemplate(template);
    await dynamodb.createTables(model.tables);
    const client = sqs.createClient();
    closers.push(async () => client.destroy());
    const { queuesByLogicalId, resolveContext } = await createQueues(model, client, sqs);
    const queues = jobQueues(model, queuesByLogicalId);
    const scheduled = addTemplateSchedules(scheduler, template, resolveContext);
    const env = {
      ...localVariables({ sqs: sqs.endpoint, dynamodb: dynamodb.endpoint }, queues.values()),
      ...schedulerVariables(scheduler, template, resolveContext),
    };
    const variables: SandboxVariables = {
      local: env,
      dogstatsd: listener,
      outboxDir,
      extra: options.sandboxEnv,
      resolveContext,
      onUnresolved: notice,
    };
    const workers =
      (options.startWorkers ?? true) ? startWorkers(options, { model, queues: queuesByLogicalId, variables, client, notice }) : [];
    closers.push(async () => void (await Promise.all(workers.map((worker) => worker.stop()))));
    // First in the list, so the process variables are restored after everything else has closed.
    if (options.applyToProcessEnv ?? true) closers.unshift(applyToProcessEnv(env));

    const servers = coreServers(core, queues.values(), scheduled);
    const environment: LocalEnvironment = {
      ...core,
      servers,
      client,
      model,
      queues,
      workers,
      env,
      outboxDir,
      workerStats: statsOf(workers, queues),
      reloadWorkers: async () => void (await Promise.all(workers.map((worker) => worker.reload()))),
      stop: once(() => closeAll(closers)),
    };
    for (const spec of options.servers ?? []) {
      const server = await spec.start(environment);
      servers.push(server);
      closers.push(() => server.close());
    }
    return environment;
  } catch (error) {
    await closeAll(closers);
    throw error;
  }
}
