/**
 * EventBridge Scheduler in the synthesized template: the stage's group, a schedule per periodic schedule of the
 * catalog, the role limited to the job queues, the retry policy and dead-letter queue, FIFO message groups, what
 * producers are handed and what grantEnqueue allows.
 */
import type { CfnElement } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { catalog } from '../../functions/jobs/catalog.ts';
import { defineJob, type JobDefinition } from '../../functions/runtime/job.ts';
import { SCHEDULER_ENV } from '../../functions/scheduling/names.ts';
import { jobQueueLogicalIds } from '../../infra/job-queue.ts';
import { SCHEDULER_RETRY } from '../../infra/schedules.ts';
import type { ServerlessJobsStack } from '../../infra/stack.ts';
import { synth, validationViolations } from './synth.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };

const buildReport = defineJob({
  type: 'build-report',
  queue: 'webhooks',
  schema: z.object({ report: z.string() }),
  timeoutMs: 5_000,
  handler: async () => undefined,
  schedules: [
    { name: 'weekday-morning', expression: 'cron(0 8 ? * MON-FRI *)', timeZone: 'Europe/Berlin', payload: { report: 'sales' } },
    { name: 'demo', expression: 'rate(1 minute)', payload: { report: 'demo' }, stages: ['local'] },
  ],
});
const jobs: JobDefinition[] = [...Object.values(catalog), buildReport];

function ofType(template: Template, type: string): Resource[] {
  return Object.values(template.findResources(type)) as Resource[];
}

function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  return ofType(template, 'AWS::IAM::Policy')
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleLogicalId))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** The logical id of an L2 construct's resource. */
function idOf(stack: ServerlessJobsStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

describe('the stage scheduler', () => {
  let template: Template;
  let stack: ServerlessJobsStack;
  beforeAll(() => {
    ({ template, stack } = synth({
      jobs,
      context: { stage: 'dev' },
      queueSettings: { webhooks: { fifo: true, contentBasedDeduplication: true, encryption: 'kms' } },
    }));
  });

  it('has one schedule group, named for the stage', () => {
    expect(ofType(template, 'AWS::Scheduler::ScheduleGroup').map((group) => group.Properties.Name)).toEqual(['serverless-jobs-dev']);
  });

  it("creates one schedule per periodic schedule of the stage, in the group, in the schedule's time zone", () => {
    const schedules = ofType(template, 'AWS::Scheduler::Schedule');
    expect(schedules.map((schedule) => schedule.Properties.Name)).toEqual(['p.build-report.weekday-morning']);
    expect(schedules[0]?.Properties).toMatchObject({
      GroupName: 'serverless-jobs-dev',
      ScheduleExpression: 'cron(0 8 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
    });
  });

  it("sends the job message to the job's queue, with a job id made of the schedule name and the scheduled time", () => {
    const [schedule] = ofType(template, 'AWS::Scheduler::Schedule');
    const target = schedule?.Properties.Target as { Arn: unknown; Input: string };
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [jobQueueLogicalIds('webhooks').queue, 'Arn'] });
    expect(JSON.parse(target.Input)).toEqual({
      type: 'build-report',
      payload: { report: 'sales' },
      jobId: 'p.build-report.weekday-morning@<aws.scheduler.scheduled-time>',
      scheduledAt: '<aws.scheduler.scheduled-time>',
    });
  });

  it('retries a delivery, then puts it in the scheduler dead-letter queue', () => {
    const [schedule] = ofType(template, 'AWS::Scheduler::Schedule');
    const target = schedule?.Properties.Target as { RetryPolicy: unknown; DeadLetterConfig: { Arn: unknown } };
    expect(target.RetryPolicy).toEqual({
      MaximumEventAgeInSeconds: SCHEDULER_RETRY.maximumEventAgeSeconds,
      MaximumRetryAttempts: SCHEDULER_RETRY.maximumRetryAttempts,
    });
    const dlq = ofType(template, 'AWS::SQS::Queue').find((queue) => queue.Properties.QueueName === 'serverless-jobs-dev-scheduler-dlq');
    expect(dlq?.Properties).toMatchObject({ MessageRetentionPeriod: 14 * 86_400, SqsManagedSseEnabled: true });
    expect(JSON.stringify(target.DeadLetterConfig.Arn)).toContain('SchedulerDeadLetterQueue');
  });

  it('gives a FIFO target the message group the Scheduler requires: one per schedule', () => {
    const [schedule] = ofType(template, 'AWS::Scheduler::Schedule');
    const target = schedule?.Properties.Target as { SqsParameters: unknown } | undefined;
    expect(target?.SqsParameters).toEqual({
      MessageGroupId: 'p.build-report.weekday-morning',
    });
  });

  it('lets only the Scheduler, for this group, assume the role', () => {
    const role = template.toJSON().Resources[idOf(stack, stack.jobSchedules.role)] as Resource;
    expect((role.Properties.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: {
            'aws:SourceAccount': { Ref: 'AWS::AccountId' },
            'aws:SourceArn': { 'Fn::GetAtt': [idOf(stack, stack.jobSchedules.group), 'Arn'] },
          },
        },
      },
    ]);
  });

  it('lets the role send messages to the job queues and its dead-letter queue, and use the keys of encrypted queues, nothing else', () => {
    const roleLogicalId = idOf(stack, stack.jobSchedules.role);
    const statements = statementsOfRole(template, roleLogicalId);
    const sends = statements.filter((statement) => statement.Action === 'sqs:SendMessage');
    const sendTargets = sends.flatMap((statement) => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]));
    expect(sendTargets.map((target) => JSON.stringify(target)).toSorted()).toEqual(
      [
        { 'Fn::GetAtt': [jobQueueLogicalIds('default').queue, 'Arn'] },
        { 'Fn::GetAtt': [jobQueueLogicalIds('webhooks').queue, 'Arn'] },
        { 'Fn::GetAtt': [idOf(stack, stack.jobSchedules.deadLetterQueue), 'Arn'] },
      ]
        .map((target) => JSON.stringify(target))
        .toSorted(),
    );
    const others = statements.filter((statement) => statement.Action !== 'sqs:SendMessage');
    for (const statement of others) {
      for (const action of Array.isArray(statement.Action) ? statement.Action : [statement.Action])
        expect(action).toMatch(/^kms:(Decrypt|GenerateDataKey)/);
      expect(JSON.stringify(statement.Resource)).toContain('WebhooksJobQueueKey');
    }
    expect(others.length).toBeGreaterThan(0);
  });

  it('publishes the group name, role ARN and dead-letter queue ARN as outputs and SSM parameters', () => {
    const outputs = template.toJSON().Outputs as Record<string, unknown>;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['SchedulerGroupName', 'SchedulerRoleArn', 'SchedulerDeadLetterQueueArn']));
    const names = ofType(template, 'AWS::SSM::Parameter').map((parameter) => parameter.Properties.Name);
    expect(names).toEqual(
      expect.arrayContaining([
        '/serverless-jobs/dev/scheduler/group-name',
        '/serverless-jobs/dev/scheduler/role-arn',
        '/serverless-jobs/dev/scheduler/dead-letter-queue-arn',
      ]),
    );
  });

  it('lets a producer create and delete one-time schedules in the group and pass the role, and no more', () => {
    const producer = new iam.Role(stack, 'Producer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    stack.grantEnqueue(producer, 'default');
    const policy = producer.node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy;
    const document = stack.resolve((policy.policyDocument as iam.PolicyDocument).toJSON()) as { Statement: Statement[] };
    const scheduling = document.Statement.find((statement) => JSON.stringify(statement.Action).includes('scheduler:'));
    expect(scheduling?.Action).toEqual(['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule']);
    const resources = JSON.stringify(scheduling?.Resource);
    expect(resources).toContain(':schedule/serverless-jobs-dev/j.*');
    expect(resources).toContain(':schedule/serverless-jobs-dev/h.*');
    expect(resources).not.toContain('/p.');
    const passRole = document.Statement.find((statement) => statement.Action === 'iam:PassRole');
    expect(passRole?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    expect(JSON.stringify(passRole?.Resource)).toContain(idOf(stack, stack.jobSchedules.role));
  });

  it('hands a producer function the scheduler settings the client reads', () => {
    const producer = new lambda.Function(stack, 'ProducerFunction', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('export const handler = async () => {};'),
    });
    stack.grantEnqueue(producer, 'default');
    const variables = (
      stack.resolve((producer.node.defaultChild as lambda.CfnFunction).environment) as { variables: Record<string, unknown> }
    ).variables;
    expect(variables[SCHEDULER_ENV.groupName]).toBe('serverless-jobs-dev');
    expect(JSON.stringify(variables[SCHEDULER_ENV.roleArn])).toContain('SchedulerRole');
    expect(JSON.stringify(variables[SCHEDULER_ENV.deadLetterQueueArn])).toContain('SchedulerDeadLetterQueue');
  });
});

describe('schedules limited to stages', () => {
  it('appear in the stages they name', () => {
    const { template } = synth({ jobs, context: { stage: 'local' } });
    const names = ofType(template, 'AWS::Scheduler::Schedule').map((schedule) => schedule.Properties.Name);
    expect(names.toSorted()).toEqual(['p.build-report.demo', 'p.build-report.weekday-morning', 'p.send-email.demo-heartbeat']);
  });
});

describe('a schedule on a FIFO queue without content-based deduplication', () => {
  it('refuses to synthesize, saying what to set', () => {
    expect(() => synth({ jobs, queueSettings: { webhooks: { fifo: true, contentBasedDeduplication: false } } })).toThrow(
      /job "build-report", schedule "weekday-morning": queue "webhooks" is FIFO without content-based deduplication/,
    );
  });
});

describe('cdk-nag with periodic schedules', () => {
  it('finds nothing unacknowledged, on a FIFO queue with a customer managed key too', () => {
    const { outdir } = synth({
      jobs,
      context: { nag: true, stage: 'local' },
      queueSettings: { webhooks: { fifo: true, contentBasedDeduplication: true, encryption: 'kms' } },
    });
    expect(validationViolations(outdir).filter((violation) => violation.plugin !== 'Construct Annotations')).toEqual([]);
  });
});
