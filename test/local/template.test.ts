/**
 * Reading the synthesized template: queues, mappings, functions and tables, intrinsic functions resolved against
 * local resources, and clear errors for templates the local environment cannot run.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSqsServer, type LocalSqsServer } from '../../functions/local/sqs-server.ts';
import { createLocalQueues } from '../../functions/local/local-queues.ts';
import { readTemplate, type LocalQueue } from '../../functions/local/template.ts';
import { resolveEnvironment, TemplateError } from '../../functions/local/template-values.ts';
import { fixtureTemplate } from './fixtures/stack-template.ts';

describe('reading a template', () => {
  const model = readTemplate(fixtureTemplate());

  it('reads each queue with its attributes and redrive policy', () => {
    const jobs = model.queues.find((queue) => queue.logicalId === 'JobsQueue');
    expect(jobs).toMatchObject({
      queueName: 'fx-jobs',
      fifo: false,
      attributes: { VisibilityTimeout: '2', MessageRetentionPeriod: '3600', DelaySeconds: '0' },
      redrive: { deadLetterLogicalId: 'JobsDlq', maxReceiveCount: 3 },
    });
  });

  it('names a FIFO queue without QueueName after its logical id, with the .fifo suffix', () => {
    expect(model.queues.find((queue) => queue.logicalId === 'OrdersQueue')).toMatchObject({
      queueName: 'OrdersQueue.fifo',
      fifo: true,
      attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true', DelaySeconds: '3' },
    });
  });

  it('reads the event source mapping, with Lambda defaults where the template is silent', () => {
    expect(model.mappings.find((mapping) => mapping.logicalId === 'WorkerEventSource')).toEqual({
      logicalId: 'WorkerEventSource',
      queueLogicalId: 'JobsQueue',
      functionLogicalId: 'Worker',
      batchSize: 4,
      maximumBatchingWindowSeconds: 1,
      reportBatchItemFailures: true,
      maximumConcurrency: 2,
      enabled: true,
      hasFilterCriteria: false,
    });
    expect(model.mappings.find((mapping) => mapping.logicalId === 'OrdersEventSource')).toMatchObject({
      batchSize: 10,
      maximumBatchingWindowSeconds: 0,
      reportBatchItemFailures: false,
      maximumConcurrency: undefined,
      enabled: false,
    });
  });

  it('reads the function, and the real handler behind the Datadog wrapper', () => {
    expect(model.functions.find((fn) => fn.logicalId === 'Worker')).toMatchObject({
      functionName: 'fx-worker',
      handler: 'index.handler',
      exportName: 'handler',
      timeoutSeconds: 2,
      memorySize: 256,
    });
    expect(model.functions.find((fn) => fn.logicalId === 'WrappedWorker')).toMatchObject({
      functionName: 'WrappedWorker',
      handler: 'index.process',
      exportName: 'process',
      timeoutSeconds: 3,
      memorySize: 128,
    });
  });

  it('reads the tables', () => {
    expect(model.tables).toEqual([
      {
        logicalId: 'Table',
        tableName: 'fx-table',
        keySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        attributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      },
    ]);
  });

  it("resolves a function's environment against local resources and lists what it cannot resolve", () => {
    const queues = new Map<string, LocalQueue>([
      [
        'JobsQueue',
        {
          logicalId: 'JobsQueue',
          name: 'fx-jobs',
          url: 'http://127.0.0.1:1/000000000000/fx-jobs',
          arn: 'arn:aws:sqs:us-east-1:000000000000:fx-jobs',
        },
      ],
      [
        'JobsDlq',
        {
          logicalId: 'JobsDlq',
          name: 'fx-jobs-dlq',
          url: 'http://127.0.0.1:1/000000000000/fx-jobs-dlq',
          arn: 'arn:aws:sqs:us-east-1:000000000000:fx-jobs-dlq',
        },
      ],
    ]);
    const fn = model.functions.find((candidate) => candidate.logicalId === 'Worker');
    if (fn === undefined) throw new Error('no Worker');
    const { variables, unresolved } = resolveEnvironment(fn, {
      region: 'us-east-1',
      accountId: '000000000000',
      stackName: 'Fx',
      queues,
      refs: new Map([['Table', 'fx-table']]),
    });
    expect(variables).toEqual({
      JOB_QUEUE: 'jobs',
      JOB_QUEUE_URL: 'http://127.0.0.1:1/000000000000/fx-jobs',
      DEAD_LETTER_QUEUE_URL: 'http://127.0.0.1:1/000000000000/fx-jobs-dlq',
      QUEUE_ARN: 'arn:aws:sqs:us-east-1:000000000000:fx-jobs',
      TABLE: 'fx-table',
      WHERE: 'arn:aws:sqs:us-east-1:000000000000',
    });
    expect(unresolved).toEqual(['API_KEY_SECRET: Ref SomeSecretNotInTheTemplate has no local value']);
  });
});

describe('templates the local environment refuses', () => {
  it('refuses something that is not a template', () => {
    expect(() => readTemplate({ hello: 'world' })).toThrow(new TemplateError('not a CloudFormation template: no Resources'));
  });

  it('refuses a redrive policy pointing at a queue that is not in the template', () => {
    const template = fixtureTemplate() as { Resources: Record<string, unknown> };
    delete template.Resources.JobsDlq;
    expect(() => readTemplate(template)).toThrow(/redrives to JobsDlq, which is not a queue of this template/);
  });

  it('refuses a mapping whose function is not in the template', () => {
    const template = fixtureTemplate() as { Resources: Record<string, unknown> };
    delete template.Resources.Worker;
    expect(() => readTemplate(template)).toThrow(/targets Worker, which is not a function of this template/);
  });

  it('refuses a setting that is not a literal', () => {
    const template = fixtureTemplate() as { Resources: { JobsQueue: { Properties: Record<string, unknown> } } };
    template.Resources.JobsQueue.Properties.VisibilityTimeout = { Ref: 'SomeParameter' };
    expect(() => readTemplate(template)).toThrow(/queue JobsQueue VisibilityTimeout must be a literal/);
  });

  it('refuses a table whose KeySchema has a key type DynamoDB does not know, naming the table and the property', () => {
    const template = fixtureTemplate() as { Resources: { Table: { Properties: Record<string, unknown> } } };
    template.Resources.Table.Properties.KeySchema = [{ AttributeName: 'id', KeyType: 'PRIMARY' }];
    expect(() => readTemplate(template)).toThrow(new TemplateError('table Table KeySchema.0.KeyType: must be one of "HASH", "RANGE"'));
  });

  it('refuses a table whose AttributeDefinitions is not a list, naming the table and the property', () => {
    const template = fixtureTemplate() as { Resources: { Table: { Properties: Record<string, unknown> } } };
    template.Resources.Table.Properties.AttributeDefinitions = { AttributeName: 'id', AttributeType: 'S' };
    expect(() => readTemplate(template)).toThrow(new TemplateError('table Table AttributeDefinitions: expected array'));
  });

  it('refuses a table whose key attribute has no attribute definition', () => {
    const template = fixtureTemplate() as { Resources: { Table: { Properties: Record<string, unknown> } } };
    template.Resources.Table.Properties.AttributeDefinitions = [{ AttributeName: 'other', AttributeType: 'S' }];
    expect(() => readTemplate(template)).toThrow(
      new TemplateError('table Table KeySchema names id, which AttributeDefinitions does not define'),
    );
  });

  it('refuses a handler that is not <file>.<export>', () => {
    const template = fixtureTemplate() as { Resources: { Worker: { Properties: Record<string, unknown> } } };
    template.Resources.Worker.Properties.Handler = 'handler';
    expect(() => readTemplate(template)).toThrow(/Handler "handler" is not <file>.<export>/);
  });
});

describe('creating the queues on the local server', () => {
  let server: LocalSqsServer;
  let sqs: SQSClient;
  beforeAll(async () => {
    server = await startLocalSqsServer({ port: 0 });
    sqs = server.createClient();
  });
  afterAll(async () => {
    sqs.destroy();
    await server.close();
  });

  it('creates every queue with the attributes of the template, the redrive policy pointing at the local DLQ', async () => {
    const created = await createLocalQueues(readTemplate(fixtureTemplate()), sqs, server, {
      region: 'us-east-1',
      accountId: '000000000000',
      stackName: 'Fx',
    });
    expect([...created.keys()].toSorted()).toEqual(['JobsDlq', 'JobsQueue', 'OrdersQueue']);
    expect(created.get('JobsQueue')?.url).toBe(`${server.endpoint}/000000000000/fx-jobs`);
    const jobs = await server.inspect('fx-jobs');
    expect(jobs?.attributes).toMatchObject({ VisibilityTimeout: '2', MessageRetentionPeriod: '3600', DelaySeconds: '0' });
    expect(JSON.parse(jobs?.attributes.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:fx-jobs-dlq',
      maxReceiveCount: 3,
    });
    expect((await server.inspect('fx-jobs-dlq'))?.attributes.MessageRetentionPeriod).toBe('1209600');
    expect((await server.inspect('OrdersQueue.fifo'))?.attributes).toMatchObject({
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
      DelaySeconds: '3',
    });
  });
});
