/**
 * The demo `npm start` enqueues so a newcomer sees every path within seconds: emails written to the outbox,
 * a webhook delivered to a local echo server, a webhook that fails once (503, `Retry-After: 1`) and succeeds
 * on its retry, and a message that is not JSON, which goes straight to the dead-letter queue.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createJobsClient } from '../client/index.ts';

/** A local HTTP server that answers webhooks: `/ok/*` 200, `/flaky/*` 503 the first time then 200, `/bad/*` 400. */
export interface EchoServer {
  readonly url: string;
  /** Requests received per path. */
  readonly hits: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

/** Starts the echo server on 127.0.0.1 (any free port). `onRequest` sees each request and its answer. */
export async function startEchoServer(
  options: { retryAfterSeconds?: number; onRequest?: (path: string, status: number) => void } = {},
): Promise<EchoServer> {
  const hits = new Map<string, number>();
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      const count = (hits.get(path) ?? 0) + 1;
      hits.set(path, count);
      let status = 200;
      if (path.startsWith('/bad/')) status = 400;
      else if (path.startsWith('/flaky/') && count === 1) status = 503;
      options.onRequest?.(path, status);
      response.writeHead(status, { 'content-type': 'text/plain', ...(status === 503 ? { 'retry-after': retryAfter } : {}) });
      response.end(status === 200 ? 'ok' : 'try again later');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Enqueues the demo jobs through the producer client (and the one bad message through the raw SDK); says what it enqueued. */
export async function enqueueDemo(options: {
  readonly sqs: SQSClient;
  readonly queueUrls: Readonly<Record<string, string>>;
  readonly echoUrl: string;
}): Promise<string[]> {
  const client = createJobsClient({ sqs: options.sqs, queueUrls: options.queueUrls });
  const lines: string[] = [];
  for (const [to, subject] of [
    ['ada@example.com', 'Welcome to serverless-jobs'],
    ['grace@example.com', 'Your weekly report'],
  ] as const) {
    await client.enqueue('send-email', { to, subject, text: `Hello from the local demo (${subject}).` });
    lines.push(`enqueued send-email to ${to} (expect: written to the outbox)`);
  }
  await client.enqueue('deliver-webhook', { url: `${options.echoUrl}/ok/order-created`, body: { order: 42 } });
  lines.push('enqueued deliver-webhook to the local echo server (expect: delivered)');
  await client.enqueue('deliver-webhook', { url: `${options.echoUrl}/flaky/payment-settled`, body: { payment: 7 } });
  lines.push('enqueued deliver-webhook that gets a 503 first (expect: retried, then delivered)');
  const defaultUrl = options.queueUrls.default;
  if (defaultUrl !== undefined) {
    await options.sqs.send(new SendMessageCommand({ QueueUrl: defaultUrl, MessageBody: '{"type": "send-email", "payload": ' }));
    lines.push('enqueued a message that is not JSON (expect: dead-lettered, reason invalid_json)');
  }
  return lines;
}
