/**
 * EventBridge Scheduler in the local environment, from the synthesized template like the queues: the
 * `AWS::Scheduler::ScheduleGroup`s, every `AWS::Scheduler::Schedule` (expression, time zone, target queue,
 * input, FIFO message group) fired into the local SQS by the local Scheduler endpoint, and the stack outputs
 * producers read (`SchedulerGroupName`, `SchedulerDeadLetterQueueArn`) as their `JOBS_SCHEDULE*` variables.
 * The Scheduler's role has no local counterpart: producers get a placeholder ARN (nothing checks it locally).
 */
import { SCHEDULER_ENV } from '../scheduling/names.ts';
import { DEFAULT_SCHEDULER_PORT, sqsDelivery, startLocalSchedulerServer, type LocalSchedulerServer } from './scheduler-server.ts';
import type { SchedulerClock } from './scheduler-store.ts';
import type { LocalSqsServer } from './sqs-server.ts';
import { isObject, resolveValue, TemplateError, type Json, type ResolveContext } from './template-values.ts';

/** Options of the local Scheduler (`startLocalEnvironment({ scheduler })`). */
export interface LocalSchedulerOptions {
  /** TCP port (0 = any free port). Default 9326 (`LOCAL_SCHEDULER_PORT` in `npm start`). */
  readonly port?: number;
  /** Where the time comes from. Default: the system clock. */
  readonly clock?: SchedulerClock;
  /** How often due schedules fire, in ms; 0 = only on `runDue()` (tests). Default 1,000. */
  readonly tickMs?: number;
  /** Times each occurrence is delivered: 2 plays the Scheduler's at-least-once. Default 1. */
  readonly deliveriesPerOccurrence?: number;
  /** Told when a delivery fails. */
  readonly onNotice?: (message: string) => void;
}

/** The placeholder role ARN of local one-time schedules. */
export const LOCAL_SCHEDULER_ROLE_ARN = 'arn:aws:iam::000000000000:role/serverless-jobs-local-scheduler';

function resourcesOf(template: unknown, type: string): [string, Json][] {
  const resources = isObject(template) && isObject(template.Resources) ? template.Resources : {};
  return Object.entries(resources).filter((entry): entry is [string, Json] => isObject(entry[1]) && entry[1].Type === type);
}

function text(value: unknown, where: string, context: ResolveContext): string {
  try {
    return resolveValue(value, context);
  } catch (error) {
    throw new TemplateError(`${where}: ${(error as Error).message}`);
  }
}

/** Starts the local Scheduler endpoint, delivering into the local SQS server. */
export async function startLocalScheduler(sqs: LocalSqsServer, options: LocalSchedulerOptions = {}): Promise<LocalSchedulerServer> {
  const client = sqs.createClient();
  const server = await startLocalSchedulerServer({
    port: options.port ?? DEFAULT_SCHEDULER_PORT,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.tickMs === undefined ? {} : { tickMs: options.tickMs }),
    ...(options.deliveriesPerOccurrence === undefined ? {} : { deliveriesPerOccurrence: options.deliveriesPerOccurrence }),
    deliver: sqsDelivery(client, sqs.endpoint),
    onDeliveryError: (error, delivery) =>
      options.onNotice?.(`scheduler: could not deliver ${delivery.scheduleName} to ${delivery.queueArn}: ${(error as Error).message}`),
  });
  return {
    ...server,
    close: async () => {
      await server.close();
      client.destroy();
    },
  };
}

/** Creates the template's schedule groups and schedules on the local Scheduler; returns how many schedules. */
export function addTemplateSchedules(server: LocalSchedulerServer, template: unknown, context: ResolveContext): number {
  for (const [logicalId, resource] of resourcesOf(template, 'AWS::Scheduler::ScheduleGroup')) {
    const name = text(isObject(resource.Properties) ? resource.Properties.Name : undefined, `${logicalId}.Name`, context);
    if (name !== 'default') server.store.createGroup(name);
  }
  const schedules = resourcesOf(template, 'AWS::Scheduler::Schedule');
  for (const [logicalId, resource] of schedules) {
    const p = isObject(resource.Properties) ? resource.Properties : {};
    const target = isObject(p.Target) ? p.Target : {};
    const sqsParameters = isObject(target.SqsParameters) ? target.SqsParameters : undefined;
    const deadLetter = isObject(target.DeadLetterConfig) ? target.DeadLetterConfig : undefined;
    server.store.create({
      Name: text(p.Name ?? logicalId, `${logicalId}.Name`, context),
      ...(p.GroupName === undefined ? {} : { GroupName: text(p.GroupName, `${logicalId}.GroupName`, context) }),
      ScheduleExpression: text(p.ScheduleExpression, `${logicalId}.ScheduleExpression`, context),
      ...(p.ScheduleExpressionTimezone === undefined
        ? {}
        : { ScheduleExpressionTimezone: text(p.ScheduleExpressionTimezone, `${logicalId}.ScheduleExpressionTimezone`, context) }),
      State: p.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: text(target.Arn, `${logicalId}.Target.Arn`, context),
        RoleArn: LOCAL_SCHEDULER_ROLE_ARN,
        ...(target.Input === undefined ? {} : { Input: text(target.Input, `${logicalId}.Target.Input`, context) }),
        ...(sqsParameters?.MessageGroupId === undefined
          ? {}
          : { SqsParameters: { MessageGroupId: text(sqsParameters.MessageGroupId, `${logicalId}.MessageGroupId`, context) } }),
        ...(deadLetter?.Arn === undefined
          ? {}
          : { DeadLetterConfig: { Arn: text(deadLetter.Arn, `${logicalId}.DeadLetterConfig`, context) } }),
      },
    });
  }
  return schedules.length;
}

/** What producers and the CLI need for delays: the endpoint, the group and the DLQ from the stack outputs. */
export function schedulerVariables(server: LocalSchedulerServer, template: unknown, context: ResolveContext): Record<string, string> {
  const outputs = isObject(template) && isObject(template.Outputs) ? template.Outputs : {};
  const output = (name: string): string | undefined => {
    const entry = outputs[name];
    return isObject(entry) && entry.Value !== undefined ? text(entry.Value, `Outputs.${name}`, context) : undefined;
  };
  const variables: Record<string, string> = {
    AWS_ENDPOINT_URL_SCHEDULER: server.endpoint,
    [SCHEDULER_ENV.roleArn]: LOCAL_SCHEDULER_ROLE_ARN,
  };
  const group = output('SchedulerGroupName');
  if (group !== undefined) variables[SCHEDULER_ENV.groupName] = group;
  const deadLetter = output('SchedulerDeadLetterQueueArn');
  if (deadLetter !== undefined) variables[SCHEDULER_ENV.deadLetterQueueArn] = deadLetter;
  return variables;
}
