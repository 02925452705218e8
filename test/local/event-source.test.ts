/**
 * The emulated Lambda SQS event source on the local environment (real local SQS, real sandboxes in worker
 * threads), driving a recording handler (test/local/fixtures/recording-handler.ts) with the fixture template:
 * visibility timeout 2 s, maxReceiveCount 3, function timeout 2 s, BatchSize 4, batching window 1 s,
 * MaximumConcurrency 2.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalEnvironment, type LocalEnvironment, type LocalJobQueue } from '../../functions/local/environment.ts';
import type { InvocationReport } from '../../functions/local/event-source.ts';
import { fixtureTemplate } from './fixtures/stack-template.ts';

const HANDLER = fileURLToPath(new URL('./fixtures/recording-handler.ts', import.meta.url));

interface HandlerReport {
  readonly instance: string;
  readonly env: Record<string, string | undefined>;
  readonly records: SQSRecord[];
  readonly context: Pick<Context, 'functionName' | 'awsRequestId' | 'memoryLimitInMB' | 'invokedFunctionArn'> & {
    remainingAtStart: number;
  };
  readonly startedAt: number;
  readonly endedAt?: number;
}

let env: LocalEnvironment;
let jobs: LocalJobQueue;
let dir: string;
const reports: InvocationReport[] = [];
const notices: string[] = [];
const waiters = new Set<() => void>();

function onInvocation(report: InvocationReport): void {
  reports.push(report);
  for (const waiter of waiters) waiter();
}

/** Resolves with the first invocation (from index `from` of this test's reports; default: from now on) that `matches`. */
function nextInvocation(
  matches: (report: InvocationReport) => boolean,
  from = reports.length,
  timeoutMs = 20_000,
): Promise<InvocationReport> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const found = reports.slice(from).find(matches);
      if (found === undefined) return;
      waiters.delete(check);
      clearTimeout(timer);
      resolve(found);
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`no matching invocation within ${timeoutMs} ms (saw ${reports.length - from})`));
    }, timeoutMs);
    waiters.add(check);
  });
}

/** Resolves when `count` invocations included message `id` (checked every 50 ms, for 20 s at most). */
async function deliveries(id: string, count: number): Promise<void> {
  const until = Date.now() + 20_000;
  while (reports.filter((report) => report.messageIds.includes(id)).length < count) {
    if (Date.now() > until) throw new Error(`message ${id} was not delivered ${count} times within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves when the invocations since the test began carried `count` records in total. */
async function recordsDelivered(count: number): Promise<void> {
  const until = Date.now() + 20_000;
  while (reports.reduce((sum, report) => sum + report.messageIds.length, 0) < count) {
    if (Date.now() > until) throw new Error(`fewer than ${count} records delivered within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function handlerReport(requestId: string): HandlerReport {
  return JSON.parse(readFileSync(join(dir, `${requestId}.json`), 'utf8')) as HandlerReport;
}

function bodyOf(command: Record<string, unknown>, tag: string): string {
  return JSON.stringify({ ...command, tag });
}

async function send(body: string): Promise<string> {
  const output = await env.client.send(new SendMessageCommand({ QueueUrl: jobs.url, MessageBody: body }));
  return output.MessageId ?? '';
}

async function deadLetters(): Promise<{ id: string; receiveCount: string | undefined }[]> {
  const output = await env.client.send(
    new ReceiveMessageCommand({
      QueueUrl: jobs.deadLetter?.url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ['All'],
      VisibilityTimeout: 0,
    }),
  );
  return (output.Messages ?? []).map((message) => ({
    id: message.MessageId ?? '',
    receiveCount: message.Attributes?.ApproximateReceiveCount,
  }));
}

async function waitForDeadLetter(id: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if ((await deadLetters()).some((message) => message.id === id)) return;
  }
  throw new Error(`message ${id} did not reach the DLQ within ${timeoutMs} ms`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'event-source-test-'));
  env = await startLocalEnvironment({
    sqsPort: 0,
    dogstatsdPort: 0,
    localDir: dir,
    source: { template: fixtureTemplate() },
    entryFor: () => HANDLER,
    sandboxEnv: { REPORT_DIR: dir },
    waitTimeSeconds: 1,
    applyToProcessEnv: false,
    onInvocation,
    onLog: () => undefined,
    onNotice: (message) => notices.push(message),
  });
  const queue = env.queues.get('jobs');
  if (queue === undefined) throw new Error('no jobs queue');
  jobs = queue;
});

afterAll(async () => {
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  reports.length = 0;
});

describe('the emulated SQS event source', () => {
  it('polls only enabled mappings, and says so for the others', () => {
    expect(env.workers.map((worker) => worker.functionName)).toEqual(['fx-worker']);
    expect(notices.join('\n')).toContain('OrdersEventSource is disabled');
    expect(notices.join('\n')).toContain('API_KEY_SECRET: Ref SomeSecretNotInTheTemplate has no local value');
  });

  it('runs MaximumConcurrency sandboxes at most', () => {
    expect(env.workers[0]?.concurrency).toBe(2);
  });

  it('invokes the handler with a real SQSEvent', async () => {
    const invoked = nextInvocation((report) => report.status === 'success');
    const output = await env.client.send(
      new SendMessageCommand({
        QueueUrl: jobs.url,
        MessageBody: bodyOf({ do: 'ok' }, 'shape'),
        MessageAttributes: { traceId: { DataType: 'String', StringValue: 'abc-123' } },
      }),
    );
    const report = handlerReport((await invoked).requestId);
    const record = report.records[0];
    expect(record).toMatchObject({
      messageId: output.MessageId,
      body: bodyOf({ do: 'ok' }, 'shape'),
      messageAttributes: { traceId: { stringValue: 'abc-123', stringListValues: [], binaryListValues: [], dataType: 'String' } },
      md5OfBody: output.MD5OfMessageBody,
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:fx-jobs',
      awsRegion: 'us-east-1',
    });
    expect(record?.receiptHandle).toEqual(expect.any(String));
    expect(record?.attributes).toMatchObject({
      ApproximateReceiveCount: '1',
      SentTimestamp: expect.stringMatching(/^\d{13}$/),
      SenderId: expect.any(String),
      ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
    });
  });

  it('gives a Lambda-like context whose remaining time counts down from the function timeout', async () => {
    const invoked = nextInvocation((report) => report.status === 'success');
    await send(bodyOf({ do: 'ok' }, 'context'));
    const invocation = await invoked;
    const { context, env: sandboxEnv } = handlerReport(invocation.requestId);
    expect(context).toMatchObject({
      functionName: 'fx-worker',
      awsRequestId: invocation.requestId,
      memoryLimitInMB: '256',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fx-worker',
    });
    expect(context.remainingAtStart).toBeGreaterThan(0);
    expect(context.remainingAtStart).toBeLessThanOrEqual(2000);
    expect(sandboxEnv).toEqual({ JOB_QUEUE: 'jobs', AWS_LAMBDA_FUNCTION_NAME: 'fx-worker' });
  });

  it('deletes the records not in batchItemFailures and leaves the failed one to come back', async () => {
    const partial = nextInvocation((report) => report.status === 'partial');
    const output = await env.client.send(
      new SendMessageBatchCommand({
        QueueUrl: jobs.url,
        Entries: [
          { Id: 'ok', MessageBody: bodyOf({ do: 'ok' }, 'partial') },
          { Id: 'fail', MessageBody: bodyOf({ do: 'fail' }, 'partial') },
        ],
      }),
    );
    const failedId = output.Successful?.find((entry) => entry.Id === 'fail')?.MessageId ?? '';
    const okId = output.Successful?.find((entry) => entry.Id === 'ok')?.MessageId ?? '';
    const first = await partial;
    expect(first.failedIds).toContain(failedId);
    expect(first.failedIds).not.toContain(okId);
    // The failed record is delivered again after its visibility timeout, then redriven after maxReceiveCount (3).
    await waitForDeadLetter(failedId);
    await deliveries(failedId, 3);
    expect(reports.filter((report) => report.messageIds.includes(failedId))).toHaveLength(3);
    expect(reports.filter((report) => report.messageIds.includes(okId))).toHaveLength(1);
    expect((await deadLetters()).map((message) => message.id)).not.toContain(okId);
  });

  it('deletes nothing when the handler throws', async () => {
    const id = await send(bodyOf({ do: 'throw' }, 'throw'));
    const failed = await nextInvocation((report) => report.messageIds.includes(id), 0);
    expect(failed).toMatchObject({ status: 'error', deleted: 0, error: 'Error: the handler threw' });
    await waitForDeadLetter(id);
    await deliveries(id, 3);
    expect(reports.filter((report) => report.messageIds.includes(id)).map((report) => report.status)).toEqual(['error', 'error', 'error']);
  });

  it('deletes nothing when the response names a record that is not in the batch (Lambda fails the whole batch)', async () => {
    const id = await send(bodyOf({ do: 'bad-response' }, 'invalid'));
    const invocation = await nextInvocation((report) => report.messageIds.includes(id), 0);
    expect(invocation).toMatchObject({
      status: 'invalid_response',
      deleted: 0,
      error: 'itemIdentifier not-in-this-batch is not a record of the batch',
    });
  });

  it('deletes nothing when the invocation times out, and ends that sandbox', async () => {
    const id = await send(bodyOf({ do: 'sleep', ms: 10_000 }, 'timeout'));
    const timedOut = await nextInvocation((report) => report.messageIds.includes(id), 0);
    expect(timedOut).toMatchObject({ status: 'timeout', deleted: 0, error: 'Task timed out after 2 seconds' });
    const instance = handlerReport(timedOut.requestId).instance;
    const next = nextInvocation((report) => report.status === 'success');
    await send(bodyOf({ do: 'ok' }, 'after-timeout'));
    const after = handlerReport((await next).requestId);
    expect(after.instance).not.toBe(instance);
    // Each delivery times out again until the redrive policy moves the message to the DLQ. (The visibility
    // timeout equals the function timeout here, so the third timeout may be reported just after the move.)
    await waitForDeadLetter(id);
    await deliveries(id, 3);
    expect(reports.filter((report) => report.messageIds.includes(id)).map((report) => report.status)).toEqual([
      'timeout',
      'timeout',
      'timeout',
    ]);
  });

  it('reuses each loaded module across invocations, as a warm sandbox', async () => {
    const instances = new Set<string>();
    for (let i = 0; i < 6; i += 1) {
      const invoked = nextInvocation((report) => report.status === 'success');
      await send(bodyOf({ do: 'ok' }, `warm-${i}`));
      instances.add(handlerReport((await invoked).requestId).instance);
    }
    // Six invocations one after the other: an idle warm sandbox is always there to take the next batch.
    expect(instances.size).toBe(1);
  });

  it('reload() ends every sandbox, closing its metrics client, and the next batch cold-starts a fresh module', async () => {
    const invoked = nextInvocation((report) => report.status === 'success');
    await send(bodyOf({ do: 'ok' }, 'before-reload'));
    const before = handlerReport((await invoked).requestId).instance;
    await env.reloadWorkers();
    expect(existsSync(join(dir, `closed-${before}.json`))).toBe(true);
    expect(env.workers[0]?.sandboxes()).toBe(0);
    const next = nextInvocation((report) => report.status === 'success');
    await send(bodyOf({ do: 'ok' }, 'after-reload'));
    const invocation = await next;
    expect(invocation.coldStart).toBe(true);
    expect(handlerReport(invocation.requestId).instance).not.toBe(before);
  });

  it('honours BatchSize and fills batches within the batching window', async () => {
    const entries = Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: bodyOf({ do: 'ok' }, `batch-${i}`) }));
    await env.client.send(new SendMessageBatchCommand({ QueueUrl: jobs.url, Entries: entries }));
    await recordsDelivered(10);
    const sizes = reports.map((report) => report.messageIds.length);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBe(10);
    expect(Math.max(...sizes)).toBe(4);
  });

  it('never runs more invocations at once than MaximumConcurrency', async () => {
    const entries = Array.from({ length: 8 }, (_, i) => ({
      Id: String(i),
      MessageBody: bodyOf({ do: 'sleep', ms: 300 }, `concurrency-${i}`),
    }));
    await env.client.send(new SendMessageBatchCommand({ QueueUrl: jobs.url, Entries: entries }));
    await recordsDelivered(8);
    const spans = reports
      .map((report) => handlerReport(report.requestId))
      .map((report) => [report.startedAt, report.endedAt ?? report.startedAt] as const);
    const overlapping = spans.map(([start]) => spans.filter(([otherStart, otherEnd]) => otherStart <= start && start < otherEnd).length);
    expect(Math.max(...overlapping)).toBeLessThanOrEqual(2);
  });
});
