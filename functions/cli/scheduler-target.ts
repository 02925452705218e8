/**
 * The CLI's EventBridge Scheduler: the local endpoint (`AWS_ENDPOINT_URL_SCHEDULER`, or 127.0.0.1 on
 * `LOCAL_SCHEDULER_PORT`, default 9326) for local targets, AWS otherwise; the stage's group; and for one-time
 * schedules the role and the dead-letter queue. Each comes from its `JOBS_SCHEDULE*` variable when set; else the
 * DLQ is the stage's by its name rule, and the role, on AWS, the stack's SSM parameter (a placeholder locally).
 */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { DEFAULT_SERVICE } from '../client/queue-names.ts';
import { queueArnOfUrl, type SchedulerSettings } from '../client/delayed.ts';
import {
  DEFAULT_SCHEDULER_PORT,
  LOCAL_CREDENTIALS,
  LOCAL_HOST,
  LOCAL_REGION,
  LOCAL_SCHEDULER_ROLE_ARN,
  SCHEDULER_PORT_ENV,
} from '../local/ports.ts';
import { SCHEDULER_ENV, scheduleGroupName, schedulerDeadLetterQueueName, schedulerParameterName } from '../scheduling/names.ts';
import { CliError } from './errors.ts';
import type { Target } from './target.ts';

/** The Scheduler side of a target. */
export interface SchedulerTarget {
  readonly client: SchedulerClient;
  readonly groupName: string;
  /** Group, role and DLQ for one-time schedules (the role is read when a delay needs it). */
  readonly settings: Partial<SchedulerSettings>;
}

/** The Scheduler of `target`; the caller destroys `client`. */
export function schedulerTarget(target: Target, env: Readonly<Record<string, string | undefined>>): SchedulerTarget {
  const groupName = env[SCHEDULER_ENV.groupName] ?? scheduleGroupName(target.stage);
  const deadLetterQueueArn = env[SCHEDULER_ENV.deadLetterQueueArn];
  if (target.local) {
    const endpoint = env.AWS_ENDPOINT_URL_SCHEDULER ?? `http://${LOCAL_HOST}:${env[SCHEDULER_PORT_ENV] ?? DEFAULT_SCHEDULER_PORT}`;
    const region = env.AWS_REGION ?? LOCAL_REGION;
    return {
      client: new SchedulerClient({ endpoint, region, credentials: LOCAL_CREDENTIALS }),
      groupName,
      settings: { groupName, roleArn: env[SCHEDULER_ENV.roleArn] ?? LOCAL_SCHEDULER_ROLE_ARN, deadLetterQueueArn },
    };
  }
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const roleArn = env[SCHEDULER_ENV.roleArn];
  return {
    client: new SchedulerClient(region ? { region } : {}),
    groupName,
    settings: { groupName, ...(roleArn ? { roleArn } : {}), deadLetterQueueArn },
  };
}

/** Reads one SSM parameter's value (replaceable in tests: SSM has no local stand-in). */
export type ReadParameter = (name: string, region: string | undefined) => Promise<string>;

/** The role of one-time schedules could not be found: the operator must name it. */
export class SchedulerRoleUnknownError extends CliError {
  override readonly name: string = 'SchedulerRoleUnknownError';
}

const readSsmParameter: ReadParameter = async (name, region) => {
  const { GetParameterCommand, SSMClient } = await import('@aws-sdk/client-ssm');
  const ssm = new SSMClient(region ? { region } : {});
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }));
    if (!Parameter?.Value) throw new Error(`${name} has no value`);
    return Parameter.Value;
  } finally {
    ssm.destroy();
  }
};

/**
 * What a delayed `enqueue` to the queue at `jobQueueUrl` needs besides the group: the Scheduler's DLQ (the stage's
 * `serverless-jobs-<stage>-scheduler-dlq` on the job queue's account and region, so a delivery the Scheduler gives
 * up on is kept) and its role (on AWS read from the stack's SSM parameter; {@link SchedulerRoleUnknownError} when
 * that fails).
 */
export async function delaySettings(
  target: Target,
  scheduler: SchedulerTarget,
  jobQueueUrl: string,
  env: Readonly<Record<string, string | undefined>>,
  readParameter: ReadParameter = readSsmParameter,
): Promise<Partial<SchedulerSettings>> {
  const jobQueueArn = queueArnOfUrl(jobQueueUrl, env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? LOCAL_REGION);
  const deadLetterQueueArn =
    scheduler.settings.deadLetterQueueArn ??
    `${jobQueueArn.slice(0, jobQueueArn.lastIndexOf(':'))}:${schedulerDeadLetterQueueName(target.stage)}`;
  let roleArn = scheduler.settings.roleArn;
  if (roleArn === undefined) {
    const parameter = schedulerParameterName(DEFAULT_SERVICE, target.stage, 'role-arn');
    roleArn = await readParameter(parameter, jobQueueArn.split(':')[3]).catch((error: unknown) => {
      throw new SchedulerRoleUnknownError(
        `the Scheduler's role for stage ${target.stage} is unknown: reading SSM parameter ${parameter} failed ` +
          `(${(error as Error).message}). Set ${SCHEDULER_ENV.roleArn} to the stack output SchedulerRoleArn, ` +
          `or allow ssm:GetParameter on that parameter.`,
      );
    });
  }
  return { ...scheduler.settings, roleArn, deadLetterQueueArn };
}
