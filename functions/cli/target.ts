/**
 * Where the CLI works: the local environment (default: http://127.0.0.1:9324, stage `local`, dummy
 * credentials) or AWS (`--stage <stage>`, credentials and region from the usual AWS environment), and how
 * it finds a logical queue (`default`) and its dead-letter queue there.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_STAGE, QUEUE_NAME_PREFIX, physicalQueueName } from '../client/queue-names.ts';
import { DEFAULT_SQS_PORT, LOCAL_CREDENTIALS, LOCAL_HOST, LOCAL_REGION, SQS_PORT_ENV } from '../local/ports.ts';
import { SCHEDULER_QUEUE, schedulerDeadLetterQueueName } from '../scheduling/names.ts';
import { QueueMissingError, UsageError, type ErrorContext } from './errors.ts';

/** Command-line choices about the target. */
export interface TargetOptions {
  /** `--stage`: the deployment stage; without `--local`/`--endpoint` it means AWS. */
  readonly stage?: string | undefined;
  /** `--local`: the local environment even with `--stage`. */
  readonly local?: boolean | undefined;
  /** `--endpoint`: an SQS endpoint (implies a local-style target: dummy credentials unless AWS env has some). */
  readonly endpoint?: string | undefined;
  /** `--region`. */
  readonly region?: string | undefined;
}

/** The resolved target. */
export interface Target extends ErrorContext {
  readonly stage: string;
  /** The explicit endpoint, for local targets; undefined on AWS (the SDK decides, `AWS_ENDPOINT_URL_SQS` included). */
  readonly endpoint: string | undefined;
  readonly sqs: SQSClient;
}

function checkEndpoint(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    return url.origin;
  } catch {
    throw new UsageError(`--endpoint must be an http(s) URL, got "${value}"`);
  }
}

/**
 * Resolves the target from the options and the environment. `sqs` replaces the client the target would
 * create (tests inject one with middleware); the endpoint must then match it.
 */
export function resolveTarget(options: TargetOptions, env: Readonly<Record<string, string | undefined>>, sqs?: SQSClient): Target {
  const local = options.local === true || options.endpoint !== undefined || options.stage === undefined;
  const stage = options.stage ?? LOCAL_STAGE;
  try {
    physicalQueueName({ stage, queue: 'default' });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (local) {
    const port = env[SQS_PORT_ENV] ?? String(DEFAULT_SQS_PORT);
    const endpoint = checkEndpoint(options.endpoint ?? env.AWS_ENDPOINT_URL_SQS ?? `http://${LOCAL_HOST}:${port}`);
    const region = options.region ?? env.AWS_REGION ?? LOCAL_REGION;
    // Never hand real credentials to a local emulator.
    const client = sqs ?? new SQSClient({ endpoint, region, credentials: LOCAL_CREDENTIALS });
    return { stage, endpoint, sqs: client, local: true, target: `local SQS at ${endpoint} (stage ${stage})` };
  }
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const client = sqs ?? new SQSClient(region ? { region } : {});
  return { stage, endpoint: undefined, sqs: client, local: false, target: `AWS SQS (stage ${stage}${region ? `, region ${region}` : ''})` };
}

/** A queue found on the target. */
export interface LocatedQueue {
  /** The logical name (`default`), or the physical name when given one. */
  readonly logical: string;
  /** Physical name. */
  readonly name: string;
  readonly url: string;
  readonly fifo: boolean;
  /** A dead-letter queue found through the source's redrive policy: after how many receives SQS moves a message here. */
  readonly maxReceiveCount?: number | undefined;
}

function isQueueMissing(error: unknown): boolean {
  const { name, Code } = error as { name?: unknown; Code?: unknown };
  return name === 'QueueDoesNotExist' || Code === 'AWS.SimpleQueueService.NonExistentQueue';
}

/** Rewrites a queue URL onto the target's endpoint (fauxqs answers with hosts that do not resolve here). */
function onTarget(target: Target, url: string): string {
  if (!target.endpoint) return url;
  return new URL(new URL(url).pathname, target.endpoint).toString();
}

async function queueUrlByName(target: Target, name: string, owner?: string): Promise<string | undefined> {
  try {
    const { QueueUrl } = await target.sqs.send(
      new GetQueueUrlCommand({ QueueName: name, ...(owner ? { QueueOwnerAWSAccountId: owner } : {}) }),
    );
    return QueueUrl ? onTarget(target, QueueUrl) : undefined;
  } catch (error) {
    if (isQueueMissing(error)) return undefined;
    throw error;
  }
}

async function stackQueueNames(target: Target): Promise<string[]> {
  try {
    const { QueueUrls = [] } = await target.sqs.send(new ListQueuesCommand({ QueueNamePrefix: `${QUEUE_NAME_PREFIX}-`, MaxResults: 50 }));
    return QueueUrls.map((url) => url.slice(url.lastIndexOf('/') + 1));
  } catch {
    return [];
  }
}

/**
 * Finds a queue by logical name (the naming rule, standard then FIFO), or by its physical name
 * (`serverless-jobs-...`).
 * Throws {@link QueueMissingError} naming what was looked for and what exists.
 */
export async function locateQueue(target: Target, queue: string): Promise<LocatedQueue> {
  const candidates: string[] = [];
  try {
    candidates.push(physicalQueueName({ stage: target.stage, queue }), physicalQueueName({ stage: target.stage, queue, fifo: true }));
  } catch {
    // Not a logical name: maybe a physical one.
  }
  if (queue.startsWith(`${QUEUE_NAME_PREFIX}-`) && /^[\w-]{1,80}(\.fifo)?$/.test(queue)) candidates.push(queue);
  for (const name of candidates) {
    const url = await queueUrlByName(target, name);
    if (url) return { logical: queue, name, url, fifo: name.endsWith('.fifo') };
  }
  const existing = await stackQueueNames(target);
  const hint = existing.length > 0 ? ` Queues there: ${existing.join(', ')}.` : '';
  // Queues of this stage exist: the environment runs and only the name is wrong, so no question about npm start.
  const stageRuns = existing.some((name) => name.startsWith(`${QUEUE_NAME_PREFIX}-${target.stage}-`));
  const stageHint = !target.local
    ? ' Is the stack deployed in this stage, account and region?'
    : stageRuns
      ? ''
      : ' Is the local environment running (`npm start`)? Another stage: --stage <stage> --local.';
  throw new QueueMissingError(`queue "${queue}" not found: no ${candidates.join(' or ')} at ${target.target}.${hint}${stageHint}`);
}

/**
 * The dead-letter queue of a queue: the target of its redrive policy, or else the naming rule's `-dlq`.
 * Throws {@link QueueMissingError} when there is none.
 */
export async function locateDeadLetterQueue(target: Target, source: LocatedQueue): Promise<LocatedQueue> {
  const { Attributes = {} } = await target.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: source.url, AttributeNames: ['RedrivePolicy'] }),
  );
  if (Attributes.RedrivePolicy) {
    const policy = JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn?: string; maxReceiveCount?: number | string };
    const [, , , , owner, name] = (policy.deadLetterTargetArn ?? '').split(':');
    const maxReceiveCount = Number(policy.maxReceiveCount);
    if (name) {
      const url = await queueUrlByName(target, name, owner);
      if (url) {
        return {
          logical: `${source.logical} (dead letters)`,
          name,
          url,
          fifo: name.endsWith('.fifo'),
          ...(Number.isInteger(maxReceiveCount) && maxReceiveCount > 0 ? { maxReceiveCount } : {}),
        };
      }
    }
  }
  const conventional = source.name.endsWith('.fifo') ? `${source.name.slice(0, -5)}-dlq.fifo` : `${source.name}-dlq`;
  const url = await queueUrlByName(target, conventional);
  if (url) return { logical: `${source.logical} (dead letters)`, name: conventional, url, fifo: source.fifo };
  throw new QueueMissingError(
    `queue "${source.name}" has no dead-letter queue at ${target.target} (no redrive policy, no ${conventional})`,
  );
}

/** The Scheduler's dead-letter queue of the target's stage. Throws {@link QueueMissingError} when there is none. */
export async function locateSchedulerDeadLetterQueue(target: Target): Promise<LocatedQueue> {
  const name = schedulerDeadLetterQueueName(target.stage);
  const url = await queueUrlByName(target, name);
  if (url) return { logical: `${SCHEDULER_QUEUE} (dead letters)`, name, url, fifo: false };
  throw new QueueMissingError(
    `the Scheduler's dead-letter queue ${name} not found at ${target.target}: is the stack deployed in this stage?`,
  );
}

/**
 * The dead-letter queue that `jobs dlq <command> <queue>` works on: a job queue's ({@link locateDeadLetterQueue}), or
 * for {@link SCHEDULER_QUEUE} the Scheduler's, which has no source queue (each message names its job queue).
 */
export async function locateDeadLetters(target: Target, queue: string): Promise<{ source: LocatedQueue | undefined; dlq: LocatedQueue }> {
  if (queue === SCHEDULER_QUEUE) return { source: undefined, dlq: await locateSchedulerDeadLetterQueue(target) };
  const source = await locateQueue(target, queue);
  return { source, dlq: await locateDeadLetterQueue(target, source) };
}
