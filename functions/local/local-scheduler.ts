/**
 * EventBridge Scheduler in the local environment, from the synthesized template like the queues: the
 * `AWS::Scheduler::ScheduleGroup`s, every `AWS::Scheduler::Schedule` (expression, time zone, target queue,
 * input, FIFO message group) fired into the local SQS by the local Scheduler endpoint, and the stack outputs
 * producers read (`SchedulerGroupName`, `SchedulerDeadLetterQueueArn`) as their `JOBS_SCHEDULE*` variables.
 * The Scheduler's role has no local counterpart: producers get a placeholder ARN (nothing checks it locally).
 */
import { SCHEDULER_ENV } from '../scheduling/names.ts';
import { LOCAL_SCHEDULER_ROLE_ARN } from './ports.ts';
import { sqsDelivery, startLocalSchedulerServer, type LocalSchedulerServer, type LocalSchedulerServerOptions } from './scheduler-server.ts';
import type { LocalSqsServer } from './sqs-server.ts';
import { isObject, objectOr, resolveValue, resourcesOf, TemplateError, type ResolveContext } from './template-values.ts';

/** Options of the local Scheduler (`startLocalEnvironment({ scheduler })`), as the endpoint's, plus where failed deliveries are told. */
export interface LocalSchedulerOptions extends Pick<LocalSchedulerServerOptions, 'port' | 'clock' | 'tickMs' | 'deliveriesPerOccurrence'> {
  readonly onNotice?: (message: string) => void;
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
  const { onNotice, ...endpointOptions } = options;
  const server = await startLocalSchedulerServer({
    ...endpointOptions,
    deliver: sqsDelivery(client, sqs.endpoint),
    onDeliveryError: (error, delivery) =>
      onNotice?.(`scheduler: could not deliver ${delivery.scheduleName} to ${delivery.queueArn}: ${(error as Error).message}`),
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
  for (const { logicalId, properties } of resourcesOf(template, 'AWS::Scheduler::ScheduleGroup')) {
    const name = text(properties.Name, `${logicalId}.Name`, context);
    if (name !== 'default') server.store.createGroup(name);
  }
  const schedules = resourcesOf(template, 'AWS::Scheduler::Schedule');
  for (const { logicalId, properties: p } of schedules) {
    const target = objectOr(p.Target);
    // An optional property: undefined when the template leaves it out.
    const read = (value: unknown, where: string): string | undefined =>
      value === undefined ? undefined : text(value, `${logicalId}.${where}`, context);
    const messageGroupId = read(objectOr(target.SqsParameters).MessageGroupId, 'MessageGroupId');
    const deadLetterArn = read(objectOr(target.DeadLetterConfig).Arn, 'DeadLetterConfig');
    server.store.create({
      Name: text(p.Name ?? logicalId, `${logicalId}.Name`, context),
      GroupName: read(p.GroupName, 'GroupName'),
      ScheduleExpression: text(p.ScheduleExpression, `${logicalId}.ScheduleExpression`, context),
      ScheduleExpressionTimezone: read(p.ScheduleExpressionTimezone, 'ScheduleExpressionTimezone'),
      State: p.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: text(target.Arn, `${logicalId}.Target.Arn`, context),
        RoleArn: LOCAL_SCHEDULER_ROLE_ARN,
        Input: read(target.Input, 'Target.Input'),
        ...(messageGroupId === undefined ? {} : { SqsParameters: { MessageGroupId: messageGroupId } }),
        ...(deadLetterArn === undefined ? {} : { DeadLetterConfig: { Arn: deadLetterArn } }),
      },
    });
  }
  return schedules.length;
}

/** What producers and the CLI need for delays: the endpoint, the group and the DLQ from the stack outputs. */
export function schedulerVariables(server: LocalSchedulerServer, template: unknown, context: ResolveContext): Record<string, string> {
  const outputs = objectOr(objectOr(template).Outputs);
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
