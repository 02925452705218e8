/**
 * `JobSchedules`: EventBridge Scheduler for one stage. The stage's schedule group, one `AWS::Scheduler::Schedule`
 * per periodic schedule of the job catalog (sending the job message straight to the job's queue), the role the
 * Scheduler assumes (sqs:SendMessage on the job queues and its own DLQ, plus the KMS calls of encrypted queues),
 * a retry policy and a dead-letter queue for deliveries the Scheduler could not make. Producers create one-time
 * schedules (delays beyond SQS's 15 minutes) in the same group with the same role: {@link JobSchedules.grantDelays}.
 *
 * Each occurrence's job id is `<schedule>@<scheduled time>` (filled in by the Scheduler), so an occurrence the
 * Scheduler delivers twice runs once for an idempotent job.
 */
import { CfnOutput, Duration, type RemovalPolicy, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { ConfigurationError } from '../functions/runtime/errors.ts';
import type { JobDefinition } from '../functions/runtime/job.ts';
import { schedulesForStage, type JobSchedule } from '../functions/scheduling/job-schedules.ts';
import { SCHEDULER_RETRY, scheduledJobBody } from '../functions/scheduling/message.ts';
import {
  ONE_TIME_PREFIXES,
  occurrenceJobId,
  SCHEDULED_TIME,
  SCHEDULER_ENV,
  scheduleGroupName,
  schedulerDeadLetterQueueName,
  schedulerParameterName,
  type SchedulerParameter,
} from '../functions/scheduling/names.ts';

export { SCHEDULER_RETRY };
/** Retention of the scheduler's dead-letter queue (SQS's maximum). */
const DEAD_LETTER_RETENTION_DAYS = 14;

/** A job queue as the schedules see it. */
export interface ScheduledQueue {
  readonly queueName: string;
  readonly queue: sqs.IQueue;
  readonly fifo: boolean;
  readonly contentBasedDeduplication: boolean;
  readonly encryptionKey: kms.IKey | undefined;
}

/** Everything {@link JobSchedules} needs. */
export interface JobSchedulesProps {
  readonly stage: string;
  /** Prefix of SSM parameter names: `/<service>/<stage>/scheduler/...`. */
  readonly service: string;
  readonly jobs: readonly JobDefinition[];
  readonly queues: readonly ScheduledQueue[];
  readonly removalPolicy: RemovalPolicy;
}

/** One periodic schedule and the resource made for it. */
export interface CreatedSchedule {
  readonly jobType: string;
  readonly schedule: JobSchedule;
  readonly resource: scheduler.Schedule;
}

/** The schedule group, role, DLQ and periodic schedules of a stage. */
export class JobSchedules extends Construct {
  readonly group: scheduler.ScheduleGroup;
  /** The role the Scheduler assumes to deliver (periodic and one-time schedules alike). */
  readonly role: iam.Role;
  /** Deliveries the Scheduler gave up on (after {@link SCHEDULER_RETRY}). */
  readonly deadLetterQueue: sqs.Queue;
  readonly schedules: readonly CreatedSchedule[];
  /** What producers and the CLI read: stack outputs and SSM parameters of the group, role and DLQ. */
  readonly published: readonly { readonly output: CfnOutput; readonly parameter: ssm.StringParameter }[];

  constructor(scope: Construct, id: string, props: JobSchedulesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const groupName = scheduleGroupName(props.stage);
    this.group = new scheduler.ScheduleGroup(this, 'Group', { scheduleGroupName: groupName, removalPolicy: props.removalPolicy });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: schedulerDeadLetterQueueName(props.stage),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(DEAD_LETTER_RETENTION_DAYS),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: "The Scheduler's dead-letter queue is a DLQ: the schedules' DeadLetterConfig points at it, which the rule does not read",
    });

    // Only the Scheduler, for schedules of this account's group, may assume the role.
    this.role = new iam.Role(this, 'Role', {
      description: `EventBridge Scheduler delivering serverless-jobs (${props.stage}) to its job queues`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.group.scheduleGroupArn } },
      }),
    });
    // Every job queue: a producer may delay any job type. Exactly what SQS needs to take a message.
    for (const entry of props.queues) {
      entry.queue.grant(this.role, 'sqs:SendMessage');
      entry.encryptionKey?.grant(this.role, 'kms:GenerateDataKey', 'kms:Decrypt');
    }
    this.deadLetterQueue.grant(this.role, 'sqs:SendMessage');
    if (props.queues.some((entry) => entry.encryptionKey !== undefined)) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: "aws-cdk-lib's SqsSendMessage target adds it on the queue's own key; SQS calls only GenerateDataKey and Decrypt",
      });
    }

    const created: CreatedSchedule[] = [];
    for (const job of props.jobs) {
      for (const schedule of schedulesForStage(job.schedules, props.stage)) {
        created.push({ jobType: job.type, schedule, resource: this.createSchedule(job, schedule, props.queues) });
      }
    }
    this.schedules = created;
    this.published = this.publish(props);
  }

  private createSchedule(job: JobDefinition, schedule: JobSchedule, queues: readonly ScheduledQueue[]): scheduler.Schedule {
    const queue = queues.find((candidate) => candidate.queueName === job.queue);
    if (!queue) throw new ConfigurationError(`job "${job.type}", schedule "${schedule.name}": the stack has no queue "${job.queue}"`);
    if (queue.fifo && !queue.contentBasedDeduplication) {
      throw new ConfigurationError(
        `job "${job.type}", schedule "${schedule.name}": queue "${job.queue}" is FIFO without content-based deduplication, ` +
          'which the Scheduler needs: set contentBasedDeduplication: true for it in infra/queue-settings.ts',
      );
    }
    const body = scheduledJobBody({
      type: job.type,
      payload: schedule.payload,
      jobId: occurrenceJobId(schedule.scheduleName),
      scheduledAt: SCHEDULED_TIME,
    });
    return new scheduler.Schedule(this, `Schedule-${schedule.scheduleName}`, {
      scheduleName: schedule.scheduleName,
      scheduleGroup: this.group,
      description: (schedule.description ?? `serverless-jobs: ${job.type} (${schedule.name})`).slice(0, 512),
      schedule: scheduler.ScheduleExpression.expression(schedule.expression.text, TimeZone.of(schedule.timeZone)),
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.SqsSendMessage(queue.queue, {
        role: this.role,
        input: scheduler.ScheduleTargetInput.fromObject(body),
        deadLetterQueue: this.deadLetterQueue,
        maxEventAge: Duration.seconds(SCHEDULER_RETRY.maximumEventAgeSeconds),
        retryAttempts: SCHEDULER_RETRY.maximumRetryAttempts,
        // FIFO: one message group per schedule, so its occurrences arrive in order.
        messageGroupId: queue.fifo ? schedule.scheduleName : undefined,
      }),
    });
  }

  /** Stack outputs and SSM parameters producers and the CLI read. */
  private publish(props: JobSchedulesProps): JobSchedules['published'] {
    const values: readonly [string, SchedulerParameter, string][] = [
      ['SchedulerGroupName', 'group-name', this.group.scheduleGroupName],
      ['SchedulerRoleArn', 'role-arn', this.role.roleArn],
      ['SchedulerDeadLetterQueueArn', 'dead-letter-queue-arn', this.deadLetterQueue.queueArn],
    ];
    return values.map(([output, parameter, value]) => ({
      output: new CfnOutput(Stack.of(this), output, { value, description: `EventBridge Scheduler: ${parameter} of the job schedules` }),
      parameter: new ssm.StringParameter(this, `${output}Parameter`, {
        parameterName: schedulerParameterName(props.service, props.stage, parameter),
        description: `EventBridge Scheduler ${parameter} of serverless-jobs (${props.stage})`,
        stringValue: value,
      }),
    }));
  }

  /** The variables a producer function gets ({@link SCHEDULER_ENV}), where the producer client reads them. */
  producerEnvironment(): Record<string, string> {
    return {
      [SCHEDULER_ENV.groupName]: this.group.scheduleGroupName,
      [SCHEDULER_ENV.roleArn]: this.role.roleArn,
      [SCHEDULER_ENV.deadLetterQueueArn]: this.deadLetterQueue.queueArn,
    };
  }

  /**
   * Lets a producer delay jobs beyond 15 minutes: create and delete one-time schedules (`j.*`, `h.*`) in the
   * stage's group, and pass the Scheduler's role to the Scheduler. Periodic schedules stay out of its reach.
   */
  grantDelays(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    const oneTime = ONE_TIME_PREFIXES.map((prefix) =>
      stack.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${this.group.scheduleGroupName}/${prefix}*` }),
    );
    const schedules = iam.Grant.addToPrincipal({
      grantee,
      actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule', 'scheduler:GetSchedule'],
      resourceArns: oneTime,
    });
    const passRole = iam.Grant.addToPrincipal({
      grantee,
      actions: ['iam:PassRole'],
      resourceArns: [this.role.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
    return schedules.combine(passRole);
  }
}
