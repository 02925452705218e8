/**
 * The local EventBridge Scheduler endpoint, driven by the real @aws-sdk/client-scheduler, delivering into a real
 * local SQS, with an injected clock.
 */
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  ValidationException,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PortInUseError } from '../../functions/local/local-server.ts';
import { sqsDelivery, startLocalSchedulerServer, type LocalSchedulerServer } from '../../functions/local/scheduler-server.ts';
import { startLocalSqs, type LocalSqs } from '../client/local-sqs.ts';

const GROUP = 'serverless-jobs-test';
let now = new Date('2026-12-07T10:00:00Z');
const clock = { now: () => now };
let sqs: LocalSqs;
let server: LocalSchedulerServer;
let client: SchedulerClient;
let queueUrl: string;
let queueArn: string;

function schedule(name: string, expression: string, input: string, extra: Record<string, unknown> = {}) {
  return new CreateScheduleCommand({
    Name: name,
    GroupName: GROUP,
    ScheduleExpression: expression,
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Arn: queueArn, RoleArn: 'arn:aws:iam::000000000000:role/scheduler', Input: input },
    ...extra,
  });
}

beforeAll(async () => {
  sqs = await startLocalSqs();
  queueUrl = await sqs.createQueue('scheduler-target');
  queueArn = `arn:aws:sqs:us-east-1:000000000000:scheduler-target`;
  server = await startLocalSchedulerServer({ port: 0, clock, tickMs: 0, groups: [GROUP], deliver: sqsDelivery(sqs.sqs, sqs.endpoint) });
  client = server.createClient();
});

afterAll(async () => {
  client.destroy();
  await server.close();
  await sqs.close();
});

beforeEach(async () => {
  now = new Date('2026-12-07T10:00:00Z');
  for (const { Name } of (await client.send(new ListSchedulesCommand({ GroupName: GROUP }))).Schedules ?? []) {
    await client.send(new DeleteScheduleCommand({ Name, GroupName: GROUP }));
  }
  await sqs.drain(queueUrl);
});

describe('the local Scheduler endpoint', () => {
  it('creates, describes, lists and deletes a schedule through the real SDK', async () => {
    const { ScheduleArn } = await client.send(
      schedule('j.job-1', 'at(2026-12-07T12:00:00)', '{"jobId":"job-1"}', { ActionAfterCompletion: 'DELETE' }),
    );
    expect(ScheduleArn).toBe(`arn:aws:scheduler:us-east-1:000000000000:schedule/${GROUP}/j.job-1`);
    const described = await client.send(new GetScheduleCommand({ Name: 'j.job-1', GroupName: GROUP }));
    expect(described).toMatchObject({
      Name: 'j.job-1',
      GroupName: GROUP,
      ScheduleExpression: 'at(2026-12-07T12:00:00)',
      ActionAfterCompletion: 'DELETE',
      Target: { Arn: queueArn, Input: '{"jobId":"job-1"}' },
    });
    expect(described.CreationDate).toEqual(now);
    const listed = await client.send(new ListSchedulesCommand({ GroupName: GROUP, NamePrefix: 'j.' }));
    expect(listed.Schedules?.map((entry) => entry.Name)).toEqual(['j.job-1']);
    await client.send(new DeleteScheduleCommand({ Name: 'j.job-1', GroupName: GROUP }));
    expect((await client.send(new ListSchedulesCommand({ GroupName: GROUP }))).Schedules).toEqual([]);
  });

  it('answers a name that exists with ConflictException', async () => {
    await client.send(schedule('j.twice', 'at(2026-12-07T12:00:00)', '{}'));
    await expect(client.send(schedule('j.twice', 'at(2026-12-07T13:00:00)', '{}'))).rejects.toThrow(ConflictException);
  });

  it('answers a schedule or group that does not exist with ResourceNotFoundException', async () => {
    await expect(client.send(new GetScheduleCommand({ Name: 'j.none', GroupName: GROUP }))).rejects.toThrow(ResourceNotFoundException);
    await expect(client.send(new DeleteScheduleCommand({ Name: 'j.none', GroupName: GROUP }))).rejects.toThrow(ResourceNotFoundException);
    await expect(
      client.send(new CreateScheduleCommand({ ...schedule('j.x', 'rate(5 minutes)', '{}').input, GroupName: 'no-such-group' })),
    ).rejects.toThrow(ResourceNotFoundException);
  });

  it('answers a malformed expression and a time in the past with ValidationException', async () => {
    await expect(client.send(schedule('j.bad', 'cron(0 8 * * *)', '{}'))).rejects.toThrow(ValidationException);
    await expect(client.send(schedule('j.bad', 'cron(0 8 * * *)', '{}'))).rejects.toThrow(/six fields/);
    await expect(client.send(schedule('j.past', 'at(2026-12-07T09:00:00)', '{}'))).rejects.toThrow(ValidationException);
    await expect(client.send(schedule('j.past', 'at(2026-12-07T09:00:00)', '{}'))).rejects.toThrow(/in the past/);
  });

  it('delivers a one-time schedule at its time (injected clock) and deletes it after', async () => {
    await client.send(schedule('j.later', 'at(2026-12-07T12:00:00)', '{"type":"x","jobId":"later"}', { ActionAfterCompletion: 'DELETE' }));
    now = new Date('2026-12-07T11:59:00Z');
    expect(await server.runDue()).toBe(0);
    now = new Date('2026-12-07T12:00:30Z');
    expect(await server.runDue()).toBe(1);
    const messages = await sqs.drain(queueUrl);
    expect(messages.map((message) => message.Body)).toEqual(['{"type":"x","jobId":"later"}']);
    await expect(client.send(new GetScheduleCommand({ Name: 'j.later', GroupName: GROUP }))).rejects.toThrow(ResourceNotFoundException);
  });

  it('fills in the scheduled time of each occurrence of a periodic schedule', async () => {
    await client.send(schedule('p.tick', 'cron(0/15 * * * ? *)', '{"jobId":"tick@<aws.scheduler.scheduled-time>"}'));
    now = new Date('2026-12-07T10:31:00Z');
    expect(await server.runDue()).toBe(2);
    expect(await server.runDue()).toBe(0);
    const bodies = (await sqs.drain(queueUrl)).map((message) => message.Body).toSorted();
    expect(bodies).toEqual(['{"jobId":"tick@2026-12-07T10:15:00Z"}', '{"jobId":"tick@2026-12-07T10:30:00Z"}']);
  });

  it('counts what it delivered: periodic occurrences, one-time jobs and failed deliveries', async () => {
    const counting = await startLocalSchedulerServer({
      port: 0,
      clock,
      tickMs: 0,
      groups: [GROUP],
      deliver: async (delivery) => {
        if (delivery.scheduleName === 'p.broken') throw new Error('the target queue does not exist');
      },
    });
    const counter = counting.createClient();
    try {
      await counter.send(schedule('p.tick', 'cron(0/15 * * * ? *)', '{}'));
      await counter.send(schedule('p.broken', 'cron(0/30 * * * ? *)', '{}'));
      await counter.send(schedule('j.later', 'at(2026-12-07T10:20:00)', '{}', { ActionAfterCompletion: 'DELETE' }));
      now = new Date('2026-12-07T10:31:00Z');
      await counting.runDue();
      expect(counting.deliveries()).toEqual({ periodic: 2, oneTime: 1, failed: 1, deadLettered: 0 });
    } finally {
      counter.destroy();
      await counting.close();
    }
  });

  it("puts a delivery that failed on the schedule's dead-letter queue, with the Scheduler's attributes", async () => {
    const dlqUrl = await sqs.createQueue('scheduler-dlq');
    const missingQueueArn = 'arn:aws:sqs:us-east-1:000000000000:no-such-queue';
    await client.send(
      new CreateScheduleCommand({
        Name: 'j.lost',
        GroupName: GROUP,
        ScheduleExpression: 'at(2026-12-07T10:20:00)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: missingQueueArn,
          RoleArn: 'arn:aws:iam::000000000000:role/scheduler',
          Input: '{"type":"x","jobId":"lost"}',
          DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:000000000000:scheduler-dlq' },
        },
      }),
    );
    now = new Date('2026-12-07T10:21:00Z');
    expect(await server.runDue()).toBe(0);
    const [dead, ...more] = await sqs.drain(dlqUrl);
    expect(more).toEqual([]);
    expect(dead?.Body).toBe('{"type":"x","jobId":"lost"}');
    const attribute = (name: string) => dead?.MessageAttributes?.[name]?.StringValue;
    expect([attribute('TARGET_ARN'), attribute('SCHEDULED_TIME'), attribute('RETRY_ATTEMPTS')]).toEqual([
      missingQueueArn,
      '2026-12-07T10:20:00Z',
      '0',
    ]);
    expect(attribute('SCHEDULE_ARN')).toMatch(/:schedule\/serverless-jobs-test\/j\.lost$/);
    expect(attribute('ERROR_MESSAGE')).toMatch(/queue/i);
    expect(server.deliveries()).toMatchObject({ failed: 1, deadLettered: 1 });
  });

  it('says which variable moves its port when the port is taken', async () => {
    const second = startLocalSchedulerServer({ port: server.port, deliver: async () => undefined });
    await expect(second).rejects.toBeInstanceOf(PortInUseError);
    await expect(startLocalSchedulerServer({ port: server.port, deliver: async () => undefined })).rejects.toThrow(
      /LOCAL_SCHEDULER_PORT=<port>/,
    );
  });
});
