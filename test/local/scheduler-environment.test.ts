/**
 * EventBridge Scheduler on the local environment: the template's periodic schedule (send-email's demo, stage
 * local) fired by the local Scheduler with an injected clock, each occurrence delivered twice (the Scheduler is
 * at-least-once) and run once by the idempotent job; and the producers' variables for one-time schedules.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageKey } from '../../functions/jobs/email-transport.ts';
import { startLocalEnvironment, type LocalEnvironment } from '../../functions/local/environment.ts';
import { startLiveView } from '../../functions/local/live-view.ts';
import { METRIC, TAG } from '../../functions/runtime/metric-names.ts';

let now = new Date('2026-12-07T10:00:00Z');
/** The outbox file of the demo-heartbeat occurrence scheduled at `time`. */
const occurrence = (time: string): string => `${messageKey({ jobId: `p.send-email.demo-heartbeat@${time}`, messageId: '' })}.eml`;
let env: LocalEnvironment;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'scheduler-environment-'));
  env = await startLocalEnvironment({
    sqsPort: 0,
    dogstatsdPort: 0,
    localDir: dir,
    applyToProcessEnv: false,
    waitTimeSeconds: 1,
    onLog: () => undefined,
    scheduler: { clock: { now: () => now }, tickMs: 0, deliveriesPerOccurrence: 2 },
  });
});

afterAll(async () => {
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('periodic schedules on the local environment', () => {
  it('come from the synthesized template, in the stage group', () => {
    const schedules = env.scheduler.store.list({ groupName: 'serverless-jobs-local' });
    expect(schedules.map((schedule) => [schedule.name, schedule.expression.text])).toEqual([
      ['p.send-email.demo-heartbeat', 'rate(1 minute)'],
    ]);
    expect(schedules[0]?.target.Arn).toBe(env.queues.get('default')?.arn);
  });

  it('fire once per occurrence by the clock, and a job delivered twice runs once', async () => {
    expect(await env.scheduler.runDue()).toBe(2);
    now = new Date(now.getTime() + 60_000);
    expect(await env.scheduler.runDue()).toBe(2);
    expect(await env.scheduler.runDue()).toBe(0);
    await env.listener.waitFor(METRIC.processed, 4, { timeoutMs: 60_000 });
    // The second copy is acknowledged as a duplicate, or retried while the first holds the lease, then a duplicate.
    const outcomes = Object.fromEntries(env.listener.countBy(METRIC.processed, TAG.outcome));
    expect(outcomes.success).toBe(2);
    expect(outcomes.dead).toBeUndefined();
    expect((outcomes.duplicate ?? 0) + (outcomes.retry ?? 0)).toBeGreaterThanOrEqual(2);
    const emails = readdirSync(env.outboxDir).filter((file) => file.endsWith('.eml'));
    expect(emails.toSorted()).toEqual([occurrence('2026-12-07T10:00:00Z'), occurrence('2026-12-07T10:01:00Z')].toSorted());
  });

  it("show in npm start's live view as scheduled deliveries", async () => {
    let output = '';
    const view = startLiveView(env, { tty: false, header: [], intervalMs: 60_000, write: (text) => (output += text) });
    await view.stop();
    expect(output).toContain('scheduler 4 delivered (periodic 4, one-time 0), 0 failed');
  });

  it('hand producers the Scheduler endpoint, group, role and DLQ for one-time schedules', () => {
    expect(env.env).toMatchObject({
      AWS_ENDPOINT_URL_SCHEDULER: env.scheduler.endpoint,
      JOBS_SCHEDULE_GROUP: 'serverless-jobs-local',
      JOBS_SCHEDULER_DLQ_ARN: expect.stringMatching(/:serverless-jobs-local-scheduler-dlq$/),
    });
    expect(env.env.JOBS_SCHEDULER_ROLE_ARN).toMatch(/^arn:aws:iam::/);
  });
});
