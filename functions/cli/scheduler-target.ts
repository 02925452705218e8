/**
 * The CLI's EventBridge Scheduler: the local endpoint (`AWS_ENDPOINT_URL_SCHEDULER`, or 127.0.0.1 on
 * `LOCAL_SCHEDULER_PORT`, default 9326) for local targets, AWS otherwise; the stage's group; the role for
 * one-time schedules (`JOBS_SCHEDULER_ROLE_ARN`, the stack output `SchedulerRoleArn`; a placeholder locally).
 */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SchedulerSettings } from '../client/delayed.ts';
import {
  DEFAULT_SCHEDULER_PORT,
  LOCAL_CREDENTIALS,
  LOCAL_HOST,
  LOCAL_REGION,
  LOCAL_SCHEDULER_ROLE_ARN,
  SCHEDULER_PORT_ENV,
} from '../local/ports.ts';
import { SCHEDULER_ENV, scheduleGroupName } from '../scheduling/names.ts';
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
