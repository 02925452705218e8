/**
 * The serverless-jobs stack: one {@link JobQueue} per queue the job catalog needs, the idempotency table,
 * Datadog on every worker, and the queue URLs handed to producers (stack outputs and SSM parameters).
 */
import path from 'node:path';
import { AssetHashType, CfnOutput, DockerImage, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { physicalName, queueUrlEnvVar, stageNamePrefix } from '../functions/client/queue-names.ts';
import type { JobType } from '../functions/jobs/catalog.ts';
import { ATTEMPTS_KEY_PREFIX } from '../functions/runtime/attempt-ledger.ts';
import { ConfigurationError } from '../functions/runtime/errors.ts';
import type { JobDefinition } from '../functions/runtime/job.ts';
import { ALARM_SYMPTOMS, addQueueAlarms, alarmTopic, refuseSilentAlarms, type QueueAlarms } from './alarms.ts';
import { bundleWorker, REPO_ROOT } from './bundling.ts';
import { annotateMonitoringOff, DatadogInstrumentation, type DatadogSettings } from './datadog.ts';
import { JOB_PERMISSIONS, parseSender } from './job-permissions.ts';
import { JobQueue, pascalCase } from './job-queue.ts';
import { JobSchedules } from './schedules.ts';
import { checkOverriddenQueues, QUEUE_SETTINGS, resolveQueueSettings, type QueueSettings } from './queue-settings.ts';

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

/** Per queue, the symptoms (monitor kinds) Datadog monitors cover. */
export type MonitoredSymptoms = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * Adds monitoring for the queues (dashboards, monitors...; see infra/monitoring/) and returns the symptoms
 * its monitors cover: the stack creates no CloudWatch alarm for those.
 */
export type MonitoringFactory = (stack: ServerlessJobsStack, queues: readonly JobQueueResources[]) => MonitoredSymptoms | undefined;

/** Stack properties. */
export interface ServerlessJobsStackProps extends StackProps {
  /** Deployment stage (`dev`, `prod`, ...): part of every physical name and the DD_ENV tag. */
  readonly stage: string;
  /** DD_SERVICE; default `serverless-jobs`. */
  readonly service?: string;
  /** DD_VERSION. */
  readonly version: string;
  /** Sender address of `send-email` (EMAIL_FROM). */
  readonly emailFrom: string;
  /** The job definitions; their `queue` names decide which queues exist. */
  readonly jobs: readonly JobDefinition[];
  /** Per-queue setting overrides on top of `QUEUE_SETTINGS`. */
  readonly queueSettings?: Readonly<Record<string, Partial<QueueSettings>>>;
  /** Datadog on the workers; undefined = monitoring off (the stack says so). */
  readonly datadog?: DatadogSettings | undefined;
  /** Datadog dashboard and monitors: Datadog pages, and no CloudWatch alarm duplicates a monitor. Default off. */
  readonly datadogMonitoring?: boolean;
  /** Without Datadog monitoring: an existing SNS topic every alarm notifies (else the stack creates one). */
  readonly alarmTopicArn?: string | undefined;
  /** Without Datadog monitoring: an address subscribed to the alarm topic the stack creates. */
  readonly alarmEmail?: string | undefined;
  /** Days the workers' log groups keep logs; default {@link defaultLogRetentionDays}. A queue's own setting wins. */
  readonly logRetentionDays?: number | undefined;
  /** Keep the queues, the idempotency table, keys and logs when the stack is deleted (default: stage is `prod`). */
  readonly retainData?: boolean;
  /** Adds monitoring for the queues. */
  readonly monitoring?: MonitoringFactory;
}

/** Log retention by stage: a year on `prod` (audits, and the Control Tower guard rule), 30 days elsewhere. */
export function defaultLogRetentionDays(stage: string): number | undefined {
  return stage === 'prod' ? 365 : undefined;
}

/**
 * A physical name by the one rule of functions/client/queue-names.ts; a name that breaks it is a
 * {@link ConfigurationError} (what to change), so `cdk synth` refuses it.
 */
export function stackName<T>(name: () => T): T {
  try {
    return name();
  } catch (error) {
    if (error instanceof RangeError) throw new ConfigurationError(error.message);
    throw error;
  }
}

/** Throws a {@link ConfigurationError} when `stage` cannot be part of resource names. */
export function checkStage(stage: string): string {
  stackName(() => stageNamePrefix(stage));
  return stage;
}

/** The stack. */
export class ServerlessJobsStack extends Stack {
  /** `serverless-jobs-<stage>`: prefix of every physical name. */
  readonly namePrefix: string;
  /** One entry per queue, in queue-name order. */
  readonly jobQueues: readonly JobQueueResources[];
  /** The idempotency table (partition key `id`, TTL attribute `expiresAt`). */
  readonly idempotencyTable: dynamodb.Table;
  /** Datadog instrumentation, when monitoring is on. */
  readonly datadog: DatadogInstrumentation | undefined;
  /** EventBridge Scheduler: the stage's group, role, DLQ and the catalog's periodic schedules (infra/schedules.ts). */
  readonly jobSchedules: JobSchedules;
  /** Whether Datadog monitors page (then no CloudWatch alarm duplicates them). */
  readonly datadogMonitoring: boolean;
  /** The SNS topic the CloudWatch alarms notify; undefined when no alarm is needed (Datadog covers every symptom). */
  readonly alarmTopic: sns.ITopic | undefined;

  constructor(scope: Construct, id: string, props: ServerlessJobsStackProps) {
    super(scope, id, props);
    const { stage } = props;
    checkStage(stage);
    const sender = parseSender(props.emailFrom);
    if (!sender)
      throw new ConfigurationError(`emailFrom "${props.emailFrom}" is not an email address (one ASCII line: address or "Name <address>")`);
    const service = props.service ?? 'serverless-jobs';
    this.namePrefix = stackName(() => stageNamePrefix(stage));
    const retain = props.retainData ?? stage === 'prod';
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // Which queues: the catalog's. How: queue-settings.ts (+ overrides). Checked before anything is created.
    const jobsByQueue = new Map<string, JobDefinition[]>();
    for (const job of props.jobs) jobsByQueue.set(job.queue, [...(jobsByQueue.get(job.queue) ?? []), job]);
    const queueNames = [...jobsByQueue.keys()].toSorted();
    if (queueNames.length === 0) throw new ConfigurationError('the job catalog is empty: there is no queue to create');
    checkOverriddenQueues(queueNames, QUEUE_SETTINGS, props.queueSettings ?? {});
    const logRetentionDays = props.logRetentionDays ?? defaultLogRetentionDays(stage);
    const resolved = queueNames.map((name) =>
      resolveQueueSettings(name, jobsByQueue.get(name) ?? [], {
        ...(logRetentionDays === undefined ? {} : { logRetentionDays }),
        ...props.queueSettings?.[name],
      }),
    );
    for (const settings of resolved) stackName(() => physicalName(stage, settings.queueName, 'worker'));

    // Idempotency records (issue 5) and every worker's failed-runs ledger (issue 13): one table for the stack.
    this.idempotencyTable = new dynamodb.Table(this, 'IdempotencyTable', {
      tableName: `${this.namePrefix}-idempotency`,
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Explicit SSE with the AWS managed key (aws/dynamodb): nothing to manage or pay monthly; see the README.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: retain,
      removalPolicy,
    });

    // One bundle, shared by every worker: esbuild, locally, with the shared options (infra/bundling.ts).
    const code = lambda.Code.fromAsset(path.join(REPO_ROOT, 'functions'), {
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // Never used: local bundling always succeeds or throws esbuild's error. Docker is not a fallback.
        image: DockerImage.fromRegistry('local-esbuild-bundling-only'),
        local: {
          tryBundle(outputDir: string): boolean {
            bundleWorker(outputDir);
            return true;
          },
        },
      },
    });

    const common: Record<string, string> = {
      DD_SERVICE: service,
      DD_ENV: stage,
      DD_VERSION: props.version,
      EMAIL_FROM: props.emailFrom,
    };

    const jobQueues: JobQueueResources[] = [];
    for (const settings of resolved) {
      const jobs = jobsByQueue.get(settings.queueName) ?? [];
      const idempotent = jobs.some((job) => job.idempotency !== undefined);
      const extraStatements = jobs.flatMap((job) => JOB_PERMISSIONS[job.type as JobType]?.({ scope: this, sender }) ?? []);
      const jobQueue = new JobQueue(this, `${pascalCase(settings.queueName)}JobQueue`, {
        settings,
        stage,
        code,
        jobTypes: jobs.map((job) => job.type),
        environment: { ...common, IDEMPOTENCY_TABLE: this.idempotencyTable.tableName },
        extraStatements,
        removalPolicy,
      });
      // The failed-runs ledger: read per batch, counted per failed run, only its own items (`attempts#<messageId>`).
      jobQueue.workerRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'FailedRunsLedger',
          actions: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
          resources: [this.idempotencyTable.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${ATTEMPTS_KEY_PREFIX}*`] } },
        }),
      );
      if (idempotent) {
        // Exactly the item calls the idempotency store makes, on this table only (no Scan/Query, no indexes).
        this.idempotencyTable.grant(
          jobQueue.workerRole,
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
        );
      }
      // Producers: the queue URL and ARN as stack outputs and SSM parameters.
      const base = pascalCase(settings.queueName);
      const producerHandles: ProducerHandles = {
        queueUrlOutput: new CfnOutput(this, `${base}QueueUrl`, {
          description: `URL of the "${settings.queueName}" job queue (job types: ${jobQueue.jobTypes.join(', ')})`,
          value: jobQueue.queue.queueUrl,
        }),
        deadLetterQueueUrlOutput: new CfnOutput(this, `${base}DeadLetterQueueUrl`, {
          description: `URL of the "${settings.queueName}" dead-letter queue`,
          value: jobQueue.deadLetterQueue.queueUrl,
        }),
        queueUrlParameter: new ssm.StringParameter(this, `${base}QueueUrlParameter`, {
          parameterName: `/${service}/${stage}/queues/${settings.queueName}/url`,
          description: `URL of the "${settings.queueName}" job queue`,
          stringValue: jobQueue.queue.queueUrl,
        }),
        queueArnParameter: new ssm.StringParameter(this, `${base}QueueArnParameter`, {
          parameterName: `/${service}/${stage}/queues/${settings.queueName}/arn`,
          description: `ARN of the "${settings.queueName}" job queue (for IAM policies of producers)`,
          stringValue: jobQueue.queue.queueArn,
        }),
      };
      jobQueues.push({
        queueName: settings.queueName,
        jobTypes: jobQueue.jobTypes,
        queue: jobQueue.queue,
        deadLetterQueue: jobQueue.deadLetterQueue,
        worker: jobQueue.worker,
        jobQueue,
        producer: producerHandles,
        alarms: {},
      });
    }

    // Periodic schedules and long delays (issue 11): EventBridge Scheduler sends job messages to the queues.
    this.jobSchedules = new JobSchedules(this, 'Scheduler', {
      stage,
      service,
      namePrefix: this.namePrefix,
      jobs: props.jobs,
      queues: jobQueues.map(({ queueName, jobQueue }) => ({
        queueName,
        queue: jobQueue.queue,
        fifo: jobQueue.settings.fifo,
        contentBasedDeduplication: jobQueue.settings.contentBasedDeduplication,
        encryptionKey: jobQueue.encryptionKey,
      })),
      removalPolicy,
    });

    // Datadog extension on every worker, or a clear statement that monitoring is off.
    if (props.datadog) {
      this.datadog = new DatadogInstrumentation(this, 'Datadog', props.datadog, { service, env: stage, version: props.version });
      this.datadog.addWorkers(jobQueues.map((entry) => entry.worker));
    } else {
      this.datadog = undefined;
      annotateMonitoringOff(this);
    }

    // One alerting path (infra/alarms.ts): Datadog monitors, or CloudWatch alarms on an SNS topic; never an alarm to nobody.
    this.datadogMonitoring = props.datadogMonitoring ?? false;
    const covered = props.monitoring?.(this, jobQueues);
    if (this.datadogMonitoring) {
      if (covered === undefined)
        throw new ConfigurationError('datadogMonitoring is on but no Datadog monitors were added (no monitoring hook)');
      if (props.alarmTopicArn !== undefined || props.alarmEmail !== undefined) {
        throw new ConfigurationError(
          'alarmTopicArn and alarmEmail are for the CloudWatch alarms, which Datadog monitoring replaces: route pages with datadogMonitoringNotify instead',
        );
      }
    }
    const uncovered = (entry: JobQueueResources) => ALARM_SYMPTOMS.filter((symptom) => !covered?.get(entry.queueName)?.has(symptom));
    this.alarmTopic = jobQueues.some((entry) => uncovered(entry).length > 0)
      ? alarmTopic(this, { namePrefix: this.namePrefix, alarmTopicArn: props.alarmTopicArn, alarmEmail: props.alarmEmail, removalPolicy })
      : undefined;
    this.jobQueues = jobQueues.map((entry) =>
      this.alarmTopic === undefined
        ? entry
        : {
            ...entry,
            alarms: addQueueAlarms(entry.jobQueue, {
              namePrefix: this.namePrefix,
              topic: this.alarmTopic,
              covered: covered?.get(entry.queueName) ?? new Set(),
            }),
          },
    );
    refuseSilentAlarms(this);
  }

  /**
   * Lets a producer enqueue jobs on one queue (by logical name), delays beyond 15 minutes included (one-time
   * schedules: {@link JobSchedules.grantDelays}). When the producer is a Lambda function, it also gets the queue's
   * URL in `JOBS_QUEUE_URL_<QUEUE>` and the scheduler settings, where the producer client looks for them.
   */
  grantEnqueue(grantee: iam.IGrantable, queueName: string): iam.Grant {
    const entry = this.jobQueues.find((candidate) => candidate.queueName === queueName);
    if (!entry) throw new ConfigurationError(`no queue "${queueName}" (queues: ${this.jobQueues.map((q) => q.queueName).join(', ')})`);
    if (grantee instanceof lambda.Function) {
      grantee.addEnvironment(queueUrlEnvVar(queueName), entry.queue.queueUrl);
      for (const [name, value] of Object.entries(this.jobSchedules.producerEnvironment())) grantee.addEnvironment(name, value);
    }
    return entry.jobQueue.grantEnqueue(grantee).combine(this.jobSchedules.grantDelays(grantee));
  }
}
