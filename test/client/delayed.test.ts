/**
 * Delays beyond SQS's 15 minutes: one-time schedules on the local EventBridge Scheduler endpoint (the real
 * @aws-sdk/client-scheduler talks to it), delivered into a real local SQS when an injected clock says so.
 */
import { GetScheduleCommand, ListSchedulesCommand, ResourceNotFoundException, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createJobsClient,
  DuplicateJobError,
  InvalidEnqueueOptionsError,
  SchedulerNotConfiguredError,
  type JobsClient,
} from '../../functions/client/index.ts';
import { sqsDelivery, startLocalSchedulerServer, type LocalSchedulerServer } from '../../functions/local/scheduler-server.ts';
import { startLocalSqs, type LocalSqs } from './local-sqs.ts';

const GROUP = 'serverless-jobs-delays';
const ROLE = 'arn:aws:iam::000000000000:role/scheduler';
const email = { to: 'ada@example.com', subject: 'Later', text: 'Hi Ada' };
const HOUR = 3_600_000;

let offsetMs = 0;
const clock = { now: () => new Date(Date.now() + offsetMs) };
let local: LocalSqs;
let scheduler: LocalSchedulerServer;
let schedulerClient: SchedulerClient;
let defaultUrl: string;
let fifoUrl: string;
let client: JobsClient;

beforeAll(async () => {
  local = await startLocalSqs();
  defaultUrl = await local.createQueue('delays-default');
  fifoUrl = await local.createQueue('delays-webhooks.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
  scheduler = await startLocalSchedulerServer({
    port: 0,
    clock,
    tickMs: 0,
    groups: [GROUP],
    deliver: sqsDelivery(local.sqs, local.endpoint),
  });
  schedulerClient = scheduler.createClient();
  client = createJobsClient({
    sqs: local.newClient(),
    scheduler: schedulerClient,
    schedulerSettings: { groupName: GROUP, roleArn: ROLE },
    queueUrls: { default: defaultUrl, webhooks: fifoUrl },
  });
});

afterAll(async () => {
  client.sqs.destroy();
  schedulerClient.destroy();
  await scheduler.close();
  await local.close();
});

beforeEach(async () => {
  offsetMs = 0;
  for (const { Name } of (await schedulerClient.send(new ListSchedulesCommand({ GroupName: GROUP }))).Schedules ?? []) {
    if (Name) await client.cancel(Name.slice(2));
  }
  await local.drain(defaultUrl);
});

describe('enqueue with a delay beyond 15 minutes', () => {
  it('creates a one-time at() schedule in the group, deleted after it fires, carrying the body enqueue would send', async () => {
    const before = Date.now();
    const result = await client.enqueue('send-email', email, { delaySeconds: 7_200, jobId: 'later-1' });
    expect(result).toMatchObject({ jobId: 'later-1', messageId: '', scheduleName: 'j.later-1', queueUrl: defaultUrl });
    const schedule = await schedulerClient.send(new GetScheduleCommand({ Name: 'j.later-1', GroupName: GROUP }));
    expect(schedule).toMatchObject({ ActionAfterCompletion: 'DELETE', ScheduleExpressionTimezone: 'UTC', Target: { RoleArn: ROLE } });
    expect(schedule.Target?.Arn).toBe('arn:aws:sqs:us-east-1:000000000000:delays-default');
    const runAt = Date.parse(`${/^at\((.*)\)$/.exec(schedule.ScheduleExpression ?? '')?.[1]}Z`);
    expect(runAt - before).toBeGreaterThanOrEqual(2 * HOUR - 1000);
    expect(runAt - before).toBeLessThanOrEqual(2 * HOUR + 5000);
    const body = JSON.parse(schedule.Target?.Input ?? '{}') as Record<string, unknown>;
    expect(body).toMatchObject({ type: 'send-email', payload: email, jobId: 'later-1' });
    expect(Object.keys(body).toSorted()).toEqual(['enqueuedAt', 'jobId', 'payload', 'scheduledAt', 'type']);
    expect(Date.parse(String(body.scheduledAt))).toBe(result.runAt?.getTime());
    expect(await local.counts(defaultUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('is sent to the queue when its time comes, once, with that body', async () => {
    await client.enqueue('send-email', email, { runAt: new Date(Date.now() + 3 * HOUR), jobId: 'later-2' });
    const input = (await schedulerClient.send(new GetScheduleCommand({ Name: 'j.later-2', GroupName: GROUP }))).Target?.Input;
    offsetMs = 2 * HOUR;
    expect(await scheduler.runDue()).toBe(0);
    offsetMs = 3 * HOUR + 60_000;
    expect(await scheduler.runDue()).toBe(1);
    expect(await scheduler.runDue()).toBe(0);
    expect((await local.drain(defaultUrl)).map((message) => message.Body)).toEqual([input]);
    await expect(schedulerClient.send(new GetScheduleCommand({ Name: 'j.later-2', GroupName: GROUP }))).rejects.toThrow(
      ResourceNotFoundException,
    );
  });

  it('refuses a job id that is already scheduled with DuplicateJobError, keeping the first', async () => {
    await client.enqueue('send-email', email, { delaySeconds: 3_600, jobId: 'twice' });
    const second = client.enqueue('send-email', { ...email, subject: 'Again' }, { delaySeconds: 7_200, jobId: 'twice' });
    await expect(second).rejects.toBeInstanceOf(DuplicateJobError);
    await expect(second).rejects.toThrow(/job "twice" is already scheduled/);
    const input = (await schedulerClient.send(new GetScheduleCommand({ Name: 'j.twice', GroupName: GROUP }))).Target?.Input;
    expect(JSON.parse(input ?? '{}').payload.subject).toBe('Later');
  });

  it('gives a FIFO queue the message group the Scheduler needs', async () => {
    await client.enqueue(
      'deliver-webhook',
      { url: 'https://example.com/hook' },
      { delaySeconds: 3_600, jobId: 'fifo-1', groupId: 'tenant-7' },
    );
    const schedule = await schedulerClient.send(new GetScheduleCommand({ Name: 'j.fifo-1', GroupName: GROUP }));
    expect(schedule.Target?.SqsParameters).toEqual({ MessageGroupId: 'tenant-7' });
  });

  it('keeps delays of up to 900 s on SQS, with the intended run time in the body', async () => {
    const result = await client.enqueue('send-email', email, { delaySeconds: 600 });
    expect(result.messageId).not.toBe('');
    expect(result.scheduleName).toBeUndefined();
    expect((await local.counts(defaultUrl)).delayed).toBe(1);
    expect((await schedulerClient.send(new ListSchedulesCommand({ GroupName: GROUP }))).Schedules).toEqual([]);
  });

  it('sends a runAt already past at once', async () => {
    const result = await client.enqueue('send-email', email, { runAt: new Date(Date.now() - 60_000) });
    expect(result.messageId).not.toBe('');
    const [message] = await local.drain(defaultUrl);
    expect(Date.parse(JSON.parse(message?.Body ?? '{}').scheduledAt)).toBeLessThan(Date.now());
  });

  it.each([
    ['a delay beyond a year', { delaySeconds: 31_536_001 }],
    ['both delaySeconds and runAt', { delaySeconds: 3_600, runAt: new Date(Date.now() + HOUR) }],
    ['a runAt that is not a date', { runAt: new Date('soon') }],
  ])('refuses %s before anything is scheduled', async (_, options) => {
    await expect(client.enqueue('send-email', email, options)).rejects.toBeInstanceOf(InvalidEnqueueOptionsError);
  });

  it('says which variable is missing when no scheduler is configured, and schedules nothing', async () => {
    const bare = createJobsClient({ sqs: client.sqs, scheduler: schedulerClient, env: {}, queueUrls: { default: defaultUrl } });
    await expect(bare.enqueue('send-email', email, { delaySeconds: 3_600 })).rejects.toBeInstanceOf(SchedulerNotConfiguredError);
    await expect(bare.enqueue('send-email', email, { delaySeconds: 3_600 })).rejects.toThrow(/JOBS_SCHEDULE_GROUP is not set/);
  });
});

describe('cancel', () => {
  it('deletes a pending delayed job and says there was one, then that there is none', async () => {
    await client.enqueue('send-email', email, { delaySeconds: 7_200, jobId: 'cancel-me' });
    expect(await client.cancel('cancel-me')).toBe(true);
    expect(await client.cancel('cancel-me')).toBe(false);
    offsetMs = 3 * HOUR;
    expect(await scheduler.runDue()).toBe(0);
  });
});

describe('enqueueMany with delayed entries', () => {
  it('schedules the long delays, sends the rest, and reports each entry', async () => {
    const result = await client.enqueueMany([
      { type: 'send-email', payload: email, options: { jobId: 'now-1' } },
      { type: 'send-email', payload: email, options: { jobId: 'many-later', delaySeconds: 86_400 } },
      { type: 'send-email', payload: email, options: { jobId: 'many-later', delaySeconds: 86_400 } },
    ]);
    expect(result.sent).toBe(2);
    expect(result.entries.map((entry) => [entry.jobId, entry.ok])).toEqual([
      ['now-1', true],
      ['many-later', true],
      ['many-later', false],
    ]);
    expect(result.entries[1]).toMatchObject({ ok: true, scheduleName: 'j.many-later', messageId: '' });
    const failed = result.entries[2];
    expect(failed?.ok === false && failed.error).toBeInstanceOf(DuplicateJobError);
    expect((await local.drain(defaultUrl)).length).toBe(1);
  });
});
