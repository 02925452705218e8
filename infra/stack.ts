/**
 * The serverless-jobs stack: the catalog's queues (infra/catalog-queues.ts: a JobQueue each, with the producers'
 * handles), the idempotency table, the schedules, Datadog on every worker, and one alerting path.
 */
import path from 'node:path';
import { AssetHashType, DockerImage, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { DEFAULT_SERVICE, queueUrlEnvVar, stageNamePrefix } from '../functions/client/queue-names.ts';
import { ConfigurationError } from '../functions/runtime/errors.ts';
import type { JobDefinition } from '../functions/runtime/job.ts';
import { ALARM_SYMPTOMS, addQueueAlarms, alarmTopic, refuseSilentAlarms } from './alarms.ts';
import { bundleWorker, REPO_ROOT } from './bundling.ts';
import { addCatalogQueue, resolveCatalogQueues, type JobQueueResources } from './catalog-queues.ts';
import { annotateMonitoringOff, DatadogInstrumentation, type DatadogSettings } from './datadog.ts';
import { parseSender } from './job-permissions.ts';
import { JobSchedules } from './schedules.ts';
import type { QueueSettings } from './queue-settings.ts';
import { checkStage, stackName } from './stack-names.ts';

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

/** One bundle, shared by every worker: esbuild, locally, with the shared options (infra/bundling.ts). */
function workerCode(): lambda.Code {
  return lambda.Code.fromAsset(path.join(REPO_ROOT, 'functions'), {
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
    const stage = checkStage(props.stage);
    const sender = parseSender(props.emailFrom);
    if (!sender)
      throw new ConfigurationError(`emailFrom "${props.emailFrom}" is not an email address (one ASCII line: address or "Name <address>")`);
    const service = props.service ?? DEFAULT_SERVICE;
    this.namePrefix = stackName(() => stageNamePrefix(stage));
    const retain = props.retainData ?? stage === 'prod';
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetentionDays = props.logRetentionDays ?? defaultLogRetentionDays(stage);
    const queues = resolveCatalogQueues(stage, props.jobs, { queueSettings: props.queueSettings, logRetentionDays });

    this.idempotencyTable = this.createIdempotencyTable(retain, removalPolicy);
    const environment = {
      DD_SERVICE: service,
      DD_ENV: stage,
      DD_VERSION: props.version,
      EMAIL_FROM: props.emailFrom,
      IDEMPOTENCY_TABLE: this.idempotencyTable.tableName,
    };
    const context = { stage, service, code: workerCode(), environment, sender, idempotencyTable: this.idempotencyTable, removalPolicy };
    const jobQueues = queues.map((queue) => addCatalogQueue(this, queue, context));
    this.jobSchedules = this.createSchedules(props, service, jobQueues, removalPolicy);

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
    const covered = this.monitoredSymptoms(props, jobQueues);
    const uncovered = (entry: JobQueueResources) => ALARM_SYMPTOMS.filter((symptom) => !covered?.get(entry.queueName)?.has(symptom));
    this.alarmTopic = jobQueues.some((entry) => uncovered(entry).length > 0)
      ? alarmTopic(this, { namePrefix: this.namePrefix, alarmTopicArn: props.alarmTopicArn, alarmEmail: props.alarmEmail, removalPolicy })
      : undefined;
    const topic = this.alarmTopic;
    this.jobQueues = jobQueues.map((entry) =>
      topic === undefined
        ? entry
        : {
            ...entry,
            alarms: addQueueAlarms(entry.jobQueue, {
              namePrefix: this.namePrefix,
              topic,
              covered: covered?.get(entry.queueName) ?? new Set(),
            }),
          },
    );
    refuseSilentAlarms(this);
  }

  /** Idempotency records (issue 5) and every worker's failed-runs ledger (issue 13): one table for the stack. */
  private createIdempotencyTable(retain: boolean, removalPolicy: RemovalPolicy): dynamodb.Table {
    return new dynamodb.Table(this, 'IdempotencyTable', {
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
  }

  /** Periodic schedules and long delays (issue 11): EventBridge Scheduler sends job messages to the queues. */
  private createSchedules(
    props: ServerlessJobsStackProps,
    service: string,
    jobQueues: readonly JobQueueResources[],
    removalPolicy: RemovalPolicy,
  ): JobSchedules {
    return new JobSchedules(this, 'Scheduler', {
      stage: props.stage,
      service,
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
  }

  /** The symptoms the monitoring hook's Datadog monitors cover; with Datadog monitoring on, there must be some. */
  private monitoredSymptoms(props: ServerlessJobsStackProps, jobQueues: readonly JobQueueResources[]): MonitoredSymptoms | undefined {
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
    return covered;
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
