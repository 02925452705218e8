/**
 * The queues of the job catalog: which queues exist (the catalog's `queue` names, settled by queue-settings.ts and
 * the overrides, all checked before anything is created), and for each one its {@link JobQueue}, the worker's
 * grants on the idempotency table and its failed-runs ledger, and what producers read (stack outputs and SSM).
 */
import { CfnOutput, type RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { physicalName } from '../functions/client/queue-names.ts';
import type { JobType } from '../functions/jobs/catalog.ts';
import { ATTEMPTS_KEY_PREFIX } from '../functions/runtime/attempt-ledger.ts';
import { ConfigurationError } from '../functions/runtime/errors.ts';
import type { JobDefinition } from '../functions/runtime/job.ts';
import type { QueueAlarms } from './alarms.ts';
import { JOB_PERMISSIONS, type Sender } from './job-permissions.ts';
import { JobQueue, pascalCase } from './job-queue.ts';
import {
  checkOverriddenQueues,
  QUEUE_SETTINGS,
  resolveQueueSettings,
  type QueueSettings,
  type ResolvedQueueSettings,
} from './queue-settings.ts';
import { stackName } from './stack-names.ts';

/** What monitoring (and anything else that watches the queues) gets for each queue. */
export interface JobQueueResources {
  /** Logical queue name. */
  readonly queueName: string;
  /** Job types carried by the queue. */
  readonly jobTypes: readonly string[];
  readonly queue: JobQueue['queue'];
  readonly deadLetterQueue: JobQueue['deadLetterQueue'];
  readonly worker: JobQueue['worker'];
  /** The construct itself (settings, grantEnqueue). */
  readonly jobQueue: JobQueue;
  /** What producers read: stack outputs and SSM parameters. */
  readonly producer: ProducerHandles;
  /** Its CloudWatch alarms (none for a symptom a Datadog monitor covers). */
  readonly alarms: QueueAlarms;
}

/** How producers find a queue. */
export interface ProducerHandles {
  /** Stack output `<Queue>QueueUrl`. */
  readonly queueUrlOutput: CfnOutput;
  /** Stack output `<Queue>DeadLetterQueueUrl`. */
  readonly deadLetterQueueUrlOutput: CfnOutput;
  /** SSM parameter `/<service>/<stage>/queues/<queue>/url`. */
  readonly queueUrlParameter: ssm.StringParameter;
  /** SSM parameter `/<service>/<stage>/queues/<queue>/arn`. */
  readonly queueArnParameter: ssm.StringParameter;
}

/** One queue of the catalog: its settled settings and the jobs it carries. */
export interface CatalogQueue {
  readonly settings: ResolvedQueueSettings;
  readonly jobs: readonly JobDefinition[];
}

/** The catalog's queues in name order, settled and checked (names, overrides, settings) before anything is created. */
export function resolveCatalogQueues(
  stage: string,
  jobs: readonly JobDefinition[],
  options: { queueSettings?: Readonly<Record<string, Partial<QueueSettings>>> | undefined; logRetentionDays: number | undefined },
): CatalogQueue[] {
  const jobsByQueue = new Map<string, JobDefinition[]>();
  for (const job of jobs) jobsByQueue.set(job.queue, [...(jobsByQueue.get(job.queue) ?? []), job]);
  const queueNames = [...jobsByQueue.keys()].toSorted();
  if (queueNames.length === 0) throw new ConfigurationError('the job catalog is empty: there is no queue to create');
  checkOverriddenQueues(queueNames, QUEUE_SETTINGS, options.queueSettings ?? {});
  return queueNames.map((name) => {
    const queueJobs = jobsByQueue.get(name) ?? [];
    const settings = resolveQueueSettings(name, queueJobs, {
      ...(options.logRetentionDays === undefined ? {} : { logRetentionDays: options.logRetentionDays }),
      ...options.queueSettings?.[name],
    });
    stackName(() => physicalName(stage, settings.queueName, 'worker'));
    return { settings, jobs: queueJobs };
  });
}

/** What every queue's worker shares. */
export interface CatalogQueueContext {
  readonly stage: string;
  /** DD_SERVICE: part of the producers' SSM parameter names. */
  readonly service: string;
  readonly code: lambda.Code;
  /** The workers' variables besides each queue's own. */
  readonly environment: Readonly<Record<string, string>>;
  readonly sender: Sender;
  readonly idempotencyTable: dynamodb.Table;
  readonly removalPolicy: RemovalPolicy;
}

/** Creates one queue of the catalog: its {@link JobQueue}, the worker's table grants, the producers' handles. */
export function addCatalogQueue(scope: Construct, { settings, jobs }: CatalogQueue, context: CatalogQueueContext): JobQueueResources {
  const jobQueue = new JobQueue(scope, `${pascalCase(settings.queueName)}JobQueue`, {
    settings,
    stage: context.stage,
    code: context.code,
    jobTypes: jobs.map((job) => job.type),
    environment: context.environment,
    extraStatements: jobs.flatMap((job) => JOB_PERMISSIONS[job.type as JobType]?.({ scope, sender: context.sender }) ?? []),
    removalPolicy: context.removalPolicy,
  });
  grantTable(
    jobQueue,
    context.idempotencyTable,
    jobs.some((job) => job.idempotency !== undefined),
  );
  return {
    queueName: settings.queueName,
    jobTypes: jobQueue.jobTypes,
    queue: jobQueue.queue,
    deadLetterQueue: jobQueue.deadLetterQueue,
    worker: jobQueue.worker,
    jobQueue,
    producer: producerHandles(scope, jobQueue, context),
    alarms: {},
  };
}

/** The failed-runs ledger for every worker; the idempotency store's item calls for a queue with idempotent jobs. */
function grantTable(jobQueue: JobQueue, table: dynamodb.Table, idempotent: boolean): void {
  // The failed-runs ledger: read per batch, counted per failed run, only its own items (`attempts#<messageId>`).
  jobQueue.workerRole.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'FailedRunsLedger',
      actions: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${ATTEMPTS_KEY_PREFIX}*`] } },
    }),
  );
  // Exactly the item calls the idempotency store makes, on this table only (no Scan/Query, no indexes).
  if (idempotent) table.grant(jobQueue.workerRole, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
}

/** The queue's URL and ARN for producers: stack outputs and SSM parameters. */
function producerHandles(scope: Construct, jobQueue: JobQueue, { service, stage }: CatalogQueueContext): ProducerHandles {
  const name = jobQueue.queueName;
  const base = pascalCase(name);
  return {
    queueUrlOutput: new CfnOutput(scope, `${base}QueueUrl`, {
      description: `URL of the "${name}" job queue (job types: ${jobQueue.jobTypes.join(', ')})`,
      value: jobQueue.queue.queueUrl,
    }),
    deadLetterQueueUrlOutput: new CfnOutput(scope, `${base}DeadLetterQueueUrl`, {
      description: `URL of the "${name}" dead-letter queue`,
      value: jobQueue.deadLetterQueue.queueUrl,
    }),
    queueUrlParameter: new ssm.StringParameter(scope, `${base}QueueUrlParameter`, {
      parameterName: `/${service}/${stage}/queues/${name}/url`,
      description: `URL of the "${name}" job queue`,
      stringValue: jobQueue.queue.queueUrl,
    }),
    queueArnParameter: new ssm.StringParameter(scope, `${base}QueueArnParameter`, {
      parameterName: `/${service}/${stage}/queues/${name}/arn`,
      description: `ARN of the "${name}" job queue (for IAM policies of producers)`,
      stringValue: jobQueue.queue.queueArn,
    }),
  };
}
