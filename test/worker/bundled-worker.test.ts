/**
 * The worker exactly as the stack deploys it (the esbuild bundle with code splitting), run through every path:
 * each path loads a different first-use chunk (SQS for dead letters and visibility, DynamoDB for idempotency,
 * node:http for webhooks), and a chunk that bundles wrongly fails only there.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bundleWorker } from '../../infra/bundling.ts';
import { startLocalSqsServer, type LocalSqsServer } from '../../functions/local/sqs-server.ts';
import { DEAD_LETTER_ATTRIBUTE } from '../../functions/runtime/dead-letter-attributes.ts';
import { startDynalite, type LocalDynamo } from '../support/dynalite.ts';
import { job, lambdaContext, sqsEvent, sqsRecord } from '../support/lambda.ts';
import { startUdpCollector, type UdpCollector } from '../support/udp-collector.ts';

type BundledHandler = (event: ReturnType<typeof sqsEvent>, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;

describe('the bundled worker (as deployed), against local SQS, DynamoDB, HTTP and DogStatsD', () => {
  let sqsServer: LocalSqsServer;
  let dynamo: LocalDynamo;
  let collector: UdpCollector;
  let webhook: Server;
  let webhookHits = 0;
  let sqs: SQSClient;
  let handler: BundledHandler;
  let base: string;
  const outbox = mkdtempSync(join(tmpdir(), 'bundled-outbox-'));

  beforeAll(async () => {
    const bundle = bundleWorker(mkdtempSync(join(tmpdir(), 'bundled-worker-')));
    [sqsServer, dynamo, collector] = await Promise.all([startLocalSqsServer({ port: 0 }), startDynalite(), startUdpCollector()]);
    await dynamo.createTable('idempotency');
    sqs = sqsServer.createClient();
    await sqs.send(new CreateQueueCommand({ QueueName: 'bundled-default' }));
    await sqs.send(new CreateQueueCommand({ QueueName: 'bundled-default-dlq' }));
    webhook = createServer((req, res) => {
      webhookHits += 1;
      res.statusCode = req.url === '/fail' ? 503 : 200;
      if (req.url === '/fail') res.setHeader('retry-after', '120');
      res.end();
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}`;
    const env: Record<string, string> = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_SQS: sqsServer.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      DEAD_LETTER_QUEUE_URL: sqsServer.queueUrl('bundled-default-dlq'),
      JOB_QUEUE_URL: sqsServer.queueUrl('bundled-default'),
      JOB_QUEUE: 'default',
      IDEMPOTENCY_TABLE: 'idempotency',
      EMAIL_OUTBOX_DIR: outbox,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1',
      DD_AGENT_HOST: '127.0.0.1',
      DD_DOGSTATSD_PORT: String(collector.port),
    };
    for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
    ({ handler } = (await import(pathToFileURL(bundle.entryFile).href)) as { handler: BundledHandler });
  }, 120_000);

  afterAll(async () => {
    sqs?.destroy();
    await new Promise((resolve) => webhook?.close(resolve));
    await Promise.all([sqsServer?.close(), dynamo?.close(), collector?.close()]);
    vi.unstubAllEnvs();
  });

  it('sends an email to the outbox once, and acknowledges a redelivery of the same job as a duplicate', async () => {
    const body = job('send-email', { to: 'a@example.com', subject: 'hi', text: 'hello' }, { jobId: 'bundled-1' });
    expect((await handler(sqsEvent([sqsRecord(body)]), lambdaContext())).batchItemFailures).toEqual([]);
    expect((await handler(sqsEvent([sqsRecord(body)]), lambdaContext())).batchItemFailures).toEqual([]);
    expect(readdirSync(outbox).filter((name) => name.endsWith('.eml'))).toHaveLength(1);
    const duplicate = await collector.waitFor(() => collector.datagrams.some((d) => d.toString().includes('outcome:duplicate')));
    expect(duplicate).toBe(true);
  });

  it('delivers a webhook', async () => {
    const before = webhookHits;
    expect(
      (await handler(sqsEvent([sqsRecord(job('deliver-webhook', { url: `${base}/ok`, body: { a: 1 } }))]), lambdaContext()))
        .batchItemFailures,
    ).toEqual([]);
    expect(webhookHits).toBe(before + 1);
  });

  it("returns a retryable failure after setting its visibility on the real queue to the peer's Retry-After", async () => {
    const queueUrl = sqsServer.queueUrl('bundled-default');
    await sqs.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(job('deliver-webhook', { url: `${base}/fail` })) }),
    );
    const [message] =
      (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 1, WaitTimeSeconds: 1 }))).Messages ?? [];
    const record = {
      ...sqsRecord(message?.Body ?? '', { queueArn: sqsServer.queueArn('bundled-default') }),
      messageId: message?.MessageId ?? '',
      receiptHandle: message?.ReceiptHandle ?? '',
    };
    expect((await handler(sqsEvent([record]), lambdaContext())).batchItemFailures).toEqual([{ itemIdentifier: record.messageId }]);
    // The receive above leased it for 1 s; the worker extended that to 120 s.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    expect(again.Messages ?? []).toEqual([]);
  });

  it('sends a bad message to the real dead-letter queue with its reason', async () => {
    expect((await handler(sqsEvent([sqsRecord('{not json')]), lambdaContext())).batchItemFailures).toEqual([]);
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: sqsServer.queueUrl('bundled-default-dlq'),
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    expect(received.Messages?.[0]?.Body).toBe('{not json');
    expect(received.Messages?.[0]?.MessageAttributes?.[DEAD_LETTER_ATTRIBUTE.reason]?.StringValue).toBe('invalid_json');
  });
});
