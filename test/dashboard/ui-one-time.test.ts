/**
 * `jobs ui --allow-actions` with a stage's Scheduler (the local EventBridge Scheduler endpoint, through
 * AWS_ENDPOINT_URL_SCHEDULER): a pending one-time job is listed in Schedules, and Cancel deletes its schedule.
 */
import { CreateScheduleCommand, GetScheduleCommand, ResourceNotFoundException, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../functions/cli/main.ts';
import { sqsDelivery, startLocalSchedulerServer, type LocalSchedulerServer } from '../../functions/local/scheduler-server.ts';
import { startLocalSqsServer, type LocalSqsServer } from '../../functions/local/sqs-server.ts';
import { oneTimeScheduleName, scheduleGroupName } from '../../functions/scheduling/names.ts';
import { Collector, createStackQueue, eventually } from '../cli/cli-harness.ts';
import { launchChromium, type TestBrowser } from './browser.ts';

const NAME = oneTimeScheduleName('welcome-ada');

describe('jobs ui with the Scheduler of a stage: pending one-time jobs', () => {
  let sqs: LocalSqsServer;
  let scheduler: LocalSchedulerServer;
  let client: SchedulerClient;
  let browser: TestBrowser;
  let page: Page;
  const stop = new AbortController();
  let exited: Promise<number>;
  const stdout = new Collector();

  beforeAll(async () => {
    sqs = await startLocalSqsServer({ port: 0 });
    const sqsClient = sqs.createClient();
    const local = { endpoint: sqs.endpoint, sqs: sqsClient, queueUrl: (name: string) => sqs.queueUrl(name) };
    await createStackQueue(
      {
        ...local,
        newClient: () => sqs.createClient(),
        createQueue: async () => '',
        counts: async () => ({ visible: 0, inFlight: 0, delayed: 0 }),
        drain: async () => [],
        close: async () => undefined,
      },
      'local',
      'default',
    );
    await createStackQueue(
      {
        ...local,
        newClient: () => sqs.createClient(),
        createQueue: async () => '',
        counts: async () => ({ visible: 0, inFlight: 0, delayed: 0 }),
        drain: async () => [],
        close: async () => undefined,
      },
      'local',
      'webhooks',
    );
    scheduler = await startLocalSchedulerServer({
      port: 0,
      deliver: sqsDelivery(sqsClient, sqs.endpoint),
      groups: [scheduleGroupName('local')],
      tickMs: 0,
    });
    client = scheduler.createClient();
    await client.send(
      new CreateScheduleCommand({
        Name: NAME,
        GroupName: scheduleGroupName('local'),
        ScheduleExpression: 'at(2030-01-01T08:00:00)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: sqs.queueArn('serverless-jobs-local-default'),
          RoleArn: 'arn:aws:iam::000000000000:role/scheduler',
          Input: '{"type":"send-email","payload":{}}',
        },
      }),
    );
    exited = runCli(['ui', '--stage', 'local', '--endpoint', sqs.endpoint, '--port', '0', '--allow-actions'], {
      stdout,
      stderr: new Collector(),
      env: { AWS_ENDPOINT_URL_SCHEDULER: scheduler.endpoint },
      signal: stop.signal,
    });
    await eventually(async () => /dashboard http:\/\/127\.0\.0\.1:\d+\//.test(stdout.text), 30_000);
    browser = await launchChromium();
    page = await browser.browser.newPage();
    await page.goto(`http://127.0.0.1:${/127\.0\.0\.1:(\d+)/.exec(stdout.text)?.[1]}/#schedules`);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    stop.abort();
    await exited;
    client?.destroy();
    await scheduler?.close();
    await sqs?.close();
  });

  it('lists the pending one-time job with its run time', async () => {
    const row = page.locator(`#view-schedules tr.schedule[data-schedule="${NAME}"]`);
    await row.waitFor({ timeout: 30_000 });
    expect(await row.locator('td').nth(4).textContent()).toBe('2030-01-01 08:00');
  });

  it('cancels it: the schedule is deleted', async () => {
    await page.locator(`#view-schedules tr.schedule[data-schedule="${NAME}"] button.cancel`).click();
    await page.locator('#view-schedules .result.ok').waitFor({ timeout: 10_000 });
    await expect(client.send(new GetScheduleCommand({ Name: NAME, GroupName: scheduleGroupName('local') }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });
});
