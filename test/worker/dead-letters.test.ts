import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateQueueCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSqsServer, type LocalSqsServer } from '../../functions/local/sqs-server.ts';
import { DEAD_LETTER_ATTRIBUTE } from '../../functions/runtime/dead-letter-attributes.ts';
import { job, lambdaContext, sqsEvent, sqsRecord } from '../support/lambda.ts';
import { loadWorker, workerEnv } from '../support/worker-module.ts';

describe('bad inputs mixed with good records, against a real local SQS (fauxqs)', () => {
  let sqsServer: LocalSqsServer;
  let webhook: Server;
  let sqs: SQSClient;
  let response: SQSBatchResponse;
  let dlqMessages: { body: string; attributes: Record<string, string> }[] = [];
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    sqsServer = await startLocalSqsServer({ port: 0 });
    sqs = sqsServer.createClient();
    await sqs.send(new CreateQueueCommand({ QueueName: 'jobs-default' }));
    await sqs.send(new CreateQueueCommand({ QueueName: 'jobs-default-dlq' }));
    webhook = createServer((req, res) => {
      res.statusCode = req.url === '/fail' ? 500 : req.url === '/gone' ? 404 : 200;
      res.end();
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}`;

    const worker = await loadWorker(
      workerEnv({
        AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
        DEAD_LETTER_QUEUE_URL: sqsServer.queueUrl('jobs-default-dlq'),
        JOB_QUEUE_URL: sqsServer.queueUrl('jobs-default'),
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1',
      }),
    );
    const records = {
      goodEmail: sqsRecord(job('send-email', { to: 'a@example.com', subject: 'hi', text: 'hello' })),
      goodWebhook: sqsRecord(job('deliver-webhook', { url: `${base}/ok` })),
      retryable: sqsRecord(job('deliver-webhook', { url: `${base}/fail` })),
      invalidJson: sqsRecord('{"type": "send-email", "payload": {'),
      unknownType: sqsRecord(job('send-sms', { to: '+15550100' })),
      invalidPayload: sqsRecord(job('send-email', { to: 'not-an-address', subject: 'hi', text: 'x' })),
      permanent: sqsRecord(job('deliver-webhook', { url: `${base}/gone` })),
    };
    for (const [name, record] of Object.entries(records)) ids[name] = record.messageId;
    response = await worker.handler(sqsEvent(Object.values(records)), lambdaContext());
    await worker.metrics.close();

    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: sqsServer.queueUrl('jobs-default-dlq'),
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    dlqMessages = (received.Messages ?? []).map((message) => ({
      body: message.Body ?? '',
      attributes: Object.fromEntries(Object.entries(message.MessageAttributes ?? {}).map(([key, value]) => [key, value.StringValue ?? ''])),
    }));
  });

  afterAll(async () => {
    sqs?.destroy();
    await new Promise((resolve) => webhook?.close(resolve));
    await sqsServer?.close();
  });

  it('lists only the retryable failure in the batch response', () => {
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: ids.retryable }]);
  });

  it('puts every bad message on the dead-letter queue with its reason', () => {
    expect(dlqMessages.map((m) => m.attributes[DEAD_LETTER_ATTRIBUTE.reason]).toSorted()).toEqual([
      'invalid_json',
      'invalid_payload',
      'permanent_error',
      'unknown_type',
    ]);
  });

  it('keeps the dead message body unchanged', () => {
    expect(dlqMessages.map((m) => m.body)).toContain('{"type": "send-email", "payload": {');
  });

  it('attaches the error message, job type and receive count', () => {
    const permanent = dlqMessages.find((m) => m.attributes.reason === 'permanent_error');
    expect(permanent?.attributes).toMatchObject({
      [DEAD_LETTER_ATTRIBUTE.jobType]: 'deliver-webhook',
      [DEAD_LETTER_ATTRIBUTE.receiveCount]: '1',
    });
    expect(permanent?.attributes[DEAD_LETTER_ATTRIBUTE.error]).toMatch(/404/);
  });
});
