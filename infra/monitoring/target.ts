/**
 * What is monitored: the queues, their job types and the AWS names Datadog knows them by.
 *
 * A {@link MonitoringTarget} is plain data. {@link targetFromCatalog} builds it from the job catalog
 * (so a new queue or job type appears on the dashboard and in the monitors without editing them);
 * the CDK construct builds it from the stack's queues and workers.
 */
import { z } from 'zod';
import { DEFAULT_SERVICE, physicalName } from '../../functions/client/queue-names.ts';
import { scheduleGroupName } from '../../functions/scheduling/names.ts';
import { catalog, queueNames } from '../../functions/jobs/catalog.ts';
import { exponentialDelaySeconds, type JobDefinition } from '../../functions/runtime/job.ts';
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import { tagValueProblem } from './query.ts';
import { resolveQueueSettings } from '../queue-settings.ts';

/** One logical queue with its worker. */
export interface MonitoredQueue {
  /** The logical queue name (`default`, `webhooks`): the `queue` tag of `jobs.*` metrics. */
  readonly queue: string;
  /** The job types the queue carries: the `job_type` tag values. */
  readonly jobTypes: readonly string[];
  /** The source queue's SQS name: the `queuename` tag of `aws.sqs.*` metrics. */
  readonly sqsQueueName: string;
  /** The dead-letter queue's SQS name. */
  readonly sqsDeadLetterQueueName: string;
  /** The worker's Lambda function name: the `functionname` tag. */
  readonly functionName: string;
  /**
   * Seconds a message can legitimately wait in the source queue because of retry backoff (the longest
   * un-jittered schedule of its job types). The oldest-message monitor never alerts below this.
   */
  readonly retryWindowSeconds: number;
  /**
   * The queue's own oldest-message alarm threshold (`oldestMessageAgeAlarmSeconds` of infra/queue-settings.ts,
   * shared with its CloudWatch alarm). When set, it is the monitor's alert threshold instead of the option's.
   */
  readonly oldestMessageAgeAlarmSeconds?: number;
  /** How long the DLQ keeps a message (default 14 days, the SQS maximum the stack uses). */
  readonly deadLetterRetentionSeconds?: number;
}

/** Everything the dashboard and monitors are generated from. */
export interface MonitoringTarget {
  /** The `service` tag the workers send (DD_SERVICE). */
  readonly service: string;
  /** The `env` tag the workers send (DD_ENV), usually the stage. */
  readonly env: string;
  readonly queues: readonly MonitoredQueue[];
  /**
   * The stage's EventBridge Scheduler schedule group (`scheduleGroupName` of functions/scheduling/names.ts), lower-cased:
   * the `schedulegroup` tag of `aws.scheduler.*` metrics. Without it there are no Scheduler monitors.
   */
  readonly scheduleGroupName?: string;
}

/** The AWS names of one logical queue's resources. */
export interface PhysicalNames {
  readonly sqsQueueName: string;
  readonly sqsDeadLetterQueueName: string;
  readonly functionName: string;
}

/** Options of {@link targetFromCatalog}. */
export interface CatalogTargetOptions {
  /** Default `serverless-jobs`. */
  readonly service?: string;
  /** Default `dev`. */
  readonly env?: string;
  /** AWS names per logical queue. Default {@link defaultPhysicalNames}. */
  readonly physicalNames?: (queue: string, env: string) => PhysicalNames;
}

/** The stack's naming: the one rule of `functions/client/queue-names.ts` (`serverless-jobs-<stage>-<queue>`, `-dlq`, `-worker`). */
export function defaultPhysicalNames(queue: string, env: string): PhysicalNames {
  return {
    sqsQueueName: physicalName(env, queue, 'queue'),
    sqsDeadLetterQueueName: physicalName(env, queue, 'dead-letter-queue'),
    functionName: physicalName(env, queue, 'worker'),
  };
}

/**
 * Seconds from a message's first receive to its last attempt when every retry waits the full
 * (un-jittered) backoff: the sum of the delays after attempts 1 .. maxAttempts-1.
 */
export function retryWindowSeconds(job: Pick<JobDefinition, 'retry'>): number {
  let total = 0;
  for (let attempt = 1; attempt < job.retry.maxAttempts; attempt += 1) total += exponentialDelaySeconds(job.retry, attempt);
  return total;
}

function catalogJobs(): readonly JobDefinition[] {
  return Object.values(catalog) as readonly JobDefinition[];
}

/** The job types of the catalog that run on `queue`, sorted. */
export function catalogJobTypes(queue: string): string[] {
  return catalogJobs()
    .filter((job) => job.queue === queue)
    .map((job) => job.type)
    .toSorted();
}

/** The longest {@link retryWindowSeconds} of the catalog's job types on `queue` (0 for none). */
export function catalogRetryWindowSeconds(jobTypes: readonly string[]): number {
  return Math.max(
    0,
    ...catalogJobs()
      .filter((job) => jobTypes.includes(job.type))
      .map(retryWindowSeconds),
  );
}

/** Builds the monitoring target from the job catalog and a naming rule, without any AWS resource. */
export function targetFromCatalog(options: CatalogTargetOptions = {}): MonitoringTarget {
  // The worker lower-cases its tag values (and Datadog would anyway).
  const service = (options.service ?? DEFAULT_SERVICE).toLowerCase();
  const env = (options.env ?? 'dev').toLowerCase();
  const names = options.physicalNames ?? defaultPhysicalNames;
  const named = (queue: string): PhysicalNames => {
    try {
      return normalizedNames(names(queue, env));
    } catch (error) {
      if (error instanceof RangeError) throw new ConfigurationError(`monitoring: ${error.message}`);
      throw error;
    }
  };
  return validateTarget({
    service,
    env,
    scheduleGroupName: scheduleGroupName(env).toLowerCase(),
    queues: queueNames.map((queue) => {
      const jobTypes = catalogJobTypes(queue);
      const settings = resolveQueueSettings(
        queue,
        catalogJobs().filter((job) => job.queue === queue),
      );
      return {
        queue,
        jobTypes,
        ...named(queue),
        retryWindowSeconds: catalogRetryWindowSeconds(jobTypes),
        oldestMessageAgeAlarmSeconds: settings.oldestMessageAgeAlarmSeconds,
        deadLetterRetentionSeconds: settings.deadLetterRetentionSeconds,
      };
    }),
  });
}

/** Datadog lower-cases tag values; a name used as a tag value must be compared lower-case too. */
export function normalizedNames(names: PhysicalNames): PhysicalNames {
  return {
    sqsQueueName: names.sqsQueueName.toLowerCase(),
    sqsDeadLetterQueueName: names.sqsDeadLetterQueueName.toLowerCase(),
    functionName: names.functionName.toLowerCase(),
  };
}

const positive = z.number().positive().optional();

const queueSchema = z
  .object({
    queue: z.string(),
    jobTypes: z.array(z.string()),
    sqsQueueName: z.string(),
    sqsDeadLetterQueueName: z.string(),
    functionName: z.string(),
    retryWindowSeconds: z
      .number({ error: 'retryWindowSeconds must be a number >= 0' })
      .min(0, { error: 'retryWindowSeconds must be a number >= 0' }),
    oldestMessageAgeAlarmSeconds: positive,
    deadLetterRetentionSeconds: positive,
  })
  .superRefine((q, ctx) => {
    const names: Array<readonly [string, string]> = [
      ['queue', q.queue],
      ...q.jobTypes.map((t) => [`job type of queue "${q.queue}"`, t] as const),
      [`SQS name of queue "${q.queue}"`, q.sqsQueueName],
      [`DLQ name of queue "${q.queue}"`, q.sqsDeadLetterQueueName],
      [`function name of queue "${q.queue}"`, q.functionName],
    ];
    if (q.jobTypes.length === 0) ctx.addIssue({ code: 'custom', message: `queue "${q.queue}" has no job type` });
    for (const [what, value] of names) {
      const problem = tagValueProblem(what, value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }
  });

const targetSchema = z
  .object({
    service: z.string(),
    env: z.string(),
    queues: z.array(queueSchema).min(1, { error: 'the target has no queue' }),
    scheduleGroupName: z.string().optional(),
  })
  .superRefine((t, ctx) => {
    for (const [what, value] of [
      ['service', t.service],
      ['env', t.env],
      ...(t.scheduleGroupName === undefined ? [] : [['schedule group', t.scheduleGroupName] as const]),
    ] as const) {
      const problem = tagValueProblem(what, value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }
    const names = t.queues.map((q) => q.queue);
    for (const name of new Set(names.filter((n, i) => names.indexOf(n) !== i)))
      ctx.addIssue({ code: 'custom', message: `queue "${name}" is listed twice` });
  });

/**
 * Checks a target once (zod): at least one queue, unique queue names, every queue with job types,
 * tag-safe names, sane durations. Returns it unchanged.
 * @throws ConfigurationError naming the first problem
 */
export function validateTarget(target: MonitoringTarget): MonitoringTarget {
  const result = targetSchema.safeParse(target);
  if (!result.success) {
    const [issue] = result.error.issues;
    const where = issue?.path.includes('queues') === true ? ` (queue ${String(target.queues[Number(issue.path[1])]?.queue)})` : '';
    throw new ConfigurationError(`monitoring: ${issue?.message ?? 'invalid target'}${issue?.code === 'custom' ? '' : where}`);
  }
  return target;
}
