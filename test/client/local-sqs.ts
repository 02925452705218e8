/**
 * A real local SQS for tests: fauxqs started in-process on 127.0.0.1, port 0, and an AWS SDK client with
 * an explicit endpoint. Queue URLs are `http://127.0.0.1:<port>/000000000000/<name>` (fauxqs routes by path).
 */
import { CreateQueueCommand, ReceiveMessageCommand, type SQSClient, DeleteMessageBatchCommand, type Message } from '@aws-sdk/client-sqs';
import { queueDepth } from '../../functions/cli/commands/queues.ts';
import { startLocalSqsServer } from '../../functions/local/sqs-server.ts';

/** fauxqs's account id. */
export const ACCOUNT = '000000000000';
/** Region the tests use. */
export const REGION = 'us-east-1';

/** A running local SQS. */
export interface LocalSqs {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** An SDK client pointed at it (for the test's own checks). */
  readonly sqs: SQSClient;
  /** A fresh SDK client pointed at it (for the code under test, e.g. with middleware). */
  newClient(): SQSClient;
  /** The path-style URL of a queue. */
  queueUrl(name: string): string;
  /** Creates a queue; returns its path-style URL. */
  createQueue(name: string, attributes?: Record<string, string>): Promise<string>;
  /** Visible / in flight / delayed counts. */
  counts(queueUrl: string): Promise<{ visible: number; inFlight: number; delayed: number }>;
  /** Receives (and deletes) every visible message. */
  drain(queueUrl: string): Promise<Message[]>;
  close(): Promise<void>;
}

/** Starts fauxqs in-process on an ephemeral port (the local environment's own SQS server). */
export async function startLocalSqs(): Promise<LocalSqs> {
  const server = await startLocalSqsServer({ port: 0, region: REGION });
  const sqs = server.createClient();
  const { endpoint, queueUrl } = server;
  return {
    endpoint,
    sqs,
    newClient: () => server.createClient(),
    queueUrl,
    async createQueue(name, attributes) {
      await sqs.send(new CreateQueueCommand({ QueueName: name, ...(attributes ? { Attributes: attributes } : {}) }));
      return queueUrl(name);
    },
    counts: (url) => queueDepth({ sqs }, url),
    async drain(url) {
      const all: Message[] = [];
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
        );
        if (Messages.length === 0) return all;
        all.push(...Messages);
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
          }),
        );
      }
    },
    async close() {
      sqs.destroy();
      await server.close();
    },
  };
}

/** One SQS call as a recording middleware saw it. */
export interface RecordedCall {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

/** Adds a middleware that records every command the client sends. */
export function recordCalls(client: SQSClient): RecordedCall[] {
  const calls: RecordedCall[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push({ command: String(context.commandName), input: structuredClone(args.input as Record<string, unknown>) });
      return next(args);
    },
    { step: 'initialize', name: 'recordCalls' },
  );
  return calls;
}
