import type { SQSClient, SendMessageBatchCommandInput, SendMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createJobsClient, JobValidationError, SendFailedError, type JobRequest } from '../../functions/client/index.ts';
import { recordCalls, startLocalSqs, type LocalSqs, type RecordedCall } from './local-sqs.ts';

const emails = (count: number, prefix = 'job'): JobRequest[] =>
  Array.from({ length: count }, (_, i) => ({
    type: 'send-email' as const,
    payload: { to: `user${i}@example.com`, subject: `Hello ${i}`, text: 'hi' },
    options: { jobId: `${prefix}-${i}` },
  }));

const big = (i: number): JobRequest => ({
  type: 'send-email',
  payload: { to: 'a@example.com', subject: `big ${i}`, text: 'z'.repeat(400_000) },
});

const batchCalls = (calls: RecordedCall[]): string[][] =>
  calls
    .filter((call) => call.command === 'SendMessageBatchCommand')
    .map((call) => ((call.input.Entries ?? []) as { Id: string }[]).map((entry) => entry.Id));

const jobIdsOf = (bodies: (string | undefined)[]): string[] => bodies.map((body) => String(JSON.parse(body ?? '{}').jobId)).toSorted();

type Failure = { Code: string; SenderFault: boolean };

/**
 * Fault injection: entries whose Id is in `plan` are taken out of the request before it reaches SQS and
 * reported back as Failed with the planned code, once per planned attempt (the entry is never sent then).
 */
function simulateEntryFailures(client: SQSClient, plan: Map<string, Failure[]>): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'SendMessageBatchCommand') return next(args);
      const input = args.input as SendMessageBatchCommandInput;
      const failed: (Failure & { Id: string })[] = [];
      const kept = (input.Entries ?? []).filter((entry) => {
        const failure = plan.get(entry.Id ?? '')?.shift();
        if (failure) failed.push({ Id: entry.Id ?? '', ...failure });
        return !failure;
      });
      const result =
        kept.length > 0
          ? await next({ ...args, input: { ...input, Entries: kept } })
          : { output: { Successful: [], $metadata: {} }, response: {} };
      const output = result.output as SendMessageBatchCommandOutput;
      return { ...result, output: { ...output, Failed: [...(output.Failed ?? []), ...failed] } };
    },
    { step: 'initialize', name: 'simulateEntryFailures', priority: 'low' },
  );
}

let local: LocalSqs;
let queueUrl: string;
let webhooksUrl: string;

beforeAll(async () => {
  local = await startLocalSqs();
  queueUrl = await local.createQueue('many-default');
  webhooksUrl = await local.createQueue('many-webhooks');
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  await local.drain(queueUrl);
  await local.drain(webhooksUrl);
});

describe('enqueueMany', () => {
  it('splits 25 jobs into SendMessageBatch calls of 10, 10 and 5 and reports each entry in input order', async () => {
    const sqs = local.newClient();
    const calls = recordCalls(sqs);
    const client = createJobsClient({ sqs, queueUrls: { default: queueUrl }, concurrency: 1 });
    const result = await client.enqueueMany(emails(25));
    expect(batchCalls(calls).map((ids) => ids.length)).toEqual([10, 10, 5]);
    expect(result).toMatchObject({ sent: 25, failed: 0 });
    expect(result.entries.map((entry) => entry.index)).toEqual([...Array(25).keys()]);
    expect(result.entries.every((entry) => entry.ok && entry.attempts === 1)).toBe(true);
    const received = await local.drain(queueUrl);
    expect(received).toHaveLength(25);
    const messageIds = new Map(result.entries.map((entry) => [entry.jobId, entry.ok ? entry.messageId : undefined]));
    for (const message of received) expect(messageIds.get(JSON.parse(message.Body ?? '{}').jobId)).toBe(message.MessageId);
    sqs.destroy();
  });

  it('keeps each batch under 1 MiB in total', async () => {
    const sqs = local.newClient();
    const calls = recordCalls(sqs);
    const client = createJobsClient({ sqs, queueUrls: { default: queueUrl }, concurrency: 1 });
    const result = await client.enqueueMany([big(0), big(1), big(2), big(3), big(4)]);
    expect(result.sent).toBe(5);
    expect(batchCalls(calls).map((ids) => ids.length)).toEqual([2, 2, 1]);
    expect(await local.drain(queueUrl)).toHaveLength(5);
    sqs.destroy();
  });

  it('sends jobs of different types to their own queues', async () => {
    const client = createJobsClient({ sqs: local.sqs, queueUrls: { default: queueUrl, webhooks: webhooksUrl } });
    const result = await client.enqueueMany([
      ...emails(3),
      { type: 'deliver-webhook', payload: { url: 'https://example.com/1' } },
      { type: 'deliver-webhook', payload: { url: 'https://example.com/2' } },
    ]);
    expect(result.sent).toBe(5);
    expect(await local.drain(queueUrl)).toHaveLength(3);
    expect(await local.drain(webhooksUrl)).toHaveLength(2);
  });

  it('reports invalid entries as failed without sending them, and sends the valid ones', async () => {
    const sqs = local.newClient();
    const calls = recordCalls(sqs);
    const client = createJobsClient({ sqs, queueUrls: { default: queueUrl } });
    const jobs = emails(4);
    const result = await client.enqueueManyUnchecked([
      ...jobs.slice(0, 2),
      { type: 'send-email', payload: { to: 'not-an-email', subject: 's', text: 't' } },
      ...jobs.slice(2),
    ]);
    expect(result).toMatchObject({ sent: 4, failed: 1 });
    const bad = result.entries[2];
    expect(bad?.ok).toBe(false);
    expect(bad?.ok === false && bad.error).toBeInstanceOf(JobValidationError);
    expect(bad?.attempts).toBe(0);
    expect(batchCalls(calls).flat()).not.toContain('2');
    expect(await local.drain(queueUrl)).toHaveLength(4);
    sqs.destroy();
  });

  it('calls onProgress until every entry has settled', async () => {
    const client = createJobsClient({ sqs: local.sqs, queueUrls: { default: queueUrl } });
    const seen: number[] = [];
    await client.enqueueMany(emails(23), { onProgress: (settled, total) => seen.push(settled / total) });
    expect(seen.at(-1)).toBe(1);
    expect(seen.toSorted((a, b) => a - b)).toEqual(seen);
  });

  it('simulated entry failures: retries only the entries SQS failed without sender fault, and sends each job once', async () => {
    const sqs = local.newClient();
    const calls = recordCalls(sqs);
    const internal: Failure = { Code: 'InternalError', SenderFault: false };
    simulateEntryFailures(
      sqs,
      new Map([
        ['3', [internal]],
        ['7', [internal, internal]],
        ['12', [{ Code: 'InvalidParameterValue', SenderFault: true }]],
      ]),
    );
    const client = createJobsClient({
      sqs,
      queueUrls: { default: queueUrl },
      concurrency: 1,
      batchRetry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    const result = await client.enqueueMany(emails(15));

    expect(batchCalls(calls)).toEqual([
      ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      ['3', '7'],
      ['7'],
      ['10', '11', '12', '13', '14'],
    ]);
    expect(result).toMatchObject({ sent: 14, failed: 1 });
    expect(result.entries[3]).toMatchObject({ ok: true, attempts: 2 });
    expect(result.entries[7]).toMatchObject({ ok: true, attempts: 3 });
    const refused = result.entries[12];
    expect(refused).toMatchObject({ ok: false, attempts: 1, jobId: 'job-12' });
    expect(refused?.ok === false && refused.error).toBeInstanceOf(SendFailedError);
    expect(refused?.ok === false && refused.error).toMatchObject({ code: 'InvalidParameterValue', senderFault: true });

    const expected = emails(15)
      .map((job) => String(job.options?.jobId))
      .filter((id) => id !== 'job-12')
      .toSorted();
    expect(jobIdsOf((await local.drain(queueUrl)).map((m) => m.Body))).toEqual(expected);
    sqs.destroy();
  });

  it('simulated entry failures: stops retrying after maxAttempts and reports the entry as failed', async () => {
    const sqs = local.newClient();
    const calls = recordCalls(sqs);
    const internal: Failure = { Code: 'InternalError', SenderFault: false };
    simulateEntryFailures(sqs, new Map([['1', [internal, internal, internal, internal]]]));
    const client = createJobsClient({
      sqs,
      queueUrls: { default: queueUrl },
      batchRetry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    });
    const result = await client.enqueueMany(emails(3));
    expect(batchCalls(calls)).toEqual([['0', '1', '2'], ['1'], ['1']]);
    expect(result.entries[1]).toMatchObject({ ok: false, attempts: 3, error: { code: 'InternalError', senderFault: false } });
    expect(await local.drain(queueUrl)).toHaveLength(2);
    sqs.destroy();
  });

  it('reports every entry as failed when the queue does not exist, and does not throw', async () => {
    const client = createJobsClient({ sqs: local.sqs, queueUrls: { default: local.queueUrl('no-such-queue') } });
    const result = await client.enqueueMany(emails(12));
    expect(result).toMatchObject({ sent: 0, failed: 12 });
    expect(
      result.entries.every((entry) => !entry.ok && entry.error instanceof SendFailedError && entry.error.code === 'QueueDoesNotExist'),
    ).toBe(true);
  });

  it('refuses a wrong payload at compile time, and reports it at run time', async () => {
    const client = createJobsClient({ sqs: local.sqs, queueUrls: { default: queueUrl, webhooks: webhooksUrl } });
    // @ts-expect-error -- a deliver-webhook payload needs `url`, not `to`: the wrong entry does not compile
    const result = await client.enqueueMany([{ type: 'deliver-webhook', payload: { to: 'a@example.com' } }]);
    expect(result.entries[0]).toMatchObject({ ok: false, attempts: 0, error: { name: 'JobValidationError' } });
    expect(await local.counts(webhooksUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('returns an empty result for no jobs without calling SQS', async () => {
    const sqs = local.newClient();
    const calls = recordCalls(sqs);
    const client = createJobsClient({ sqs, queueUrls: { default: queueUrl } });
    expect(await client.enqueueMany([])).toEqual({ sent: 0, failed: 0, entries: [] });
    expect(calls).toHaveLength(0);
    sqs.destroy();
  });
});
