/**
 * The names EventBridge Scheduler resources get, defined once for the stack, the producer client, the CLI
 * and the local scheduler:
 * - the schedule group of a stage: `serverless-jobs-<stage>`, and its dead-letter queue `serverless-jobs-<stage>-scheduler-dlq`;
 * - the SSM parameters the stack publishes the group, role and DLQ under: `/<service>/<stage>/scheduler/<setting>`;
 * - a periodic schedule: `p.<job type>.<schedule name>`;
 * - a one-time schedule: `j.<job id>` when the id fits the Scheduler's name rules, `h.<sha-256 of the id>` otherwise;
 * - the job id of one occurrence of a periodic schedule: `<schedule>@<scheduled time>`, filled in by the Scheduler.
 */
import { createHash } from 'node:crypto';
import { physicalName, QUEUE_NAME_PREFIX } from '../client/queue-names.ts';

/** The Scheduler's limit for schedule and group names. */
export const MAX_SCHEDULE_NAME_LENGTH = 64;
/** What the Scheduler allows in schedule and group names. */
const NAME_PATTERN = /^[0-9A-Za-z_.-]+$/;
/** What a schedule's own name in a job definition may look like. */
export const SCHEDULE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
/** The Scheduler's context attribute replaced by the time an occurrence was scheduled for (ISO 8601, UTC). */
export const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';
/** Prefix of every periodic schedule's name. */
export const PERIODIC_PREFIX = 'p.';
/** Prefixes of one-time schedules' names (readable job id, hashed job id). */
export const ONE_TIME_PREFIXES = ['j.', 'h.'] as const;

/** A schedule or group name the Scheduler would refuse. */
export class ScheduleNameError extends Error {
  override readonly name: string = 'ScheduleNameError';
}

/** The schedule group of a stage, e.g. `serverless-jobs-prod`. */
export function scheduleGroupName(stage: string): string {
  return `${QUEUE_NAME_PREFIX}-${stage}`;
}

/** The logical name of the Scheduler's dead-letter queue (`jobs dlq list scheduler`); no job queue may take it. */
export const SCHEDULER_QUEUE = 'scheduler';

/**
 * The queue the Scheduler puts a stage's deliveries in when it gives up on them, named as the dead-letter queue of
 * the logical queue {@link SCHEDULER_QUEUE}: `serverless-jobs-<stage>-scheduler-dlq`.
 */
export function schedulerDeadLetterQueueName(stage: string): string {
  return physicalName(stage, SCHEDULER_QUEUE, 'dead-letter-queue');
}

/** A scheduler setting the stack publishes as an SSM parameter. */
export type SchedulerParameter = 'group-name' | 'role-arn' | 'dead-letter-queue-arn';

/** The SSM parameter of one scheduler setting of a stage, e.g. `/serverless-jobs/prod/scheduler/role-arn`. */
export function schedulerParameterName(service: string, stage: string, setting: SchedulerParameter): string {
  return `/${service}/${stage}/scheduler/${setting}`;
}

/** The Scheduler name of a job's periodic schedule; throws {@link ScheduleNameError} when it cannot be one. */
export function periodicScheduleName(jobType: string, scheduleName: string): string {
  if (!SCHEDULE_NAME_PATTERN.test(scheduleName)) {
    throw new ScheduleNameError(`schedule name "${scheduleName}" must be lower-case kebab-case, at most 40 characters`);
  }
  const name = `${PERIODIC_PREFIX}${jobType}.${scheduleName}`;
  if (name.length > MAX_SCHEDULE_NAME_LENGTH || !NAME_PATTERN.test(name)) {
    throw new ScheduleNameError(
      `schedule "${name}" is longer than the Scheduler's ${MAX_SCHEDULE_NAME_LENGTH} characters: shorten the schedule name`,
    );
  }
  return name;
}

/** The Scheduler name of the one-time schedule that delivers job `jobId` later. Same id, same name. */
export function oneTimeScheduleName(jobId: string): string {
  const readable = `${ONE_TIME_PREFIXES[0]}${jobId}`;
  if (readable.length <= MAX_SCHEDULE_NAME_LENGTH && NAME_PATTERN.test(jobId)) return readable;
  return `${ONE_TIME_PREFIXES[1]}${createHash('sha256').update(jobId, 'utf8').digest('hex').slice(0, 48)}`;
}

/** Whether a schedule name is one of the one-time schedules the client creates. */
export function isOneTimeScheduleName(name: string): boolean {
  return ONE_TIME_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** The job id template of a periodic schedule's occurrences: the Scheduler fills in the scheduled time. */
export function occurrenceJobId(periodicName: string): string {
  return `${periodicName}@${SCHEDULED_TIME}`;
}

/** The environment variables that give producers the stage's scheduler (stack outputs and SSM parameters hold the values). */
export const SCHEDULER_ENV = {
  /** The schedule group (`serverless-jobs-<stage>`). */
  groupName: 'JOBS_SCHEDULE_GROUP',
  /** The role the Scheduler assumes to send to the job queues. */
  roleArn: 'JOBS_SCHEDULER_ROLE_ARN',
  /** Where the Scheduler puts deliveries it gave up on. */
  deadLetterQueueArn: 'JOBS_SCHEDULER_DLQ_ARN',
} as const;
