/**
 * End to end on the embedded parts: the stack synthesized in-process, its queues on the local SQS server, the
 * real worker (functions/handlers/worker.ts) in emulated Lambda sandboxes, the DogStatsD listener standing in
 * for the Datadog extension, dynalite for the idempotency table, and a local HTTP server receiving webhooks.
 *
 * 1,000 messages: 400 emails and 200 webhooks that succeed, 200 webhooks that get a 503 (`Retry-After: 0`)
 * once and then succeed, 100 webhooks that get a 400 (permanent), all enqueued through the producer client;
 * and 100 bodies that are not JSON, sent with the raw SDK (the producer client cannot send invalid JSON).
 */
import { readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient, type JobRequest } from '../../functions/client/index.ts';
import { startEchoServer, type EchoServer } from '../../functions/local/demo.ts';
import { startLocalEnvironment, type LocalEnvironment } from '../../functions/local/environment.ts';
import { METRIC, TAG } from '../../functions/runtime/metric-names.ts';

const GOOD_EMAILS = 400;
const GOOD_WEBHOOKS = 200;
const FLAKY_WEBHOOKS = 200;
const BAD_WEBHOOKS = 100;
const INVALID_JSON = 100;
const SENT = GOOD_EMAILS + GOOD_WEBHOOKS + FLAKY_WEBHOOKS + BAD_WEBHOOKS + INVALID_JSON;

let env: LocalEnvironment;
let echo: EchoServer;
let dir: string;
const invocationErrors: string[] = [];
const deadLetters = new Map<string, Message[]>();
let enqueued = 0;
let enqueueFailures = 0;

/** Dead-lettered messages of a queue, counted by their `reason` attribute. */
function reasons(queue: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const message of deadLetters.get(queue) ?? []) {
    const reason = message.MessageAttributes?.reason?.StringValue ?? 'missing';
    counts[reason] = (counts[reason] ?? 0) + 1;
  }
  return counts;
}

async function drain(queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const output = await env.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const batch = output.Messages ?? [];
    if (batch.length === 0) return messages;
    messages.push(...batch);
    await env.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'end-to-end-'));
  echo = await startEchoServer({ retryAfterSeconds: 0 });
  env = await startLocalEnvironment({
    sqsPort: 0,
    dogstatsdPort: 0,
    localDir: dir,
    applyToProcessEnv: false,
    waitTimeSeconds: 2,
    onLog: () => undefined,
    onInvocation: (report) => {
      if (report.status !== 'success' && report.status !== 'partial') invocationErrors.push(`${report.status}: ${report.error}`);
    },
  });
  const queueUrls = Object.fromEntries([...env.queues.values()].map((queue) => [queue.queue, queue.url]));
  const client = createJobsClient({ sqs: env.client, queueUrls });

  const jobs: JobRequest[] = [
    ...Array.from(
      { length: GOOD_EMAILS },
      (_, i): JobRequest => ({ type: 'send-email', payload: { to: `user${i}@example.com`, subject: `Hello ${i}`, text: 'hi' } }),
    ),
    ...Array.from(
      { length: GOOD_WEBHOOKS },
      (_, i): JobRequest => ({ type: 'deliver-webhook', payload: { url: `${echo.url}/ok/${i}`, body: { i } } }),
    ),
    ...Array.from(
      { length: FLAKY_WEBHOOKS },
      (_, i): JobRequest => ({ type: 'deliver-webhook', payload: { url: `${echo.url}/flaky/${i}`, body: { i } } }),
    ),
    ...Array.from(
      { length: BAD_WEBHOOKS },
      (_, i): JobRequest => ({ type: 'deliver-webhook', payload: { url: `${echo.url}/bad/${i}`, body: { i } } }),
    ),
  ];
  const result = await client.enqueueMany(jobs.toSorted(() => Math.random() - 0.5));
  enqueueFailures = result.failed;
  enqueued = result.sent;

  const defaultUrl = env.queues.get('default')?.url ?? '';
  for (let i = 0; i < INVALID_JSON; i += 10) {
    const output = await env.client.send(
      new SendMessageBatchCommand({
        QueueUrl: defaultUrl,
        Entries: Array.from({ length: 10 }, (_, j) => ({ Id: String(j), MessageBody: `{"type": "send-email", "payload": ${i + j}` })),
      }),
    );
    enqueued += output.Successful?.length ?? 0;
  }

  // Every record reports jobs.processed once per delivery: each job once, plus once per retry.
  await env.listener.waitFor(METRIC.processed, SENT + FLAKY_WEBHOOKS, { timeoutMs: 150_000 });
  for (const queue of env.queues.values()) {
    if (queue.deadLetter) deadLetters.set(queue.queue, await drain(queue.deadLetter.url));
  }
}, 200_000);

afterAll(async () => {
  await env?.stop();
  await echo?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('1,000 mixed jobs on the local environment', () => {
  it('sends all 1,000', () => {
    expect({ enqueued, enqueueFailures }).toEqual({ enqueued: SENT, enqueueFailures: 0 });
  });

  it('leaves every source queue empty', async () => {
    const counts = await env.sqs.counts();
    const sources = [...env.queues.values()].map((queue) => [queue.name, counts.get(queue.name)]);
    expect(Object.fromEntries(sources)).toEqual(
      Object.fromEntries(sources.map(([name]) => [name, { visible: 0, inFlight: 0, delayed: 0 }])),
    );
  });

  it('accounts for every message: succeeded + dead-lettered = sent', () => {
    const outcomes = env.listener.countBy(METRIC.processed, TAG.outcome);
    const succeeded = outcomes.get('success') ?? 0;
    const dead = [...deadLetters.values()].reduce((sum, messages) => sum + messages.length, 0);
    expect(succeeded).toBe(GOOD_EMAILS + GOOD_WEBHOOKS + FLAKY_WEBHOOKS);
    expect(dead).toBe(BAD_WEBHOOKS + INVALID_JSON);
    expect(succeeded + dead).toBe(SENT);
  });

  it('processes no message successfully twice', () => {
    const outcomes = env.listener.countBy(METRIC.processed, TAG.outcome);
    expect(outcomes.get('duplicate') ?? 0).toBe(0);
    const emails = readdirSync(env.outboxDir).filter((file) => file.endsWith('.eml'));
    expect(emails).toHaveLength(GOOD_EMAILS);
    // Requests per webhook: one 200 for each good one, one 503 then one 200 for each flaky one, one 400 for each bad one.
    const expected = new Map<string, number>([
      ...Array.from({ length: GOOD_WEBHOOKS }, (_, i): [string, number] => [`/ok/${i}`, 1]),
      ...Array.from({ length: FLAKY_WEBHOOKS }, (_, i): [string, number] => [`/flaky/${i}`, 2]),
      ...Array.from({ length: BAD_WEBHOOKS }, (_, i): [string, number] => [`/bad/${i}`, 1]),
    ]);
    expect(new Map(echo.hits)).toEqual(expected);
  });

  it('dead-letters each bad message with its reason', () => {
    expect(reasons('default')).toEqual({ invalid_json: INVALID_JSON });
    expect(reasons('webhooks')).toEqual({ permanent_error: BAD_WEBHOOKS });
    const attributes = (deadLetters.get('webhooks') ?? []).map((message) => ({
      error: message.MessageAttributes?.error?.StringValue,
      jobType: message.MessageAttributes?.jobType?.StringValue,
    }));
    expect(attributes.every(({ error, jobType }) => /answered 400/.test(error ?? '') && jobType === 'deliver-webhook')).toBe(true);
  });

  it('receives jobs.processed for each delivery, with the outcome and reason', () => {
    const processed = (where: Record<string, string>): number => env.listener.query(METRIC.processed, where)?.count ?? 0;
    expect(processed({ outcome: 'success', job_type: 'send-email' })).toBe(GOOD_EMAILS);
    expect(processed({ outcome: 'success', job_type: 'deliver-webhook' })).toBe(GOOD_WEBHOOKS + FLAKY_WEBHOOKS);
    expect(processed({ outcome: 'retry', job_type: 'deliver-webhook' })).toBe(FLAKY_WEBHOOKS);
    expect(processed({ outcome: 'dead', reason: 'permanent_error' })).toBe(BAD_WEBHOOKS);
    expect(processed({ outcome: 'dead', reason: 'invalid_json' })).toBe(INVALID_JSON);
    expect(env.listener.query(METRIC.duration)?.count).toBe(SENT + FLAKY_WEBHOOKS);
  });

  it('sends only metrics the Datadog extension keeps', () => {
    expect(env.listener.totals()).toMatchObject({ dropped: 0, notDistribution: 0, truncatedDatagrams: 0 });
  });

  it('never fails, times out or crashes an invocation', () => {
    expect(invocationErrors).toEqual([]);
  });
});
