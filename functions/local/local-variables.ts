/**
 * What the local environment tells its processes, set here and only here (the Scheduler's variables aside:
 * local-scheduler.ts): dummy credentials and region, the local endpoints, `JOBS_QUEUE_URL_*` per job queue,
 * and for sandboxes the DogStatsD target, the outbox and `WEBHOOK_ALLOW_PRIVATE_NETWORKS=1`. A sandbox sees
 * only its function's resolved environment plus these, never the developer's own AWS credentials.
 */
import { queueUrlEnvVar } from '../client/queue-names.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './ports.ts';
import type { LocalQueue, StackModel, TemplateFunction, TemplateQueue } from './template.ts';
import { objectOr, resolveEnvironment, type ResolveContext } from './template-values.ts';

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

/** A job queue's logical name: the stack's `ServerlessJobs.queue` metadata, else its worker's `JOB_QUEUE`, else its logical id. */
function logicalQueueName(queue: TemplateQueue, fn: TemplateFunction | undefined): string {
  const tagged = objectOr(queue.metadata.ServerlessJobs).queue;
  if (typeof tagged === 'string') return tagged;
  return typeof fn?.environment.JOB_QUEUE === 'string' ? fn.environment.JOB_QUEUE : queue.logicalId;
}

/** The job queues (queues an event source mapping reads) by logical name, with their DLQs and workers. */
export function jobQueues(model: StackModel, created: ReadonlyMap<string, LocalQueue>): Map<string, LocalJobQueue> {
  const queues = new Map<string, LocalJobQueue>();
  const functionsById = new Map(model.functions.map((fn) => [fn.logicalId, fn]));
  for (const queue of model.queues) {
    const mapping = model.mappings.find((candidate) => candidate.queueLogicalId === queue.logicalId);
    const local = created.get(queue.logicalId);
    if (mapping === undefined || local === undefined) continue;
    const fn = functionsById.get(mapping.functionLogicalId);
    const name = logicalQueueName(queue, fn);
    const deadLetter = queue.redrive === undefined ? undefined : created.get(queue.redrive.deadLetterLogicalId);
    queues.set(name, {
      ...local,
      queue: name,
      fifo: queue.fifo,
      deadLetter,
      maxReceiveCount: queue.redrive?.maxReceiveCount,
      functionName: fn?.functionName,
    });
  }
  return queues;
}

/** The variables of every local process (producers, the CLI, the sandboxes). */
export function localVariables(endpoints: { sqs: string; dynamodb: string }, queues: Iterable<LocalJobQueue>): Record<string, string> {
  const variables: Record<string, string> = {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
  };
  for (const queue of queues) variables[queueUrlEnvVar(queue.queue)] = queue.url;
  return variables;
}

/** What every sandbox gets on top of its function's own variables. */
export interface SandboxVariables {
  /** {@link localVariables} and the Scheduler's. */
  readonly local: Readonly<Record<string, string>>;
  readonly dogstatsd: { readonly host: string; readonly port: number };
  readonly outboxDir: string;
  /** Extra variables (tests), applied last. */
  readonly extra: Readonly<Record<string, string>> | undefined;
  readonly resolveContext: ResolveContext;
  /** Told of each function variable that cannot be resolved locally (it is left out). */
  readonly onUnresolved: (problem: string) => void;
}

/** A sandbox's whole environment: Lambda's own variables, the function's resolved ones, then the local ones. */
export function sandboxEnvironment(fn: TemplateFunction, given: SandboxVariables): Record<string, string> {
  const { variables, unresolved } = resolveEnvironment(fn, given.resolveContext);
  for (const problem of unresolved) given.onUnresolved(`${fn.functionName}: variable ${problem}; it is left out locally`);
  // The local listener is the DogStatsD target; NODE_OPTIONS does not apply to a thread.
  const own = Object.fromEntries(Object.entries(variables).filter(([key]) => key !== 'DD_DOGSTATSD_URL' && key !== 'NODE_OPTIONS'));
  return {
    ...(process.env.PATH ? { PATH: process.env.PATH } : {}),
    ...(process.env.LANG ? { LANG: process.env.LANG } : {}),
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime ?? 'nodejs24.x'}`,
    _HANDLER: fn.handler,
    ...own,
    ...given.local,
    DD_AGENT_HOST: given.dogstatsd.host,
    DD_DOGSTATSD_PORT: String(given.dogstatsd.port),
    EMAIL_OUTBOX_DIR: given.outboxDir,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1',
    ...given.extra,
  };
}

/** Sets each variable on this process; undefined unsets it. */
function setProcessVariables(values: ReadonlyMap<string, string | undefined>): void {
  for (const [key, value] of values) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}

/** Sets `variables` on this process (and unsets AWS_SESSION_TOKEN / AWS_PROFILE); returns what restores them. */
export function applyToProcessEnv(variables: Readonly<Record<string, string>>): () => Promise<void> {
  const changes = new Map([...Object.entries(variables), ['AWS_SESSION_TOKEN', undefined], ['AWS_PROFILE', undefined]]);
  const previous = new Map([...changes.keys()].map((key) => [key, process.env[key]]));
  setProcessVariables(changes);
  return async () => setProcessVariables(previous);
}
