/**
 * The synthesized template, read as a specification of what `cdk deploy` creates for every queue the
 * job catalog needs. Bundling is skipped here (test/infra/bundle.test.ts covers the worker asset).
 */
import { readdirSync } from 'node:fs';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalog, queueNames } from '../../functions/jobs/catalog.ts';
import { ATTEMPTS_KEY_PREFIX } from '../../functions/runtime/attempt-ledger.ts';
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import type { JobDefinition } from '../../functions/runtime/job.ts';
import { DATADOG_EXTENSION_LAYER_VERSION, DATADOG_NODE_LAYER_VERSION } from '../../infra/datadog.ts';
import { jobQueueLogicalIds, METADATA_KEY } from '../../infra/job-queue.ts';
import { DEAD_LETTER_RETENTION_SECONDS, NOT_RUN_RECEIVE_HEADROOM, resolveQueueSettings } from '../../infra/queue-settings.ts';
import { DATADOG_SECRET_ARN, synth, type Synthesized } from './synth.ts';

type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown>; DeletionPolicy?: string };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };

function resource(template: Template, logicalId: string): Resource {
  const found = template.toJSON().Resources[logicalId] as Resource | undefined;
  if (!found) throw new Error(`no resource ${logicalId}`);
  return found;
}

function jobsOn(queue: string): JobDefinition[] {
  return Object.values(catalog).filter((job) => job.queue === queue);
}

/** The statements of the worker role's policy, for the queue's worker. */
function workerStatements(template: Template, queue: string): Statement[] {
  const worker = resource(template, jobQueueLogicalIds(queue).worker);
  const roleId = (worker.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
  const mine = policies.filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId));
  return mine.flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

function actionsOf(statement: Statement): string[] {
  return (Array.isArray(statement.Action) ? statement.Action : [statement.Action]).toSorted();
}

function refersTo(value: unknown, logicalId: string): boolean {
  return JSON.stringify(value).includes(`"${logicalId}"`);
}

describe('the stack with Datadog on', () => {
  let built: Synthesized;
  let template: Template;
  beforeAll(() => {
    built = synth({ context: { datadogApiKeySecretArn: DATADOG_SECRET_ARN, datadogSite: 'datadoghq.eu', stage: 'staging' } });
    template = built.template;
  });

  it('creates one queue, one dead-letter queue and one worker per queue the catalog names', () => {
    expect(queueNames.length).toBeGreaterThan(0);
    template.resourceCountIs('AWS::SQS::Queue', queueNames.length * 2 + 1); // + the scheduler's dead-letter queue
    template.resourceCountIs('AWS::Lambda::Function', queueNames.length);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', queueNames.length);
    expect(built.stack.jobQueues.map((entry) => entry.queueName)).toEqual([...queueNames]);
  });

  describe.each(queueNames.map((name) => [name]))('queue "%s"', (queue) => {
    const ids = jobQueueLogicalIds(queue);
    const settings = resolveQueueSettings(queue, jobsOn(queue));

    it('has a stage-aware name and redrives to its dead-letter queue after maxReceiveCount receives', () => {
      const source = resource(template, ids.queue);
      expect(source.Properties.QueueName).toBe(`serverless-jobs-staging-${queue}`);
      expect(source.Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [ids.deadLetterQueue, 'Arn'] },
        maxReceiveCount: settings.maxReceiveCount,
      });
      expect(resource(template, ids.deadLetterQueue).Properties.QueueName).toBe(`serverless-jobs-staging-${queue}-dlq`);
    });

    it('keeps dead letters 14 days, longer than the source queue keeps messages', () => {
      const dlqRetention = resource(template, ids.deadLetterQueue).Properties.MessageRetentionPeriod as number;
      const sourceRetention = resource(template, ids.queue).Properties.MessageRetentionPeriod as number;
      expect(dlqRetention).toBe(14 * 86_400);
      expect(dlqRetention).toBe(DEAD_LETTER_RETENTION_SECONDS);
      expect(sourceRetention).toBeLessThan(dlqRetention);
    });

    it('lets only its own source queue redrive into the dead-letter queue', () => {
      const policy = resource(template, ids.deadLetterQueue).Properties.RedriveAllowPolicy as {
        redrivePermission: string;
        sourceQueueArns: unknown[];
      };
      expect(policy.redrivePermission).toBe('byQueue');
      expect(JSON.stringify(policy.sourceQueueArns)).toContain(`:serverless-jobs-staging-${queue}"`);
    });

    it('encrypts both queues at rest with SQS-managed keys', () => {
      expect(resource(template, ids.queue).Properties.SqsManagedSseEnabled).toBe(true);
      expect(resource(template, ids.deadLetterQueue).Properties.SqsManagedSseEnabled).toBe(true);
    });

    it('denies every request to either queue that does not use TLS', () => {
      for (const queueId of [ids.queue, ids.deadLetterQueue]) {
        const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')) as Resource[];
        const policy = policies.find((candidate) => refersTo(candidate.Properties.Queues, queueId));
        const statements = (policy?.Properties.PolicyDocument as { Statement: unknown[] } | undefined)?.Statement;
        expect(statements, `queue policy of ${queueId}`).toContainEqual({
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
        });
      }
    });

    it('triggers its worker with partial batch responses, the batch size and the concurrency limit', () => {
      const mapping = resource(template, ids.eventSourceMapping);
      expect(mapping.Properties).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
        FunctionName: { Ref: ids.worker },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: settings.batchSize,
        ScalingConfig: { MaximumConcurrency: settings.maxConcurrency },
      });
    });

    it('hides a received batch for at least 6 x the worker timeout plus the batching window', () => {
      const visibility = resource(template, ids.queue).Properties.VisibilityTimeout as number;
      const timeout = resource(template, ids.worker).Properties.Timeout as number;
      const window = (resource(template, ids.eventSourceMapping).Properties.MaximumBatchingWindowInSeconds as number | undefined) ?? 0;
      expect(visibility).toBeGreaterThanOrEqual(6 * timeout + window);
    });

    it('runs the worker on Node.js 24, arm64, from the bundled index.handler, with its own log group', () => {
      const worker = resource(template, ids.worker);
      expect(worker.Properties).toMatchObject({
        FunctionName: `serverless-jobs-staging-${queue}-worker`,
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: settings.memorySize,
        Timeout: settings.timeoutSeconds,
      });
      const logGroupRef = (worker.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(resource(template, logGroupRef).Properties).toMatchObject({
        LogGroupName: `/aws/lambda/serverless-jobs-staging-${queue}-worker`,
        RetentionInDays: settings.logRetentionDays,
      });
    });

    it('tells the worker its queue, its queue URL, its DLQ URL, the service tags and the sender', () => {
      const variables = (resource(template, ids.worker).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables).toMatchObject({
        JOB_QUEUE: queue,
        JOB_QUEUE_URL: { Ref: ids.queue },
        DEAD_LETTER_QUEUE_URL: { Ref: ids.deadLetterQueue },
        DD_SERVICE: 'serverless-jobs',
        DD_ENV: 'staging',
        DD_VERSION: built.config.version,
        EMAIL_FROM: 'jobs@example.org',
      });
    });

    it('gives every worker the idempotency table, for its failed-runs ledger if none of its jobs is idempotent', () => {
      const variables = (resource(template, ids.worker).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const tableRef = { Ref: built.stack.getLogicalId(built.stack.idempotencyTable.node.defaultChild as never) };
      expect(variables.IDEMPOTENCY_TABLE).toEqual(tableRef);
    });

    it("lets every worker read and count its failed-runs ledger, on the ledger's items of the table only", () => {
      const tableArn = { 'Fn::GetAtt': [built.stack.getLogicalId(built.stack.idempotencyTable.node.defaultChild as never), 'Arn'] };
      const ledger = workerStatements(template, queue).filter((s) => actionsOf(s).includes('dynamodb:BatchGetItem'));
      expect(ledger).toEqual([
        {
          Action: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
          Effect: 'Allow',
          Resource: tableArn,
          Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${ATTEMPTS_KEY_PREFIX}*`] } },
          Sid: 'FailedRunsLedger',
        },
      ]);
    });

    it('grants the idempotency store its item calls only when one of its jobs is idempotent', () => {
      const idempotent = jobsOn(queue).some((job) => job.idempotency !== undefined);
      const tableStatements = workerStatements(template, queue).filter(
        (s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')) && !actionsOf(s).includes('dynamodb:BatchGetItem'),
      );
      expect(tableStatements.map(actionsOf)).toEqual(
        idempotent ? [['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']] : [],
      );
    });

    it("tells the worker its queue's maxReceiveCount: the largest maxAttempts of its jobs plus the headroom for receives that did not run", () => {
      const variables = (resource(template, ids.worker).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const mostAttempts = Math.max(...jobsOn(queue).map((job) => job.retry.maxAttempts));
      expect(settings.maxReceiveCount).toBe(mostAttempts + NOT_RUN_RECEIVE_HEADROOM);
      expect(variables.JOB_QUEUE_MAX_RECEIVE_COUNT).toBe(String(settings.maxReceiveCount));
    });

    it("grants the worker nothing wider than its queue, its DLQ, its log group, its jobs' needs and the API key", () => {
      const statements = workerStatements(template, queue);
      for (const statement of statements) {
        expect(statement.Effect).toBe('Allow');
        expect(JSON.stringify(statement.Resource)).not.toBe('"*"');
        expect(actionsOf(statement).every((action) => !action.includes('*'))).toBe(true);
      }
      const sqsStatements = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
      expect(sqsStatements).toEqual([
        {
          Action: actionsOf({
            Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
            Resource: '',
            Effect: '',
          }),
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
        },
        {
          Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [ids.deadLetterQueue, 'Arn'] },
        },
      ]);
      const services = new Set(statements.flatMap(actionsOf).map((action) => action.split(':')[0]));
      const expected = new Set(['sqs', 'logs', 'secretsmanager']);
      expected.add('dynamodb'); // the failed-runs ledger of every worker
      if (jobsOn(queue).some((job) => job.type === 'send-email')) expected.add('ses');
      expect(services).toEqual(expected);
      const logs = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
      expect(logs.map(actionsOf)).toEqual([['logs:CreateLogStream', 'logs:PutLogEvents']]);
      expect(JSON.stringify(logs[0]?.Resource)).toContain('LogGroup');
      const secrets = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('secretsmanager:')));
      expect(secrets.map((s) => s.Resource)).toEqual([DATADOG_SECRET_ARN]);
    });

    it('adds the pinned Datadog extension layer (arm64) and its settings, and no tracing library', () => {
      const worker = resource(template, ids.worker);
      const layers = JSON.stringify(worker.Properties.Layers);
      expect(layers).toContain(`:464622532012:layer:Datadog-Extension-ARM:${DATADOG_EXTENSION_LAYER_VERSION}`);
      expect(layers).not.toContain('Datadog-Node');
      expect(worker.Properties.Handler).toBe('index.handler');
      expect((worker.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
        DD_API_KEY_SECRET_ARN: DATADOG_SECRET_ARN,
        DD_SITE: 'datadoghq.eu',
        DD_FLUSH_TO_LOG: 'false',
        DD_TRACE_ENABLED: 'false',
        DD_DOGSTATSD_BUFFER_SIZE: '8192',
      });
      expect(JSON.stringify(worker.Properties.Environment)).not.toMatch(/DD_API_KEY"/);
    });

    it('alarms on dead letters, an old oldest message, worker errors and worker throttles', () => {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
      const mine = alarms.filter((alarm) => (alarm.Metadata?.[METADATA_KEY] as { queue?: string } | undefined)?.queue === queue);
      const byMetric = new Map(mine.map((alarm) => [alarm.Properties.MetricName as string, alarm]));
      expect([...byMetric.keys()].toSorted()).toEqual([
        'ApproximateAgeOfOldestMessage',
        'ApproximateNumberOfMessagesVisible',
        'Errors',
        'Throttles',
      ]);
      expect(refersTo(byMetric.get('ApproximateNumberOfMessagesVisible')?.Properties.Dimensions, ids.deadLetterQueue)).toBe(true);
      expect(byMetric.get('ApproximateNumberOfMessagesVisible')?.Properties.Threshold).toBe(1);
      expect(refersTo(byMetric.get('ApproximateAgeOfOldestMessage')?.Properties.Dimensions, ids.queue)).toBe(true);
      expect(byMetric.get('ApproximateAgeOfOldestMessage')?.Properties.Threshold).toBe(settings.oldestMessageAgeAlarmSeconds);
      expect(refersTo(byMetric.get('Errors')?.Properties.Dimensions, ids.worker)).toBe(true);
      expect(refersTo(byMetric.get('Throttles')?.Properties.Dimensions, ids.worker)).toBe(true);
    });

    it('hands the queue URL to producers as a stack output and an SSM parameter', () => {
      const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
      expect(Object.values(outputs).map((output) => output.Value)).toContainEqual({ Ref: ids.queue });
      template.hasResourceProperties('AWS::SSM::Parameter', {
        Name: `/serverless-jobs/staging/queues/${queue}/url`,
        Value: { Ref: ids.queue },
      });
      template.hasResourceProperties('AWS::SSM::Parameter', {
        Name: `/serverless-jobs/staging/queues/${queue}/arn`,
        Value: { 'Fn::GetAtt': [ids.queue, 'Arn'] },
      });
    });

    it('marks queue, DLQ, worker and mapping with their queue and role so a template reader can pair them', () => {
      expect(resource(template, ids.queue).Metadata?.[METADATA_KEY]).toEqual({ queue, component: 'queue' });
      expect(resource(template, ids.deadLetterQueue).Metadata?.[METADATA_KEY]).toEqual({ queue, component: 'dead-letter-queue' });
      expect(resource(template, ids.worker).Metadata?.[METADATA_KEY]).toEqual({ queue, component: 'worker' });
      expect(resource(template, ids.eventSourceMapping).Metadata?.[METADATA_KEY]).toEqual({ queue, component: 'event-source-mapping' });
    });
  });

  it('lets the send-email worker send only as the configured sender', () => {
    const queue = catalog['send-email'].queue;
    const ses = workerStatements(template, queue).filter((s) => actionsOf(s).some((a) => a.startsWith('ses:')));
    expect(ses).toHaveLength(1);
    expect(actionsOf(ses[0] as Statement)).toEqual(['ses:SendEmail']);
    expect(ses[0]?.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'jobs@example.org' } });
    expect(JSON.stringify(ses[0]?.Resource)).toContain(':identity/jobs@example.org');
  });

  it('stores idempotency records in one pay-per-request table with a TTL and point-in-time recovery', () => {
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table')) as Resource[];
    expect(tables).toHaveLength(1);
    expect(tables[0]?.Properties).toMatchObject({
      TableName: 'serverless-jobs-staging-idempotency',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('does not say that monitoring is off', () => {
    const warnings = built.app
      .synth()
      .getStackByName(built.stack.stackName)
      .messages.map((message) => String(message.entry.data));
    expect(warnings.join('\n')).not.toContain('monitoring is OFF');
  });
});

describe('the stack without a Datadog secret', () => {
  let built: Synthesized;
  beforeAll(() => {
    built = synth();
  });

  it('still synthesizes every worker, without the extension layer or Datadog settings', () => {
    const workers = Object.values(built.template.findResources('AWS::Lambda::Function')) as Resource[];
    expect(workers).toHaveLength(queueNames.length);
    for (const worker of workers) {
      expect(worker.Properties.Layers).toBeUndefined();
      const variables = (worker.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables.DD_API_KEY_SECRET_ARN).toBeUndefined();
      expect(variables).toMatchObject({ DD_SERVICE: 'serverless-jobs', DD_ENV: 'dev' });
    }
    expect(JSON.stringify(built.template.toJSON())).not.toContain('secretsmanager:');
  });

  it('says on the stack that monitoring is off', () => {
    const messages = built.app.synth().getStackByName(built.stack.stackName).messages;
    expect(messages.map((message) => `${message.level} ${String(message.entry.data)}`).join('\n')).toMatch(
      /^warning Datadog monitoring is OFF/m,
    );
  });

  it('deletes data with the stack outside prod', () => {
    const ids = jobQueueLogicalIds(queueNames[0] as string);
    expect(resource(built.template, ids.deadLetterQueue).DeletionPolicy).toBe('Delete');
  });
});

describe('options', () => {
  it('adds the Datadog Node.js library layer and redirects the handler only when asked', () => {
    const { template } = synth({ context: { datadogApiKeySecretArn: DATADOG_SECRET_ARN, datadogNodeLibrary: 'true' } });
    const worker = resource(template, jobQueueLogicalIds(queueNames[0] as string).worker);
    expect(JSON.stringify(worker.Properties.Layers)).toContain(`:layer:Datadog-Node24-x:${DATADOG_NODE_LAYER_VERSION}`);
    expect(worker.Properties.Handler).toBe('/opt/nodejs/node_modules/datadog-lambda-js/handler.handler');
    expect((worker.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      DD_LAMBDA_HANDLER: 'index.handler',
      DD_TRACE_ENABLED: 'true',
    });
  });

  it('makes a FIFO queue with a FIFO DLQ, content-based deduplication and no batching window', () => {
    const { template } = synth({ queueSettings: { webhooks: { fifo: true, contentBasedDeduplication: true } } });
    const ids = jobQueueLogicalIds('webhooks');
    expect(resource(template, ids.queue).Properties).toMatchObject({
      QueueName: 'serverless-jobs-dev-webhooks.fifo',
      FifoQueue: true,
      ContentBasedDeduplication: true,
    });
    expect(resource(template, ids.deadLetterQueue).Properties).toMatchObject({
      QueueName: 'serverless-jobs-dev-webhooks-dlq.fifo',
      FifoQueue: true,
    });
    expect(resource(template, ids.eventSourceMapping).Properties.MaximumBatchingWindowInSeconds).toBeUndefined();
  });

  it('encrypts with a rotated customer managed key and grants only the KMS calls SQS makes', () => {
    const { template } = synth({ queueSettings: { webhooks: { encryption: 'kms' } } });
    const ids = jobQueueLogicalIds('webhooks');
    const keyArn = resource(template, ids.queue).Properties.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] };
    expect(resource(template, ids.deadLetterQueue).Properties.KmsMasterKeyId).toEqual(keyArn);
    expect(resource(template, keyArn['Fn::GetAtt'][0]).Properties.EnableKeyRotation).toBe(true);
    const kmsActions = workerStatements(template, 'webhooks')
      .filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')))
      .map(actionsOf);
    expect(kmsActions.flat().toSorted()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('keeps queues, the idempotency table and logs when a prod stack is deleted', () => {
    const { template } = synth({ context: { stage: 'prod' } });
    const ids = jobQueueLogicalIds(queueNames[0] as string);
    expect(resource(template, ids.queue).DeletionPolicy).toBe('Retain');
    expect(resource(template, ids.deadLetterQueue).DeletionPolicy).toBe('Retain');
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
  });

  it('sends every alarm to the SNS topic it is given', () => {
    const topic = 'arn:aws:sns:eu-west-1:123456789012:on-call';
    const { template } = synth({ context: { alarmTopicArn: topic } });
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
    expect(alarms.length).toBe(queueNames.length * 4);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([topic]);
  });

  it('lets a producer enqueue on one queue and nothing else', () => {
    const { stack } = synth();
    const producer = new iam.Role(stack, 'Producer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    stack.grantEnqueue(producer, 'webhooks');
    const policy = producer.node.findChild('DefaultPolicy').node.defaultChild as unknown as { policyDocument: { toJSON(): unknown } };
    const document = stack.resolve(policy.policyDocument.toJSON()) as { Statement: Statement[] };
    const queueStatements = document.Statement.filter((statement) => actionsOf(statement).some((action) => action.startsWith('sqs:')));
    expect(queueStatements.map((statement) => ({ ...statement, Action: actionsOf(statement) }))).toEqual([
      {
        Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [jobQueueLogicalIds('webhooks').queue, 'Arn'] },
      },
    ]);
    // Besides the queue: one-time schedules for long delays (test/infra/schedules.test.ts has the details).
    const rest = document.Statement.filter((statement) => !queueStatements.includes(statement)).flatMap(actionsOf);
    expect(rest.every((action) => action.startsWith('scheduler:') || action === 'iam:PassRole')).toBe(true);
    expect(() => stack.grantEnqueue(producer, 'nope')).toThrow(/no queue "nope"/);
  });

  it("hands a producer function its queue's URL in the variable the producer client reads", () => {
    const { stack } = synth();
    const producer = new lambda.Function(stack, 'ProducerFunction', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('export const handler = async () => {};'),
    });
    stack.grantEnqueue(producer, 'webhooks');
    const variables = stack.resolve((producer.node.defaultChild as lambda.CfnFunction).environment) as {
      variables: Record<string, unknown>;
    };
    expect(variables.variables.JOBS_QUEUE_URL_WEBHOOKS).toEqual({ Ref: jobQueueLogicalIds('webhooks').queue });
  });

  it('accepts a sender with a display name and authorizes its address', () => {
    const { template } = synth({ context: { emailFrom: 'Acme Jobs <jobs@mail.acme.example>' } });
    const queue = catalog['send-email'].queue;
    const variables = (
      resource(template, jobQueueLogicalIds(queue).worker).Properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(variables.EMAIL_FROM).toBe('Acme Jobs <jobs@mail.acme.example>');
    const ses = workerStatements(template, queue).find((s) => actionsOf(s).includes('ses:SendEmail'));
    expect(ses?.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'jobs@mail.acme.example' } });
    expect(JSON.stringify(ses?.Resource)).toContain(':identity/mail.acme.example"');
  });

  it('skips bundling when aws:cdk:bundling-stacks is empty, so a template-only synth stays fast', () => {
    const { outdir } = synth({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(readdirSync(outdir).filter((name) => name.startsWith('asset.'))).toEqual([]);
  });

  it('hands every queue to the monitoring hook', () => {
    const seen: string[][] = [];
    synth({
      monitoring: (_stack, queues) => {
        seen.push(queues.map((q) => `${q.queueName}:${q.jobTypes.join('+')}`));
        return undefined;
      },
    });
    expect(seen).toEqual([
      queueNames.map(
        (name) =>
          `${name}:${jobsOn(name)
            .map((job) => job.type)
            .join('+')}`,
      ),
    ]);
  });
});

describe('configurations that must not deploy', () => {
  it('refuses a job that retries more often than its queue redelivers, naming both', () => {
    expect(() => synth({ queueSettings: { default: { maxReceiveCount: 3 } } })).toThrow(
      /queue "default" is misconfigured:[\s\S]*job "send-email" retries up to 5 attempts but the queue redrives to its DLQ after 3 receives/,
    );
  });

  it('refuses a visibility timeout below 6 x the worker timeout plus the batching window', () => {
    expect(() =>
      synth({
        queueSettings: { webhooks: { timeoutSeconds: 30, maxBatchingWindowSeconds: 5, batchSize: 50, visibilityTimeoutSeconds: 120 } },
      }),
    ).toThrow(/visibilityTimeoutSeconds 120 is below 6 x timeoutSeconds \(30\) \+ maxBatchingWindowSeconds \(5\) = 185/);
  });

  it('refuses settings for a queue no job uses', () => {
    expect(() => synth({ queueSettings: { defualt: { maxConcurrency: 5 } } })).toThrow(
      /settings given for queue\(s\) "defualt" that no job uses/,
    );
  });

  it('refuses a Datadog secret given by name or partial ARN', () => {
    expect(() => synth({ context: { datadogApiKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dd' } })).toThrow(
      ConfigurationError,
    );
    expect(() => synth({ context: { datadogApiKeySecretArn: 'datadog-api-key' } })).toThrow(/not a complete Secrets Manager secret ARN/);
  });

  it('refuses an unknown Datadog site', () => {
    expect(() => synth({ context: { datadogApiKeySecretArn: DATADOG_SECRET_ARN, datadogSite: 'datadog.example' } })).toThrow(
      /not a Datadog site/,
    );
  });

  it('refuses a stage that cannot be part of a resource name', () => {
    expect(() => synth({ context: { stage: 'Prod_1' } })).toThrow(/stage "Prod_1" must be lower-case/);
  });

  it('refuses a sender that is not an email address', () => {
    expect(() => synth({ context: { emailFrom: 'jobs' } })).toThrow(/emailFrom "jobs" is not an email address/);
  });

  it('refuses a boolean option spelled some other way', () => {
    expect(() => synth({ context: { datadogApiKeySecretArn: DATADOG_SECRET_ARN, datadogNodeLibrary: 'yes' } })).toThrow(
      /context "datadogNodeLibrary" must be true or false/,
    );
  });
});
