import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createJobsClient,
  defaultJobsClient,
  InvalidEnqueueOptionsError,
  JobValidationError,
  MAX_MESSAGE_BYTES,
  MessageTooLargeError,
  QueueNotConfiguredError,
  queueUrlEnvVar,
  UnknownJobError,
  type JobsClient,
} from '../../functions/client/index.ts';
import { prepareMessage } from '../../functions/client/message.ts';
import { recordCalls, startLocalSqs, type LocalSqs, type RecordedCall } from './local-sqs.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const email = { to: 'ada@example.com', subject: 'Hello', text: 'Hi Ada' };

let local: LocalSqs;
let defaultUrl: string;
let webhooksUrl: string;
let sqs: SQSClient;
let calls: RecordedCall[];
let client: JobsClient;

beforeAll(async () => {
  local = await startLocalSqs();
  defaultUrl = await local.createQueue('enqueue-default');
  webhooksUrl = await local.createQueue('enqueue-webhooks');
  sqs = local.newClient();
  calls = recordCalls(sqs);
  client = createJobsClient({ sqs, queueUrls: { default: defaultUrl, webhooks: webhooksUrl } });
});

afterAll(async () => {
  sqs.destroy();
  await local.close();
});

beforeEach(async () => {
  calls.length = 0;
  await local.drain(defaultUrl);
  await local.drain(webhooksUrl);
});

describe('enqueue', () => {
  it('sends {type, payload, jobId, enqueuedAt} to the queue of the job type', async () => {
    const before = Date.now();
    const result = await client.enqueue('send-email', email);
    const [message, ...rest] = await local.drain(defaultUrl);
    expect(rest).toHaveLength(0);
    expect(message?.MessageId).toBe(result.messageId);
    const body = JSON.parse(message?.Body ?? '{}') as Record<string, unknown>;
    expect(Object.keys(body).toSorted()).toEqual(['enqueuedAt', 'jobId', 'payload', 'type']);
    expect(body).toMatchObject({ type: 'send-email', payload: email, jobId: result.jobId });
    expect(result.jobId).toMatch(UUID);
    expect(Date.parse(String(body.enqueuedAt))).toBeGreaterThanOrEqual(before - 1000);
    expect(result.queueUrl).toBe(defaultUrl);
  });

  it('sends each job type to its own queue', async () => {
    await client.enqueue('deliver-webhook', { url: 'https://example.com/hook', body: { ok: true } });
    expect(await local.drain(defaultUrl)).toHaveLength(0);
    const [message] = await local.drain(webhooksUrl);
    expect(JSON.parse(message?.Body ?? '{}')).toMatchObject({ type: 'deliver-webhook', payload: { url: 'https://example.com/hook' } });
  });

  it('uses the jobId option as the body jobId', async () => {
    const result = await client.enqueue('send-email', email, { jobId: 'order-42-receipt' });
    expect(result.jobId).toBe('order-42-receipt');
    const [message] = await local.drain(defaultUrl);
    expect(JSON.parse(message?.Body ?? '{}').jobId).toBe('order-42-receipt');
  });

  it('refuses an invalid payload before sending anything, at compile time and at run time', async () => {
    // @ts-expect-error -- a send-email payload needs `to` and `subject`: the wrong payload does not compile
    const attempt = client.enqueue('send-email', { url: 'https://example.com' });
    const error = await attempt.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(JobValidationError);
    expect((error as JobValidationError).issues.map((issue) => issue.path)).toEqual(expect.arrayContaining(['to', 'subject']));
    expect(calls).toHaveLength(0);
    expect(await local.counts(defaultUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('refuses a payload that breaks a schema rule (neither text nor html) with a readable message', async () => {
    const error = await client.enqueue('send-email', { to: 'ada@example.com', subject: 'x' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(JobValidationError);
    expect((error as Error).message).toContain('one of text or html is required');
    expect(calls).toHaveLength(0);
  });

  it('refuses an unknown job type from the untyped API before sending', async () => {
    await expect(client.enqueueUnchecked('send-fax', {})).rejects.toBeInstanceOf(UnknownJobError);
    expect(calls).toHaveLength(0);
  });

  it('refuses a message over 1 MiB with MessageTooLargeError and sends nothing', async () => {
    const error = await client.enqueue('send-email', { ...email, text: 'x'.repeat(MAX_MESSAGE_BYTES) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as MessageTooLargeError).limit).toBe(1_048_576);
    expect((error as MessageTooLargeError).bytes).toBeGreaterThan(1_048_576);
    expect(calls).toHaveLength(0);
    expect(await local.counts(defaultUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('accepts a message of exactly 1 MiB, and refuses one byte more', async () => {
    const jobId = 'exact-size';
    const overhead = prepareMessage('send-email', { ...email, text: '' }, { jobId }).bytes;
    const text = 'y'.repeat(MAX_MESSAGE_BYTES - overhead);
    expect(prepareMessage('send-email', { ...email, text }, { jobId }).bytes).toBe(MAX_MESSAGE_BYTES);
    await client.enqueue('send-email', { ...email, text }, { jobId });
    const [message] = await local.drain(defaultUrl);
    expect(Buffer.byteLength(message?.Body ?? '')).toBe(MAX_MESSAGE_BYTES);
    await expect(client.enqueue('send-email', { ...email, text: `${text}y` }, { jobId })).rejects.toBeInstanceOf(MessageTooLargeError);
  });

  it('counts multi-byte characters as bytes, not characters', async () => {
    const error = await client
      .enqueue('send-email', { ...email, text: 'é'.repeat(MAX_MESSAGE_BYTES / 2) })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MessageTooLargeError);
  });

  it('honours delaySeconds: the message is delayed, not visible at once', async () => {
    await client.enqueue('send-email', email, { delaySeconds: 2 });
    const { Messages = [] } = await local.sqs.send(new ReceiveMessageCommand({ QueueUrl: defaultUrl, WaitTimeSeconds: 0 }));
    expect(Messages).toHaveLength(0);
    expect(await local.counts(defaultUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 1 });
    expect(calls[0]?.input.DelaySeconds).toBe(2);
    const later = await local.sqs.send(new ReceiveMessageCommand({ QueueUrl: defaultUrl, WaitTimeSeconds: 10 }));
    expect(later.Messages).toHaveLength(1);
  });

  it.each([-1, 31_536_001, 1.5, Number.NaN])('refuses delaySeconds %s', async (delaySeconds) => {
    await expect(client.enqueue('send-email', email, { delaySeconds })).rejects.toBeInstanceOf(InvalidEnqueueOptionsError);
    expect(calls).toHaveLength(0);
  });

  it.each(['', 'has space', 'x'.repeat(129)])('refuses the job id %j', async (jobId) => {
    await expect(client.enqueue('send-email', email, { jobId })).rejects.toBeInstanceOf(InvalidEnqueueOptionsError);
  });

  it('refuses a deduplicationId on a standard queue', async () => {
    await expect(client.enqueue('send-email', email, { deduplicationId: 'd1' })).rejects.toBeInstanceOf(InvalidEnqueueOptionsError);
    expect(calls).toHaveLength(0);
  });
});

describe('FIFO queues', () => {
  let fifo: JobsClient;
  let fifoUrl: string;

  beforeAll(async () => {
    fifoUrl = await local.createQueue('enqueue-default.fifo', { FifoQueue: 'true' });
    fifo = createJobsClient({ sqs, queueUrls: { default: fifoUrl } });
  });

  it('sends the group id and uses the job id as the deduplication id', async () => {
    await fifo.enqueue('send-email', email, { groupId: 'tenant-1', jobId: 'job-1' });
    await fifo.enqueue('send-email', email, { groupId: 'tenant-1', jobId: 'job-1' });
    const messages = await local.drain(fifoUrl);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.Attributes?.MessageGroupId).toBe('tenant-1');
    expect(messages[0]?.Attributes?.MessageDeduplicationId).toBe('job-1');
  });

  it('requires a group id', async () => {
    await expect(fifo.enqueue('send-email', email)).rejects.toBeInstanceOf(InvalidEnqueueOptionsError);
  });

  it('refuses a per-message delay, which SQS does not support on FIFO queues', async () => {
    await expect(fifo.enqueue('send-email', email, { groupId: 'g', delaySeconds: 5 })).rejects.toBeInstanceOf(InvalidEnqueueOptionsError);
  });
});

describe('queue configuration', () => {
  it('names the environment variables JOBS_QUEUE_URL_<QUEUE>', () => {
    expect(queueUrlEnvVar('default')).toBe('JOBS_QUEUE_URL_DEFAULT');
    expect(queueUrlEnvVar('webhooks')).toBe('JOBS_QUEUE_URL_WEBHOOKS');
    expect(queueUrlEnvVar('bulk-email')).toBe('JOBS_QUEUE_URL_BULK_EMAIL');
  });

  it('reads the queue URL from JOBS_QUEUE_URL_WEBHOOKS', async () => {
    const fromEnv = createJobsClient({ sqs, env: { JOBS_QUEUE_URL_WEBHOOKS: webhooksUrl } });
    await fromEnv.enqueue('deliver-webhook', { url: 'https://example.com/a' });
    expect(await local.drain(webhooksUrl)).toHaveLength(1);
  });

  it('refuses with QueueNotConfiguredError naming the variable when the queue URL is missing', async () => {
    const unconfigured = createJobsClient({ sqs, env: {} });
    const error = await unconfigured.enqueue('deliver-webhook', { url: 'https://example.com/a' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueueNotConfiguredError);
    expect((error as QueueNotConfiguredError).envVar).toBe('JOBS_QUEUE_URL_WEBHOOKS');
    expect((error as Error).message).toContain('JOBS_QUEUE_URL_WEBHOOKS');
    expect(calls).toHaveLength(0);
  });

  it('refuses a queue URL that is not a URL', async () => {
    const broken = createJobsClient({ sqs, env: { JOBS_QUEUE_URL_DEFAULT: 'serverless-jobs-dev-default' } });
    await expect(broken.enqueue('send-email', email)).rejects.toBeInstanceOf(QueueNotConfiguredError);
    expect(() => createJobsClient({ queueUrls: { default: 'not a url' } })).toThrow(/queueUrls.default/);
  });

  it('refuses a queueUrls entry for a queue no job uses (a typo would otherwise fall back silently)', () => {
    expect(() => createJobsClient({ queueUrls: { defualt: defaultUrl } })).toThrow(
      'queueUrls.defualt: no job uses queue "defualt" (queues: default, webhooks)',
    );
  });

  it('the default client reads JOBS_QUEUE_URL_* and AWS_ENDPOINT_URL_SQS from the environment, and is created once', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SQS: local.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      JOBS_QUEUE_URL_DEFAULT: defaultUrl,
    });
    try {
      const { enqueue } = await import('../../functions/client/index.ts');
      const result = await enqueue('send-email', email);
      expect(defaultJobsClient()).toBe(defaultJobsClient());
      const [message] = await local.drain(defaultUrl);
      expect(message?.MessageId).toBe(result.messageId);
      // The message reached the local SQS through AWS_ENDPOINT_URL_SQS alone: the client sets no endpoint of its own.
      expect(defaultJobsClient().sqs.config.endpoint).toBeUndefined();
    } finally {
      process.env = saved;
    }
  });
});
