/**
 * The embedded SQS endpoint (fauxqs' Fastify app on 127.0.0.1, ephemeral port) with the real AWS SDK, using
 * the queue URLs it hands out (`http://127.0.0.1:<port>/000000000000/<name>`).
 */
import { createServer } from 'node:net';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortInUseError } from '../../functions/local/local-server.ts';
import { startLocalSqsServer, type LocalSqsServer } from '../../functions/local/sqs-server.ts';

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

async function receiveOne(queueUrl: string, waitTimeSeconds = 2) {
  const output = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      WaitTimeSeconds: waitTimeSeconds,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  return output.Messages?.[0];
}

describe('local SQS endpoint', () => {
  it('hands out 127.0.0.1 queue URLs from CreateQueue, GetQueueUrl and ListQueues', async () => {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: 'urls' }));
    const expected = `http://127.0.0.1:${server.port}/000000000000/urls`;
    expect(created.QueueUrl).toBe(expected);
    expect(server.queueUrl('urls')).toBe(expected);
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: 'urls' }))).QueueUrl).toBe(expected);
    expect((await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'urls' }))).QueueUrls).toEqual([expected]);
  });

  it('sends, receives and deletes with the real SDK', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'basic' }));
    const queueUrl = QueueUrl ?? '';
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: '{"type":"x"}',
        MessageAttributes: { trace: { DataType: 'String', StringValue: 'abc' } },
      }),
    );
    const message = await receiveOne(queueUrl);
    expect(message?.Body).toBe('{"type":"x"}');
    expect(message?.Attributes?.ApproximateReceiveCount).toBe('1');
    expect(message?.MessageAttributes?.trace?.StringValue).toBe('abc');
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message?.ReceiptHandle }));
    expect((await server.counts()).get('basic')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('makes a message visible again after ChangeMessageVisibility to 0, counting the new receive', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'visibility', Attributes: { VisibilityTimeout: '300' } }));
    const queueUrl = QueueUrl ?? '';
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'again' }));
    const first = await receiveOne(queueUrl);
    expect((await server.counts()).get('visibility')).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: first?.ReceiptHandle, VisibilityTimeout: 0 }));
    const second = await receiveOne(queueUrl);
    expect(second?.MessageId).toBe(first?.MessageId);
    expect(second?.Attributes?.ApproximateReceiveCount).toBe('2');
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives', async () => {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'redrive-dlq' }));
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'redrive',
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: server.queueArn('redrive-dlq'), maxReceiveCount: 2 }) },
      }),
    );
    const queueUrl = QueueUrl ?? '';
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'poison' }));
    for (let receive = 1; receive <= 2; receive += 1) {
      const message = await receiveOne(queueUrl);
      expect(message?.Attributes?.ApproximateReceiveCount).toBe(String(receive));
      await sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message?.ReceiptHandle, VisibilityTimeout: 0 }),
      );
    }
    expect(await receiveOne(queueUrl, 1)).toBeUndefined();
    const dead = await receiveOne(dlq.QueueUrl ?? '');
    expect(dead?.Body).toBe('poison');
  });

  it('keeps the attributes a queue was created with', async () => {
    const attributes = { DelaySeconds: '2', VisibilityTimeout: '45', MessageRetentionPeriod: '7200', ReceiveMessageWaitTimeSeconds: '5' };
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'attributes', Attributes: attributes }));
    const read = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    expect(read.Attributes).toMatchObject(attributes);
    expect((await server.inspect('attributes'))?.attributes).toMatchObject(attributes);
    expect(await server.inspect('no-such-queue')).toBeUndefined();
  });

  it('says which port is taken and which variable moves it, without a stack trace in the message', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const error = await startLocalSqsServer({ port }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PortInUseError);
      expect((error as Error).message).toBe(
        `The local SQS endpoint cannot listen on TCP 127.0.0.1:${port}: the port is already in use ` +
          '(another local environment, an ElasticMQ or a Datadog agent?). Stop it, or pick another port with LOCAL_SQS_PORT=<port>.',
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
