/**
 * Delays beyond SQS's 15 minutes: a one-time EventBridge Scheduler schedule (`at(...)`, ActionAfterCompletion
 * DELETE) in the stage's group, named from the job id, that sends the job's message to its queue at the time.
 * The group, the Scheduler's role and its DLQ come from options or from `JOBS_SCHEDULE_GROUP`,
 * `JOBS_SCHEDULER_ROLE_ARN`, `JOBS_SCHEDULER_DLQ_ARN` (stack outputs and SSM parameters), read when first needed.
 */
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { atExpression } from '../scheduling/expression.ts';
import { SCHEDULER_RETRY } from '../scheduling/message.ts';
import { oneTimeScheduleName, SCHEDULER_ENV } from '../scheduling/names.ts';
import { DuplicateJobError, InvalidEnqueueOptionsError, SchedulerNotConfiguredError, SendFailedError } from './errors.ts';
import { isFifoQueueUrl, type PreparedMessage } from './message.ts';

/** Where one-time schedules go and who delivers them. */
export interface SchedulerSettings {
  /** The stage's schedule group (`serverless-jobs-<stage>`). */
  readonly groupName: string;
  /** The role the Scheduler assumes to send to the queue. */
  readonly roleArn: string;
  /** The Scheduler's dead-letter queue; optional. */
  readonly deadLetterQueueArn?: string | undefined;
}

/** Resolves the scheduler settings: explicit values first, then the environment. Throws {@link SchedulerNotConfiguredError}. */
export function createSchedulerSettingsResolver(
  explicit: Partial<SchedulerSettings> = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): () => SchedulerSettings {
  return () => {
    const read = (value: string | undefined, envVar: string): string => {
      const found = value ?? env[envVar]?.trim();
      if (!found) throw new SchedulerNotConfiguredError(envVar);
      return found;
    };
    return {
      groupName: read(explicit.groupName, SCHEDULER_ENV.groupName),
      roleArn: read(explicit.roleArn, SCHEDULER_ENV.roleArn),
      deadLetterQueueArn: explicit.deadLetterQueueArn ?? (env[SCHEDULER_ENV.deadLetterQueueArn]?.trim() || undefined),
    };
  };
}

/**
 * The ARN of the queue at `queueUrl` (`https://sqs.<region>.amazonaws.com/<account>/<name>`); the region comes from
 * the host, or `region` for hosts that do not carry one (a local endpoint).
 */
export function queueArnOfUrl(queueUrl: string, region: string): string {
  const url = new URL(queueUrl);
  const [account, name] = url.pathname.split('/').filter(Boolean);
  if (!account || !name)
    throw new SendFailedError(`queue URL ${queueUrl} has no /<account>/<name> path`, { code: 'InvalidQueueUrl', senderFault: true });
  const hostRegion = /^sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(url.hostname)?.[1];
  const queueRegion = hostRegion ?? region;
  const partition = queueRegion.startsWith('cn-') ? 'aws-cn' : queueRegion.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  return `arn:${partition}:sqs:${queueRegion}:${account}:${name}`;
}

/** What scheduling one delayed job made. */
export interface ScheduledDelivery {
  readonly scheduleName: string;
  readonly runAt: Date;
}

function toSendFailed(error: unknown): SendFailedError {
  const fault = (error as { $fault?: string }).$fault;
  const code = (error as { name?: string }).name ?? 'Error';
  return new SendFailedError(`the Scheduler refused the one-time schedule: ${(error as Error).message}`, {
    code,
    senderFault: fault === 'client',
    cause: error,
  });
}

/** Refuses options a one-time schedule cannot honour on the queue's kind (before anything is created). */
export function checkScheduledOptions(message: PreparedMessage, queueUrl: string): void {
  if (isFifoQueueUrl(queueUrl)) {
    if (message.groupId === undefined) throw new InvalidEnqueueOptionsError(`${message.type} goes to a FIFO queue: groupId is required`);
    if (message.deduplicationId !== undefined) {
      throw new InvalidEnqueueOptionsError(
        `${message.type}: a delay beyond 900 s on a FIFO queue relies on content-based deduplication; leave deduplicationId out`,
      );
    }
  } else if (message.deduplicationId !== undefined) {
    throw new InvalidEnqueueOptionsError(`${message.type} goes to a standard queue: deduplicationId is for FIFO queues only`);
  }
}

/**
 * Creates the one-time schedule that sends `message` to `queueUrl` at `message.runAt`. Rejects with
 * {@link DuplicateJobError} when the job id is already scheduled, {@link SendFailedError} for other refusals.
 */
export async function scheduleDelivery(
  scheduler: SchedulerClient,
  settings: SchedulerSettings,
  message: PreparedMessage & { readonly runAt: Date },
  queueUrl: string,
): Promise<ScheduledDelivery> {
  const scheduleName = oneTimeScheduleName(message.jobId);
  const region = await scheduler.config.region();
  const fifo = isFifoQueueUrl(queueUrl);
  try {
    await scheduler.send(
      new CreateScheduleCommand({
        Name: scheduleName,
        GroupName: settings.groupName,
        Description: `serverless-jobs: ${message.type} job ${message.jobId}`.slice(0, 512),
        ScheduleExpression: atExpression(message.runAt),
        ScheduleExpressionTimezone: 'UTC',
        ActionAfterCompletion: 'DELETE',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: queueArnOfUrl(queueUrl, region),
          RoleArn: settings.roleArn,
          Input: message.body,
          RetryPolicy: {
            MaximumEventAgeInSeconds: SCHEDULER_RETRY.maximumEventAgeSeconds,
            MaximumRetryAttempts: SCHEDULER_RETRY.maximumRetryAttempts,
          },
          ...(settings.deadLetterQueueArn ? { DeadLetterConfig: { Arn: settings.deadLetterQueueArn } } : {}),
          ...(fifo && message.groupId !== undefined ? { SqsParameters: { MessageGroupId: message.groupId } } : {}),
        },
      }),
    );
  } catch (error) {
    if (error instanceof ConflictException) throw new DuplicateJobError(message.jobId, scheduleName, settings.groupName, { cause: error });
    throw toSendFailed(error);
  }
  return { scheduleName, runAt: message.runAt };
}

/** Deletes the pending one-time schedule of `jobId`: true when there was one, false when there was none. */
export async function cancelDelivery(scheduler: SchedulerClient, settings: SchedulerSettings, jobId: string): Promise<boolean> {
  try {
    await scheduler.send(new DeleteScheduleCommand({ Name: oneTimeScheduleName(jobId), GroupName: settings.groupName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw toSendFailed(error);
  }
}
