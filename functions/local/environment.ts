/**
 * The whole job processor on embedded parts: the SQS endpoint (fauxqs), the DogStatsD listener standing in
 * for the Datadog Lambda extension, a DynamoDB stand-in (dynalite) for the template's tables, the queues and
 * tables created from the synthesized template, and one emulated SQS event source per worker function.
 *
 * Local-only settings are set here and only here: dummy credentials and region, `AWS_ENDPOINT_URL_SQS` /
 * `AWS_ENDPOINT_URL_DYNAMODB`, `EMAIL_OUTBOX_DIR` under `.local/`, `WEBHOOK_ALLOW_PRIVATE_NETWORKS=1`, and
 * `DD_AGENT_HOST` / `DD_DOGSTATSD_PORT` pointing at the local listener. Sandboxes see only their function's
 * environment plus these (never the developer's own AWS credentials), so no real AWS is called.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { queueUrlEnvVar } from '../client/queue-names.ts';
import { startDogStatsdListener, type DogStatsdListener, type ListenerWarning } from './dogstatsd-listener.ts';
import { startLocalDynamoDb, type LocalDynamoDb } from './dynamodb-server.ts';
import { startEventSource, type EventSource, type InvocationReport } from './event-source.ts';
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION, startLocalSqsServer, type LocalSqsServer } from './sqs-server.ts';
import {
  createLocalQueues,
  readTemplate,
  resolveEnvironment,
  type LocalQueue,
  type ResolveContext,
  type StackModel,
  type TemplateFunction,
} from './template.ts';

/** The repository root. */
export const REPO_ROOT: string = fileURLToPath(new URL('../../', import.meta.url));
/** Where local state goes by default (gitignored). */
export const DEFAULT_LOCAL_DIR: string = join(REPO_ROOT, '.local');
/** The stage the local environment synthesizes (queue names `serverless-jobs-local-<queue>`). */
export const LOCAL_STAGE = 'local';
/** The worker entry every SQS-triggered function runs unless told otherwise. */
export const DEFAULT_WORKER_ENTRY: string = fileURLToPath(new URL('../handlers/worker.ts', import.meta.url));
/** Dummy credentials: the local servers do not check signatures, and real ones must never be used. */
export { LOCAL_CREDENTIALS };

/** How the template is obtained. */
export type TemplateSource =
  /** Synthesize the CDK app in-process (infra/app.ts) with these extra context values and queue settings. */
  | { readonly synth: SynthOptions }
  /** Use this parsed template. */
  | { readonly template: unknown };

/** Options of {@link startLocalEnvironment}. */
export interface LocalEnvironmentOptions {
  /** SQS endpoint port (0 = any free port). Default 9324. */
  readonly sqsPort?: number;
  /** DogStatsD UDP port (0 = any free port). Default 8125. */
  readonly dogstatsdPort?: number;
  /** DynamoDB stand-in port. Default 0. */
  readonly dynamodbPort?: number;
  /** Where the template comes from. Default: synthesize the app with stage `local`. */
  readonly source?: TemplateSource;
  /** Directory of local state (outbox, synthesized assembly). Default `<repo>/.local`. */
  readonly localDir?: string;
  /** The handler module (a path) of a function. Default {@link DEFAULT_WORKER_ENTRY}. */
  readonly entryFor?: (fn: TemplateFunction) => string;
  /** Local cap on concurrent sandboxes per worker (each is a thread with the whole module loaded). Default 4. */
  readonly concurrencyLimit?: number;
  /** Long-poll wait of the event sources (1-20 s). Default 20. */
  readonly waitTimeSeconds?: number;
  /** Extra variables for every sandbox (tests: shorter safety margins...). */
  readonly sandboxEnv?: Readonly<Record<string, string>>;
  /** Set the local variables (endpoint, credentials, `JOBS_QUEUE_URL_*`) on this process, for producers here. Default true. */
  readonly applyToProcessEnv?: boolean;
  /** Start the event sources. Default true. */
  readonly startWorkers?: boolean;
  readonly onInvocation?: (report: InvocationReport) => void;
  /** Handler log lines; default passed through to this process. */
  readonly onLog?: (functionName: string, stream: 'stdout' | 'stderr', line: string) => void;
  /** DogStatsD warnings; default printed loudly. */
  readonly onMetricWarning?: (warning: ListenerWarning) => void;
  /** Problems that do not stop the environment (unresolvable variables, poller errors); default printed. */
  readonly onNotice?: (message: string) => void;
}

/** One job queue of the stack, as the local environment created it. */
export interface LocalJobQueue extends LocalQueue {
  /** The logical queue name (`default`, `webhooks`). */
  readonly queue: string;
  readonly fifo: boolean;
  readonly deadLetter: LocalQueue | undefined;
  readonly maxReceiveCount: number | undefined;
  /** The worker function consuming it. */
  readonly functionName: string | undefined;
}

/** Invocation counts of one worker. */
export interface WorkerStats {
  readonly functionName: string;
  readonly queue: string;
  readonly invocations: number;
  readonly coldStarts: number;
  readonly failed: number;
  readonly timeouts: number;
  readonly lastError: string | undefined;
}

/** The running environment. */
export interface LocalEnvironment {
  readonly sqs: LocalSqsServer;
  readonly listener: DogStatsdListener;
  readonly dynamodb: LocalDynamoDb;
  /** An SQS client pointing at the local server. */
  readonly client: SQSClient;
  readonly model: StackModel;
  /** Job queues by logical name (`default`, `webhooks`). */
  readonly queues: ReadonlyMap<string, LocalJobQueue>;
  /** Every queue of the template by logical id. */
  readonly queuesByLogicalId: ReadonlyMap<string, LocalQueue>;
  readonly workers: readonly EventSource[];
  /** The variables a producer or the CLI needs to use this environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly outboxDir: string;
  /** Invocation counts per worker. */
  workerStats(): WorkerStats[];
  /** Ends every sandbox (closing their metrics clients); the next batches cold-start new ones. */
  reloadWorkers(): Promise<void>;
  /** Stops workers, then every server; restores the process variables it set. */
  stop(): Promise<void>;
}

/** Synth warnings that do not apply to a local run (Datadog off: the local listener stands in; the placeholder sender). */
const LOCAL_ACKNOWLEDGED_WARNINGS = ['serverless-jobs:datadog-off', 'serverless-jobs:email-from-placeholder'];

/** What to synthesize: extra CDK context and per-queue setting overrides (infra/queue-settings.ts). */
export interface SynthOptions {
  readonly context?: Readonly<Record<string, unknown>>;
  readonly queueSettings?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/**
 * Synthesizes the CDK app in-process (infra/app.ts) as the local environment does: stage `local`, no bundling,
 * no cdk-nag, into a temporary directory that is removed afterwards. Returns the stack's template.
 */
export async function synthesizeLocalTemplate(source: SynthOptions = {}): Promise<unknown> {
  const outdir = mkdtempSync(join(tmpdir(), 'serverless-jobs-local-cdk-'));
  try {
    return await synthesize(source, outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

async function synthesize(source: SynthOptions, outdir: string): Promise<unknown> {
  const [{ buildApp }, { Annotations }] = await Promise.all([import('../../infra/app.ts'), import('aws-cdk-lib')]);
  const { app, stack } = buildApp({
    context: { stage: LOCAL_STAGE, nag: false, 'aws:cdk:bundling-stacks': [], ...source.context },
    outdir,
    ...(source.queueSettings ? { queueSettings: source.queueSettings } : {}),
  });
  // Locally the DogStatsD listener stands in for the extension, and emails go to the outbox.
  for (const id of LOCAL_ACKNOWLEDGED_WARNINGS) Annotations.of(stack).acknowledgeWarning(id, 'not relevant to the local environment');
  // The built-in CloudFormation schema validation (2-4 s of the local start) is skipped: it checks the template for
  // deployment, and `cdk synth` and the infra tests still run it. The template itself is the same.
  const validation = process.env.CDK_VALIDATION;
  process.env.CDK_VALIDATION = 'false';
  try {
    return app.synth().getStackByName(stack.stackName).template;
  } finally {
    if (validation === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = validation;
  }
}

function logicalQueueName(queue: { logicalId: string; metadata: Readonly<Record<string, unknown>> }, fallback: string | undefined): string {
  const tagged = queue.metadata.ServerlessJobs;
  if (typeof tagged === 'object' && tagged !== null && typeof (tagged as { queue?: unknown }).queue === 'string') {
    return (tagged as { queue: string }).queue;
  }
  return fallback ?? queue.logicalId;
}

/** Starts everything. Ports 0 pick free ports (tests); a taken port rejects with `PortInUseError`. */
export async function startLocalEnvironment(options: LocalEnvironmentOptions = {}): Promise<LocalEnvironment> {
  const notice = options.onNotice ?? ((message: string) => console.warn(message));
  const localDir = options.localDir ?? DEFAULT_LOCAL_DIR;
  const outboxDir = join(localDir, 'outbox');
  mkdirSync(outboxDir, { recursive: true });
  const region = LOCAL_REGION;

  const cleanups: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).toReversed()) await cleanup().catch(() => undefined);
  };
  try {
    const sqs = await startLocalSqsServer({ port: options.sqsPort ?? 9324, region });
    cleanups.push(() => sqs.close());
    const listener = await startDogStatsdListener({
      port: options.dogstatsdPort ?? 8125,
      ...(options.onMetricWarning ? { onWarning: options.onMetricWarning } : {}),
    });
    cleanups.push(() => listener.close());
    const dynamodb = await startLocalDynamoDb({
      port: options.dynamodbPort ?? 0,
      region,
      credentials: LOCAL_CREDENTIALS,
      portEnvVar: 'LOCAL_DYNAMODB_PORT',
    });
    cleanups.push(() => dynamodb.close());

    // The servers first, so a taken port is reported at once; a synth error closes them again.
    const source = options.source ?? { synth: {} };
    const model = readTemplate('template' in source ? source.template : await synthesizeLocalTemplate(source.synth));
    await dynamodb.createTables(model.tables);

    const client = sqs.createClient();
    cleanups.push(async () => client.destroy());
    const stackName = `ServerlessJobs-${LOCAL_STAGE}`;
    const queuesByLogicalId = await createLocalQueues(model, client, sqs, { region, accountId: LOCAL_ACCOUNT_ID, stackName });
    const refs = new Map<string, string>([
      ...model.tables.map((table): [string, string] => [table.logicalId, table.tableName]),
      ...model.functions.map((fn): [string, string] => [fn.logicalId, fn.functionName]),
    ]);
    const resolveContext: ResolveContext = { region, accountId: LOCAL_ACCOUNT_ID, stackName, queues: queuesByLogicalId, refs };

    // The variables every local process uses (producers, the CLI, the sandboxes).
    const localEnv: Record<string, string> = {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
    };

    const queues = new Map<string, LocalJobQueue>();
    const functionsById = new Map(model.functions.map((fn) => [fn.logicalId, fn]));
    for (const queue of model.queues) {
      const mapping = model.mappings.find((candidate) => candidate.queueLogicalId === queue.logicalId);
      if (mapping === undefined) continue;
      const fn = functionsById.get(mapping.functionLogicalId);
      const jobQueue = typeof fn?.environment.JOB_QUEUE === 'string' ? fn.environment.JOB_QUEUE : undefined;
      const name = logicalQueueName(queue, jobQueue);
      const local = queuesByLogicalId.get(queue.logicalId);
      if (local === undefined) continue;
      const deadLetter = queue.redrive === undefined ? undefined : queuesByLogicalId.get(queue.redrive.deadLetterLogicalId);
      queues.set(name, {
        ...local,
        queue: name,
        fifo: queue.fifo,
        deadLetter,
        maxReceiveCount: queue.redrive?.maxReceiveCount,
        functionName: fn?.functionName,
      });
      localEnv[queueUrlEnvVar(name)] = local.url;
    }

    const sandboxLocalEnv: Record<string, string> = {
      ...localEnv,
      DD_AGENT_HOST: listener.host,
      DD_DOGSTATSD_PORT: String(listener.port),
      EMAIL_OUTBOX_DIR: outboxDir,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1',
    };

    const stats = new Map<
      string,
      { queue: string; invocations: number; coldStarts: number; failed: number; timeouts: number; lastError: string | undefined }
    >();
    const onInvocation = (report: InvocationReport): void => {
      const entry = stats.get(report.functionName);
      if (entry !== undefined) {
        entry.invocations += 1;
        if (report.coldStart) entry.coldStarts += 1;
        if (report.status === 'timeout') entry.timeouts += 1;
        if (report.status !== 'success' && report.status !== 'partial') {
          entry.failed += 1;
          entry.lastError = report.error;
        }
      }
      options.onInvocation?.(report);
    };

    const workers: EventSource[] = [];
    cleanups.push(async () => {
      await Promise.all(workers.map((worker) => worker.stop()));
    });
    if (options.startWorkers ?? true) {
      for (const mapping of model.mappings) {
        const fn = functionsById.get(mapping.functionLogicalId);
        const queue = queuesByLogicalId.get(mapping.queueLogicalId);
        if (fn === undefined || queue === undefined) continue;
        if (!mapping.enabled) {
          notice(`event source ${mapping.logicalId} is disabled in the template: ${fn.functionName} does not poll ${queue.name}`);
          continue;
        }
        if (mapping.hasFilterCriteria)
          notice(`event source ${mapping.logicalId} has FilterCriteria, which the local environment does not apply`);
        const { variables, unresolved } = resolveEnvironment(fn, resolveContext);
        for (const problem of unresolved) notice(`${fn.functionName}: variable ${problem}; it is left out locally`);
        // The local listener is the DogStatsD target; NODE_OPTIONS does not apply to a thread.
        const functionEnv = Object.fromEntries(
          Object.entries(variables).filter(([key]) => key !== 'DD_DOGSTATSD_URL' && key !== 'NODE_OPTIONS'),
        );
        const env: Record<string, string> = {
          ...(process.env.PATH ? { PATH: process.env.PATH } : {}),
          ...(process.env.LANG ? { LANG: process.env.LANG } : {}),
          AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
          AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
          AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
          AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime ?? 'nodejs24.x'}`,
          _HANDLER: fn.handler,
          ...functionEnv,
          ...sandboxLocalEnv,
          ...options.sandboxEnv,
        };
        const entry = options.entryFor?.(fn) ?? DEFAULT_WORKER_ENTRY;
        stats.set(fn.functionName, {
          queue: queues.get(typeof fn.environment.JOB_QUEUE === 'string' ? fn.environment.JOB_QUEUE : '')?.queue ?? queue.name,
          invocations: 0,
          coldStarts: 0,
          failed: 0,
          timeouts: 0,
          lastError: undefined,
        });
        workers.push(
          startEventSource({
            mapping,
            fn,
            queue,
            entryUrl: pathToFileURL(entry).href,
            env,
            region,
            accountId: LOCAL_ACCOUNT_ID,
            sqs: client,
            ...(options.concurrencyLimit === undefined ? {} : { concurrencyLimit: options.concurrencyLimit }),
            ...(options.waitTimeSeconds === undefined ? {} : { waitTimeSeconds: options.waitTimeSeconds }),
            onInvocation,
            ...(options.onLog ? { onLog: options.onLog } : {}),
            onError: (name, error) => notice(`event source ${name}: ${error.name}: ${error.message}`),
          }),
        );
      }
    }

    const previousEnv = new Map<string, string | undefined>();
    if (options.applyToProcessEnv ?? true) {
      for (const [key, value] of Object.entries(localEnv)) {
        previousEnv.set(key, process.env[key]);
        process.env[key] = value;
      }
      for (const key of ['AWS_SESSION_TOKEN', 'AWS_PROFILE']) {
        previousEnv.set(key, process.env[key]);
        delete process.env[key];
      }
    }
    const restoreEnv = async (): Promise<void> => {
      for (const [key, value] of previousEnv) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    };
    cleanups.unshift(restoreEnv);

    let stopping: Promise<void> | undefined;
    return {
      sqs,
      listener,
      dynamodb,
      client,
      model,
      queues,
      queuesByLogicalId,
      workers,
      env: localEnv,
      outboxDir,
      workerStats: () => [...stats].map(([functionName, entry]) => ({ functionName, ...entry })),
      reloadWorkers: async () => {
        await Promise.all(workers.map((worker) => worker.reload()));
      },
      stop() {
        stopping ??= closeAll();
        return stopping;
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
