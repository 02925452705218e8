/**
 * The local dashboard's Schedules data: a job enqueued on the local environment with a delay beyond SQS's
 * 15 minutes is a one-time schedule on the environment's Scheduler endpoint; the local source lists it and
 * cancels it with the stage's reader, and says so in a problem line when the Scheduler does not answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetScheduleCommand, ResourceNotFoundException, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsClient, type JobsClient } from '../../functions/client/client.ts';
import { createLocalSource, type LocalSource } from '../../functions/dashboard/local-source.ts';
import { startLocalEnvironment, type LocalEnvironment } from '../../functions/local/environment.ts';
import { scheduleGroupName } from '../../functions/scheduling/names.ts';

describe('the local dashboard source: pending one-time jobs of the local Scheduler', () => {
  let dir: string;
  let env: LocalEnvironment;
  let source: LocalSource;
  let jobs: JobsClient;
  let scheduler: SchedulerClient;
  let scheduleName: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dashboard-one-time-'));
    env = await startLocalEnvironment({
      sqsPort: 0,
      dogstatsdPort: 0,
      localDir: dir,
      applyToProcessEnv: false,
      waitTimeSeconds: 1,
      onLog: () => undefined,
      onNotice: () => undefined,
    });
    source = createLocalSource(env, { refreshMs: 500, oneTimeEveryMs: 0 });
    scheduler = env.scheduler.createClient();
    jobs = createJobsClient({ sqs: env.sqs.createClient(), env: env.env, scheduler });
    const sent = await jobs.enqueue(
      'send-email',
      { to: 'ada@example.com', subject: 'in two hours', text: 'hello' },
      { delaySeconds: 2 * 60 * 60 },
    );
    scheduleName = sent.scheduleName ?? '';
  }, 120_000);
  afterAll(async () => {
    await source?.close();
    scheduler?.destroy();
    await env?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists a job delayed by two hours as a cancellable one-time schedule', async () => {
    expect(scheduleName).not.toBe('');
    const snapshot = await source.snapshot(false);
    const view = snapshot.schedules?.find((schedule) => schedule.name === scheduleName);
    expect(view).toMatchObject({ kind: 'one-time', cancellable: true });
    expect(view?.expression).toMatch(/^at\(/);
    expect(snapshot.schedulesProblem).toBeUndefined();
  });

  it('cancels it: the schedule is deleted and no longer listed', async () => {
    expect(source.cancelSchedule).toBeDefined();
    const answer = await source.cancelSchedule?.(scheduleName);
    expect(answer?.ok).toBe(true);
    await expect(
      scheduler.send(new GetScheduleCommand({ Name: scheduleName, GroupName: scheduleGroupName('local') })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    const snapshot = await source.snapshot(false);
    expect(snapshot.schedules?.some((schedule) => schedule.name === scheduleName)).toBe(false);
  });

  it('shows a problem line, not an empty list in silence, when the Scheduler does not answer', async () => {
    await env.scheduler.close();
    const snapshot = await source.snapshot(false);
    expect(snapshot.schedulesProblem).toMatch(/^EventBridge Scheduler did not answer \(.+\); pending one-time jobs are not shown/);
    expect(snapshot.schedules?.every((schedule) => schedule.kind === 'periodic')).toBe(true);
  });
});
