import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLocalSqsServer, type LocalSqsServer } from '../../functions/local/sqs-server.ts';

type SqsActionsModule = typeof import('../../functions/runtime/sqs-actions.ts');

describe('SQS actions of the worker, against a real local SQS (fauxqs)', () => {
  let server: LocalSqsServer;
  let sqs: SQSClient;
  let actions: SqsActionsModule;

  beforeAll(async () => {
    server = await startLocalSqsServer({ port: 0 });
    sqs = server.createClient();
    await sqs.send(new CreateQueueCommand({ QueueName: 'actions-dlq' }));
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', server.endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.resetModules();
    actions = await import('../../functions/runtime/sqs-actions.ts');
  });
  afterAll(async () => {
    sqs?.destroy();
    await server?.close();
    vi.unstubAllEnvs();
  });

  it('sends more dead letters than one batch call takes, in several calls, and loses none', async () => {
    const entries = Array.from({ length: 25 }, (_, i) => ({
      id: `m-${i}`,
      // Three of these fill most of a 1 MiB batch on their own.
      body: i % 8 === 0 ? 'x'.repeat(300_000) : `{"n": ${i}}`,
      attributes: { reason: 'invalid_json' },
    }));
    expect(await actions.sendToDeadLetterQueue(server.queueUrl('actions-dlq'), entries)).toEqual(new Set());
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: server.queueUrl('actions-dlq'), AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(attributes.Attributes?.ApproximateNumberOfMessages).toBe('25');
  });

  it('reports every entry as not sent when the dead-letter queue does not exist', async () => {
    const entries = [
      { id: 'a', body: '{}', attributes: {} },
      { id: 'b', body: '{}', attributes: {} },
    ];
    expect(await actions.sendToDeadLetterQueue(server.queueUrl('no-such-dlq'), entries)).toEqual(new Set(['a', 'b']));
  });

  it('reports a visibility change with a stale receipt handle as failed, without throwing', async () => {
    const failed = await actions.changeVisibility(server.queueUrl('actions-dlq'), [
      { id: 'x', receiptHandle: 'stale', visibilityTimeoutSeconds: 10 },
    ]);
    expect(failed).toEqual(new Set(['x']));
  });

  it('derives a queue URL from its ARN on the configured endpoint', () => {
    expect(actions.queueUrlFromArn('arn:aws:sqs:eu-west-1:123456789012:jobs', undefined)).toBe(
      'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs',
    );
    expect(actions.queueUrlFromArn('arn:aws:sqs:us-east-1:000000000000:jobs', 'http://127.0.0.1:9324/')).toBe(
      'http://127.0.0.1:9324/000000000000/jobs',
    );
    expect(actions.queueUrlFromArn('not-an-arn', undefined)).toBeUndefined();
  });
});
