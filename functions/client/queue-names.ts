/**
 * The naming rules producers, the CLI and the infrastructure must agree on, with no side effects (the CDK app,
 * the monitoring and the client all import it):
 * - the environment variable that carries a queue's URL to producers ({@link queueUrlEnvVar});
 * - the physical names of a logical queue's resources in a stage ({@link physicalName}): the SQS queue, its DLQ
 *   and its worker function.
 * Keep these the only place the rules are spelled.
 */

/** Prefix of every physical name. */
export const QUEUE_NAME_PREFIX = 'serverless-jobs';
/** The stack's default service name: Datadog's `service` tag and the first part of its SSM parameter names. */
export const DEFAULT_SERVICE = 'serverless-jobs';
/** The stage the local environment (`npm start`) and the CLI use when no `--stage` is given. */
export const LOCAL_STAGE = 'local';

/** What a stage name may look like: it is part of every physical name. */
export const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,15}$/;
/** SQS's limit for a queue name. */
const MAX_QUEUE_NAME_LENGTH = 80;
/** Lambda's limit for a function name. */
const MAX_FUNCTION_NAME_LENGTH = 64;
const QUEUE_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/**
 * The environment variable holding a logical queue's URL: `JOBS_QUEUE_URL_` + the name upper-cased with
 * dashes turned into underscores (`default` -> `JOBS_QUEUE_URL_DEFAULT`, `bulk-email` -> `JOBS_QUEUE_URL_BULK_EMAIL`).
 */
export function queueUrlEnvVar(queue: string): string {
  return `JOBS_QUEUE_URL_${queue.toUpperCase().replaceAll('-', '_')}`;
}

/** What identifies one physical queue. */
export interface PhysicalQueue {
  /** Deployment stage (`local`, `dev`, `prod`): lower-case, at most 16 characters (the stack's rule). */
  readonly stage: string;
  /** Logical queue name from the job catalog (`default`, `webhooks`). */
  readonly queue: string;
  /** The queue's dead-letter queue instead of the queue itself. */
  readonly deadLetter?: boolean;
  /** A FIFO queue (name ends in `.fifo`). */
  readonly fifo?: boolean;
}

/** A resource of a logical queue that has a physical name. */
export type QueueResource = 'queue' | 'dead-letter-queue' | 'worker';

/** `serverless-jobs-<stage>`: the prefix of every physical name of a stage. */
export function stageNamePrefix(stage: string): string {
  if (!STAGE_PATTERN.test(stage))
    throw new RangeError(`stage "${stage}" must be lower-case letters, digits and dashes, starting with a letter, at most 16 characters`);
  return `${QUEUE_NAME_PREFIX}-${stage}`;
}

/**
 * The physical name of one resource of a logical queue: `serverless-jobs-<stage>-<queue>` for the SQS queue,
 * `-dlq` appended for its dead-letter queue, `-worker` for its Lambda function; `.fifo` ends a FIFO queue's
 * names (e.g. `serverless-jobs-prod-webhooks-dlq.fifo`). Queue names are at most 80 characters, function names 64.
 * @throws RangeError when the stage or queue name breaks the rule or the name is too long
 */
export function physicalName(stage: string, queue: string, resource: QueueResource, fifo = false): string {
  if (!QUEUE_PATTERN.test(queue)) throw new RangeError(`queue "${queue}" must be lower-case kebab-case, at most 40 characters`);
  const base = `${stageNamePrefix(stage)}-${queue}`;
  if (resource === 'worker') {
    const name = `${base}-worker`;
    if (name.length > MAX_FUNCTION_NAME_LENGTH)
      throw new RangeError(
        `worker name "${name}" is longer than Lambda's ${MAX_FUNCTION_NAME_LENGTH} characters: shorten the stage or the queue name`,
      );
    return name;
  }
  const name = `${base}${resource === 'dead-letter-queue' ? '-dlq' : ''}${fifo ? '.fifo' : ''}`;
  if (name.length > MAX_QUEUE_NAME_LENGTH)
    throw new RangeError(`queue name "${name}" is longer than SQS's ${MAX_QUEUE_NAME_LENGTH} characters`);
  return name;
}

/** The physical SQS name of a queue or its DLQ ({@link physicalName}). */
export function physicalQueueName({ stage, queue, deadLetter = false, fifo = false }: PhysicalQueue): string {
  return physicalName(stage, queue, deadLetter ? 'dead-letter-queue' : 'queue', fifo);
}

/**
 * The worker function's name of a logical queue in a stage ({@link physicalName}): the dashboard reads its
 * CloudWatch metrics by this name.
 */
export function workerFunctionName({ stage, queue }: Pick<PhysicalQueue, 'stage' | 'queue'>): string {
  return physicalName(stage, queue, 'worker');
}
