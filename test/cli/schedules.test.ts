/**
 * `jobs enqueue --delay/--at`, `jobs schedules` and `jobs cancel` on the local EventBridge Scheduler endpoint
 * (the real @aws-sdk/client-scheduler talks to it) and a real local SQS, with an injected clock.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sqsDelivery, startLocalSchedulerServer, type LocalSchedulerServer } from '../../functions/local/scheduler-server.ts';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { LOCAL_CREDENTIALS } from '../../functions/local/ports.ts';
import { scheduleGroupName, schedulerDeadLetterQueueName } from '../../functions/scheduling/names.ts';
import { parseDelay } from '../../functions/cli/commands/enqueue.ts';
import { ACCOUNT, REGION, startLocalSqs, type LocalSqs } from '../client/local-sqs.ts';
import { createStackQueue, jobs, type StackQueue } from './cli-harness.ts';

const STAGE = 'clisch';
const HOUR = 3_600_000;
const email = JSON.stringify({ to: 'ada@example.com', subject: 'Later', text: 'Hi' });
let offsetMs = 0;
let local: LocalSqs;
let queue: StackQueue;
let scheduler: LocalSchedulerServer;
let env: Record<string, string>;
let schedulerClient: SchedulerClient;

beforeAll(async () => {
  local = await startLocalSqs();
  queue = await createStackQueue(local, STAGE, 'default');
  await createStackQueue(local, STAGE, 'webhooks');
  scheduler = await startLocalSchedulerServer({
    port: 0,
    tickMs: 0,
    clock: { now: () => new Date(Date.now() + offsetMs) },
    groups: [scheduleGroupName(STAGE)],
    deliver: sqsDelivery(local.sqs, local.endpoint),
  });
  env = { AWS_ENDPOINT_URL_SCHEDULER: scheduler.endpoint };
  schedulerClient = new SchedulerClient({ endpoint: scheduler.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
});

afterAll(async () => {
  schedulerClient.destroy();
  await scheduler.close();
  await local.close();
});

beforeEach(async () => {
  offsetMs = 0;
  await local.drain(queue.url);
});

describe('delayed jobs from the CLI', () => {
  it('reads --delay as seconds or with a unit', () => {
    expect([parseDelay('90'), parseDelay('30m'), parseDelay('2h'), parseDelay('3d')]).toEqual([90, 1_800, 7_200, 259_200]);
    expect(() => parseDelay('2w')).toThrow(/--delay must be seconds or 30m/);
  });

  it('schedules a 2-hour delay, lists it with jobs schedules, and cancels it with jobs cancel', async () => {
    const sent = await jobs(local, STAGE, ['enqueue', 'send-email', email, '--delay', '2h', '--job-id', 'cli-later'], { env });
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/^scheduled send-email job cli-later for \S+ \(to the minute\) as j\.cli-later/);
    const listed = await jobs(local, STAGE, ['schedules'], { env });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('pending one-time jobs: 1');
    expect(listed.stdout).toMatch(/ {2}cli-later {2}send-email {2}at \d{4}-\d\d-\d\dT/);
    const cancelled = await jobs(local, STAGE, ['cancel', 'cli-later'], { env });
    expect([cancelled.code, cancelled.stdout.trim()]).toEqual([0, 'cancelled job cli-later']);
    const again = await jobs(local, STAGE, ['cancel', 'cli-later'], { env });
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('no pending delayed job cli-later');
    expect((await jobs(local, STAGE, ['schedules'], { env })).stdout).toContain('pending one-time jobs: 0');
  });

  it('fires a second one at its time (clock) and sends it once', async () => {
    const at = new Date(Date.now() + 3 * HOUR).toISOString();
    expect((await jobs(local, STAGE, ['enqueue', 'send-email', email, '--at', at, '--job-id', 'cli-fire'], { env })).code).toBe(0);
    offsetMs = 3 * HOUR + 60_000;
    expect(await scheduler.runDue()).toBe(1);
    expect(await scheduler.runDue()).toBe(0);
    const messages = await local.drain(queue.url);
    expect(messages.map((message) => JSON.parse(message.Body ?? '{}').jobId)).toEqual(['cli-fire']);
  });

  it('answers a job id already scheduled with the Scheduler conflict, as a clear error', async () => {
    await jobs(local, STAGE, ['enqueue', 'send-email', email, '--delay', '1d', '--job-id', 'cli-twice'], { env });
    const second = await jobs(local, STAGE, ['enqueue', 'send-email', email, '--delay', '2d', '--job-id', 'cli-twice'], { env });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('job "cli-twice" is already scheduled');
    await jobs(local, STAGE, ['cancel', 'cli-twice'], { env });
  });

  it("gives a delayed job the stage's Scheduler dead-letter queue when no variable names one", async () => {
    expect((await jobs(local, STAGE, ['enqueue', 'send-email', email, '--delay', '1h', '--job-id', 'cli-dlq'], { env })).code).toBe(0);
    const created = await schedulerClient.send(new GetScheduleCommand({ Name: 'j.cli-dlq', GroupName: scheduleGroupName(STAGE) }));
    expect(created.Target?.DeadLetterConfig?.Arn).toBe(`arn:aws:sqs:${REGION}:${ACCOUNT}:${schedulerDeadLetterQueueName(STAGE)}`);
    await jobs(local, STAGE, ['cancel', 'cli-dlq'], { env });
  });

  it('lists periodic schedules with their next three runs in their time zone', async () => {
    scheduler.store.create({
      Name: 'p.send-email.morning',
      GroupName: scheduleGroupName(STAGE),
      ScheduleExpression: 'cron(0 8 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: 'arn:aws:sqs:us-east-1:000000000000:x', RoleArn: 'arn:aws:iam::000000000000:role/r', Input: '{"type":"send-email"}' },
    });
    const listed = await jobs(local, STAGE, ['schedules'], { env });
    expect(listed.stdout).toContain('periodic schedules in serverless-jobs-clisch: 1');
    expect(listed.stdout).toMatch(
      /p\.send-email\.morning {2}cron\(0 8 \* \* \? \*\) {2}next: (\d{4}-\d\d-\d\d 08:00 Europe\/Berlin(, )?){3}/,
    );
    scheduler.store.delete('p.send-email.morning', scheduleGroupName(STAGE));
  });
});
