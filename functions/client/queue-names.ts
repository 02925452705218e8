/**
 * The two naming rules producers, the CLI and the infrastructure must agree on:
 * - the environment variable that carries a queue's URL to producers ({@link queueUrlEnvVar});
 * - the physical SQS name of a logical queue in a stage ({@link physicalQueueName}).
 * Keep these the only place the rules are spelled.
 */

/** Prefix of every physical queue name. */
export const QUEUE_NAME_PREFIX = 'serverless-jobs';
/** The stage the local environment (`npm start`) and the CLI use when no `--stage` is given. */
export const LOCAL_STAGE = 'local';

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,15}$/;
/** SQS's limit for a queue name. */
const MAX_QUEUE_NAME_LENGTH = 80;
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

/**
 * The physical SQS queue name: `serverless-jobs-<stage>-<queue>`, `-dlq` appended for the dead-letter
 * queue, `.fifo` for FIFO queues (e.g. `serverless-jobs-prod-webhooks-dlq`). At most 80 characters.
 * The CDK stack (infra/job-queue.ts, `namePrefix` = `serverless-jobs-<stage>`) names its queues the same way.
 */
export function physicalQueueName({ stage, queue, deadLetter = false, fifo = false }: PhysicalQueue): string {
  if (!STAGE_PATTERN.test(stage))
    throw new RangeError(`stage "${stage}" must be lower-case letters, digits and dashes, at most 16 characters`);
  if (!QUEUE_PATTERN.test(queue)) throw new RangeError(`queue "${queue}" must be lower-case kebab-case, at most 40 characters`);
  const name = `${QUEUE_NAME_PREFIX}-${stage}-${queue}${deadLetter ? '-dlq' : ''}${fifo ? '.fifo' : ''}`;
  if (name.length > MAX_QUEUE_NAME_LENGTH)
    throw new RangeError(`queue name "${name}" is longer than SQS's ${MAX_QUEUE_NAME_LENGTH} characters`);
  return name;
}

/**
 * The worker function's name of a logical queue in a stage: `serverless-jobs-<stage>-<queue>-worker` (the stack
 * names its workers `${namePrefix}-${queue}-worker`; the dashboard reads their CloudWatch metrics by this name).
 */
export function workerFunctionName({ stage, queue }: Pick<PhysicalQueue, 'stage' | 'queue'>): string {
  physicalQueueName({ stage, queue });
  return `${QUEUE_NAME_PREFIX}-${stage}-${queue}-worker`;
}
