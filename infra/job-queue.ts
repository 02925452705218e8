/**
 * `JobQueue`: one logical job queue end to end. The source queue and its dead-letter queue, the redrive
 * policy, the worker function with its own role and log group, the SQS event source with partial batch
 * responses. Its alarms are added by infra/alarms.ts, on the one alerting path.
 *
 * Every resource it creates has a stable logical id (see {@link jobQueueLogicalIds}) and carries
 * `Metadata.ServerlessJobs = { queue, component }`, so tools that read the synthesized template (the local
 * environment does) can pair a queue with its DLQ, worker and event source mapping without guessing.
 */
import { CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { physicalName } from '../functions/client/queue-names.ts';
import { WORKER_HANDLER } from './bundling.ts';
import type { ResolvedQueueSettings } from './queue-settings.ts';

/** The template metadata key that tags every resource of a job queue. */
export const METADATA_KEY = 'ServerlessJobs';

/** What a resource is, within a job queue. */
export type JobQueueComponent =
  | 'queue'
  | 'dead-letter-queue'
  | 'worker'
  | 'worker-role'
  | 'worker-log-group'
  | 'event-source-mapping'
  | 'encryption-key'
  | 'alarm';

/** The value of `Metadata.ServerlessJobs` on a job queue's resources. */
export interface JobQueueMetadata {
  /** Logical queue name (`default`, `webhooks`, ...). */
  readonly queue: string;
  readonly component: JobQueueComponent;
}

/** PascalCase of a kebab-case queue name: `bulk-email` -> `BulkEmail`. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}

/** The CloudFormation logical ids of a job queue's main resources. */
export interface JobQueueLogicalIds {
  readonly queue: string;
  readonly deadLetterQueue: string;
  readonly worker: string;
  readonly eventSourceMapping: string;
}

/** Logical ids of the queue, DLQ, worker and event source mapping of `queueName` (e.g. `DefaultJobQueue`). */
export function jobQueueLogicalIds(queueName: string): JobQueueLogicalIds {
  const base = pascalCase(queueName);
  return {
    queue: `${base}JobQueue`,
    deadLetterQueue: `${base}DeadLetterQueue`,
    worker: `${base}Worker`,
    eventSourceMapping: `${base}WorkerEventSource`,
  };
}

/** Everything a JobQueue needs. */
export interface JobQueueProps {
  /** Validated settings (see `resolveQueueSettings`). */
  readonly settings: ResolvedQueueSettings;
  /** The deployment stage: physical names follow functions/client/queue-names.ts. */
  readonly stage: string;
  /** The worker's code (shared by all workers of a stack). */
  readonly code: lambda.Code;
  /** The job types this queue carries. */
  readonly jobTypes: readonly string[];
  /** Environment of the worker besides the queue's own variables (DD_*, EMAIL_FROM, IDEMPOTENCY_TABLE...). */
  readonly environment?: Readonly<Record<string, string>>;
  /** Statements the jobs on this queue need (SES, ...), added to the worker's role. */
  readonly extraStatements?: readonly iam.PolicyStatement[];
  /** A customer managed key to use instead of creating one, when `settings.encryption` is `kms`. */
  readonly encryptionKey?: kms.IKey;
  /** What happens to the queues, key and logs when the stack is deleted. Default DESTROY. */
  readonly removalPolicy?: RemovalPolicy;
}

/** A queue, its DLQ and its worker (their alarms: infra/alarms.ts). */
export class JobQueue extends Construct {
  /** Logical queue name. */
  readonly queueName: string;
  /** The job types carried by this queue. */
  readonly jobTypes: readonly string[];
  /** The validated settings. */
  readonly settings: ResolvedQueueSettings;
  /** The source queue producers send to. */
  readonly queue: sqs.Queue;
  /** Where messages go when they are dead (by the worker, with a reason, or by the redrive policy). */
  readonly deadLetterQueue: sqs.Queue;
  /** The worker function. */
  readonly worker: lambda.Function;
  /** The worker's role: its queue, its DLQ, its log group, plus what the stack adds for its jobs. */
  readonly workerRole: iam.Role;
  /** The worker's log group. */
  readonly logGroup: logs.LogGroup;
  /** The SQS -> Lambda event source mapping. */
  readonly eventSourceMapping: lambda.EventSourceMapping;
  /** The customer managed key, when the queue uses KMS encryption. */
  readonly encryptionKey: kms.IKey | undefined;

  constructor(scope: Construct, id: string, props: JobQueueProps) {
    super(scope, id);
    const { settings } = props;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    this.queueName = settings.queueName;
    this.jobTypes = [...props.jobTypes];
    this.settings = settings;
    this.encryptionKey = this.createEncryptionKey(props, removalPolicy);
    const { queue, deadLetterQueue } = this.createQueues(props.stage, removalPolicy);
    this.queue = queue;
    this.deadLetterQueue = deadLetterQueue;

    // The worker: an explicit role (no managed policies) and an explicit log group with a retention.
    const functionName = physicalName(props.stage, this.queueName, 'worker');
    this.logGroup = new logs.LogGroup(this, 'WorkerLogGroup', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: settings.logRetentionDays as logs.RetentionDays,
      removalPolicy,
    });
    this.workerRole = new iam.Role(this, 'WorkerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `serverless-jobs worker for queue "${this.queueName}"`,
    });
    this.worker = this.createWorker(props, functionName);
    this.grantWorker(props.extraStatements ?? []);
    this.eventSourceMapping = this.createEventSource();
    this.tagResources();
  }

  /** SSE-SQS by default (AWS-owned keys, nothing to manage), or a customer managed KMS key (given or created). */
  private createEncryptionKey(props: JobQueueProps, removalPolicy: RemovalPolicy): kms.IKey | undefined {
    if (this.settings.encryption !== 'kms') return undefined;
    return (
      props.encryptionKey ??
      new kms.Key(this, 'Key', {
        description: `serverless-jobs queue "${this.queueName}" and its DLQ`,
        enableKeyRotation: true,
        removalPolicy,
      })
    );
  }

  /** The dead-letter queue, then the source queue that redrives into it. */
  private createQueues(stage: string, removalPolicy: RemovalPolicy): { queue: sqs.Queue; deadLetterQueue: sqs.Queue } {
    const { settings } = this;
    const encryption = this.encryptionKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: this.encryptionKey, dataKeyReuse: Duration.minutes(5) }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };
    const fifo = {
      fifo: settings.fifo || undefined,
      contentBasedDeduplication: settings.fifo ? settings.contentBasedDeduplication : undefined,
    };
    const queueName = physicalName(stage, this.queueName, 'queue', settings.fifo);
    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: physicalName(stage, this.queueName, 'dead-letter-queue', settings.fifo),
      ...encryption,
      enforceSSL: true,
      ...fifo,
      retentionPeriod: Duration.seconds(settings.deadLetterRetentionSeconds),
      // Only this job queue may redrive into this DLQ (an ARN built from the name: no reference cycle).
      redriveAllowPolicy: {
        redrivePermission: sqs.RedrivePermission.BY_QUEUE,
        sourceQueues: [sqs.Queue.fromQueueArn(this, 'SourceQueueRef', Stack.of(this).formatArn({ service: 'sqs', resource: queueName }))],
      },
      removalPolicy,
    });
    const queue = new sqs.Queue(this, 'Queue', {
      queueName,
      ...encryption,
      enforceSSL: true,
      ...fifo,
      retentionPeriod: Duration.seconds(settings.retentionPeriodSeconds),
      visibilityTimeout: Duration.seconds(settings.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
      removalPolicy,
    });
    return { queue, deadLetterQueue };
  }

  /** The worker function, with its queue's variables on top of the stack's. */
  private createWorker(props: JobQueueProps, functionName: string): lambda.Function {
    const { settings } = this;
    const environment: Record<string, string> = {
      ...props.environment,
      JOB_QUEUE: this.queueName,
      JOB_QUEUE_URL: this.queue.queueUrl,
      DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
      // The worker dead-letters a record that did not run on this last receive itself (reason not_started).
      JOB_QUEUE_MAX_RECEIVE_COUNT: String(settings.maxReceiveCount),
      NODE_OPTIONS: '--enable-source-maps',
    };
    if (settings.workerConcurrency !== undefined) environment.WORKER_CONCURRENCY = String(settings.workerConcurrency);
    return new lambda.Function(this, 'Worker', {
      functionName,
      description: `serverless-jobs worker for queue "${this.queueName}" (${props.jobTypes.join(', ')})`.slice(0, 256),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: WORKER_HANDLER,
      code: props.code,
      memorySize: settings.memorySize,
      timeout: Duration.seconds(settings.timeoutSeconds),
      role: this.workerRole,
      logGroup: this.logGroup,
      environment,
    });
  }

  /**
   * Least privilege: consume its own queue (Receive, Delete, ChangeMessageVisibility, GetQueueAttributes), send to
   * its own DLQ, write its own log group, plus what its jobs need. With KMS, exactly the key calls SQS makes for it.
   */
  private grantWorker(extraStatements: readonly iam.PolicyStatement[]): void {
    grantQueue(this.queue, this.encryptionKey, this.workerRole, CONSUME_ACTIONS, CONSUME_KEY_ACTIONS);
    grantQueue(this.deadLetterQueue, this.encryptionKey, this.workerRole, SEND_ACTIONS, SEND_KEY_ACTIONS);
    this.logGroup.grantWrite(this.workerRole);
    for (const statement of extraStatements) this.workerRole.addToPrincipalPolicy(statement);
  }

  /** The SQS event source with partial batch responses, created after the role may read the queue. */
  private createEventSource(): lambda.EventSourceMapping {
    const { settings } = this;
    const mapping = new lambda.EventSourceMapping(this, 'EventSource', {
      target: this.worker,
      eventSourceArn: this.queue.queueArn,
      batchSize: settings.batchSize,
      maxBatchingWindow: settings.maxBatchingWindowSeconds > 0 ? Duration.seconds(settings.maxBatchingWindowSeconds) : undefined,
      reportBatchItemFailures: true,
      maxConcurrency: settings.maxConcurrency,
    });
    // The mapping polls with the function's role: it must not be created before the role may read the queue.
    const defaultPolicy = this.workerRole.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy) mapping.node.addDependency(defaultPolicy);
    return mapping;
  }

  /** Stable logical ids and metadata for the main resources; metadata for the rest. */
  private tagResources(): void {
    const ids = jobQueueLogicalIds(this.queueName);
    const tag = (construct: IConstruct, component: JobQueueComponent, logicalId?: string): void => {
      const resource = construct.node.defaultChild ?? construct;
      if (!CfnResource.isCfnResource(resource)) return;
      if (logicalId !== undefined) resource.overrideLogicalId(logicalId);
      resource.addMetadata(METADATA_KEY, { queue: this.queueName, component } satisfies JobQueueMetadata);
    };
    tag(this.queue, 'queue', ids.queue);
    tag(this.deadLetterQueue, 'dead-letter-queue', ids.deadLetterQueue);
    tag(this.worker, 'worker', ids.worker);
    tag(this.eventSourceMapping, 'event-source-mapping', ids.eventSourceMapping);
    tag(this.workerRole, 'worker-role');
    tag(this.logGroup, 'worker-log-group');
    if (this.encryptionKey instanceof kms.Key) tag(this.encryptionKey, 'encryption-key');
  }

  /**
   * Lets a producer send jobs to this queue (sqs:SendMessage and, with KMS, kms:GenerateDataKey and kms:Decrypt).
   * Producers never get access to the DLQ or the worker.
   */
  grantEnqueue(grantee: iam.IGrantable): iam.Grant {
    return grantQueue(this.queue, this.encryptionKey, grantee, SEND_ACTIONS, SEND_KEY_ACTIONS);
  }
}

/** What consuming a queue takes (what `Queue.grantConsumeMessages` grants). */
const CONSUME_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueUrl',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
];
/** Receiving from a KMS-encrypted queue: SQS decrypts the data key. */
const CONSUME_KEY_ACTIONS = ['kms:Decrypt'];
/** What sending to a queue takes (what `Queue.grantSendMessages` grants). */
const SEND_ACTIONS = ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'];
/**
 * Sending to a KMS-encrypted queue: SQS generates (and may decrypt, when it reuses) the data key. CDK's own
 * grant adds kms:Encrypt and the wildcards kms:ReEncrypt* and kms:GenerateDataKey*, which SQS never uses.
 */
const SEND_KEY_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'];

function grantQueue(
  queue: sqs.IQueue,
  key: kms.IKey | undefined,
  grantee: iam.IGrantable,
  actions: readonly string[],
  keyActions: readonly string[],
): iam.Grant {
  const grant = queue.grant(grantee, ...actions);
  return key ? grant.combine(key.grant(grantee, ...keyActions)) : grant;
}
