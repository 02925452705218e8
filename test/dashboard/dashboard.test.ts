/**
 * The dashboard in headless Chromium on the running local environment (real SQS endpoint, real workers in
 * sandboxes, real DogStatsD listener): the scenarios of issue 12, one behaviour per test, in order (each
 * builds on the queues the one before left).
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueDepth } from '../../functions/cli/commands/queues.ts';
import { runCli } from '../../functions/cli/main.ts';
import { createJobsClient, type JobsClient } from '../../functions/client/index.ts';
import { periodicSchedules } from '../../functions/dashboard/schedules.ts';
import { Collector, eventually, putDeadJobs } from '../cli/cli-harness.ts';
import { startLocalDashboard, type LocalDashboard } from './local-dashboard.ts';

interface Depth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

const MARKUP = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>';

describe('the dashboard on the local environment, in Chromium', () => {
  let world: LocalDashboard;
  let jobs: JobsClient;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    world = await startLocalDashboard();
    jobs = createJobsClient({
      sqs: world.env.client,
      queueUrls: { default: world.queue('default').url, webhooks: world.queue('webhooks').url },
    });
    world.page.on('pageerror', (error) => pageErrors.push(error.message));
    await world.page.goto(world.dashboard.url);
    await world.page.locator('#view-queues tr[data-queue="default"]').waitFor({ timeout: 30_000 });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  const deadLetterRow = (queue: string, text: string) =>
    world.page.locator(`section.dead-letters[data-queue="${queue}"] tr.dead-letter`).filter({ hasText: text });

  it('shows every queue with the counts `jobs queues --json` prints', async () => {
    // A delayed job and a dead letter, so the counts are not all zero.
    await world.env.client.send(
      new SendMessageCommand({
        QueueUrl: world.queue('default').url,
        MessageBody: JSON.stringify({ type: 'send-email', payload: {} }),
        DelaySeconds: 900,
      }),
    );
    await putDeadJobs(world.env.client, world.queue('default').deadLetter?.url ?? '', [{ type: 'send-email', jobId: 'counted' }]);
    const cli = async (): Promise<string[][]> => {
      const stdout = new Collector();
      const code = await runCli(['queues', '--json', '--endpoint', world.env.sqs.endpoint, '--stage', 'local'], {
        stdout,
        stderr: new Collector(),
        env: {},
      });
      expect(code).toBe(0);
      const rows = JSON.parse(stdout.text) as { queue: string; depth: Depth; deadLetter: Depth }[];
      return rows.map((row) => [
        row.queue,
        ...[row.depth.visible, row.depth.inFlight, row.depth.delayed, row.deadLetter.visible, row.deadLetter.inFlight].map(String),
      ]);
    };
    const shown = async (): Promise<string[][]> => {
      const rows = await world.page.locator('#view-queues table.grid tbody tr').all();
      return Promise.all(
        rows.map(async (row) => (await row.locator('td').allTextContents()).filter((_, index) => index !== 1 && index < 7)),
      );
    };
    // Both read the same SQS attributes; a dashboard peek at the DLQ moves a message to "in flight" for a moment.
    let last: [string[][], string[][]] = [[], []];
    await eventually(async () => {
      last = [await shown(), await cli()];
      return JSON.stringify(last[0]) === JSON.stringify(last[1]);
    }, 15_000).catch(() => undefined);
    expect(last[0]).toEqual(last[1]);
    expect(last[1].map((row) => row[0])).toEqual(['default', 'webhooks']);
    expect(last[1][0]?.[3]).toBe('1');
    await world.screenshot('queues');
  });

  it('shows a message dead-lettered while the page is open within 3 s, with its reason', async () => {
    await world.page.goto(`${world.dashboard.url}#dead-letters`);
    await jobs.enqueue('deliver-webhook', { url: `${world.peerUrl}/hook/refused` });
    const dlqUrl = world.queue('webhooks').deadLetter?.url ?? '';
    await eventually(async () => (await queueDepth({ sqs: world.env.client }, dlqUrl)).visible >= 1, 60_000);
    await deadLetterRow('webhooks', 'permanent_error').waitFor({ timeout: 3000 });
    expect(await deadLetterRow('webhooks', 'permanent_error').locator('td').nth(1).textContent()).toBe('deliver-webhook');
    await world.screenshot('dead-letters');
  }, 90_000);

  it('redrives the selected message back to its queue, where it is processed', async () => {
    world.refusing = false;
    const row = deadLetterRow('webhooks', 'permanent_error');
    await row.locator('input.select').check();
    await world.page.locator('section.dead-letters[data-queue="webhooks"] button.redrive-selected').click();
    await world.page.locator('section.dead-letters[data-queue="webhooks"] .result.ok').waitFor({ timeout: 30_000 });
    await eventually(async () => world.delivered.has('/hook/refused'), 60_000);
    await row.waitFor({ state: 'detached', timeout: 30_000 });
    expect(world.delivered.has('/hook/refused')).toBe(true);
  }, 120_000);

  it('shows a body full of markup as text, and runs none of it', async () => {
    await world.env.client.send(new SendMessageCommand({ QueueUrl: world.queue('webhooks').url, MessageBody: MARKUP }));
    const row = deadLetterRow('webhooks', 'invalid_json');
    await row.waitFor({ timeout: 60_000 });
    await row.locator('button.show-body').click();
    const body = world.page.locator('section.dead-letters[data-queue="webhooks"] pre.message-body');
    await body.waitFor({ timeout: 10_000 });
    expect(await body.textContent()).toBe(MARKUP);
    expect(await world.page.locator('#view-dead-letters img, #view-dead-letters b, #view-dead-letters script').count()).toBe(0);
    expect(await world.page.evaluate('window.__pwned')).toBeUndefined();
    expect(pageErrors).toEqual([]);
    await world.screenshot('dead-letter-body');
  }, 90_000);

  it('refuses to purge until the queue name is typed', async () => {
    const section = world.page.locator('section.dead-letters[data-queue="webhooks"]');
    await section.locator('input.purge-confirm').fill('webhook');
    expect(await section.locator('button.purge').isDisabled()).toBe(true);
    const answer = await world.page.evaluate(`(async () => {
      const token = document.querySelector('meta[name="dashboard-token"]').content;
      const response = await fetch('/api/actions/purge', { method: 'POST', headers: { 'content-type': 'application/json', 'x-dashboard-token': token }, body: JSON.stringify({ queue: 'webhooks', confirm: 'webhook' }) });
      return response.status;
    })()`);
    expect(answer).toBe(400);
    expect((await queueDepth({ sqs: world.env.client }, world.queue('webhooks').deadLetter?.url ?? '')).visible).toBeGreaterThan(0);
  });

  it('purges the DLQ once its queue name is typed', async () => {
    const section = world.page.locator('section.dead-letters[data-queue="webhooks"]');
    await section.locator('input.purge-confirm').fill('webhooks');
    await section.locator('button.purge').click();
    await section.locator('.result.ok').filter({ hasText: 'purged' }).waitFor({ timeout: 10_000 });
    const depth = () => queueDepth({ sqs: world.env.client }, world.queue('webhooks').deadLetter?.url ?? '');
    await eventually(async () => (await depth()).visible === 0);
    expect(await depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('filters dead letters by reason and redrives all that match, and only those', async () => {
    await world.page.goto(`${world.dashboard.url}#dead-letters`);
    await putDeadJobs(world.env.client, world.queue('default').deadLetter?.url ?? '', [
      { type: 'send-email', jobId: 'filtered-in', reason: 'invalid_payload' },
      { type: 'send-email', jobId: 'filtered-out', reason: 'permanent_error' },
    ]);
    const section = world.page.locator('section.dead-letters[data-queue="default"]');
    await eventually(async () => (await section.locator('tr.dead-letter').count()) === 3, 30_000);
    await section.locator('select.filter-reason').selectOption('invalid_payload');
    expect(await section.locator('tr.dead-letter').count()).toBe(1);
    await section.locator('button.redrive-matching').click();
    const result = section.locator('.result.ok');
    await result.waitFor({ timeout: 30_000 }).catch(async (error: unknown) => {
      throw new Error(`no redrive result: the page says "${await section.locator('.result').textContent()}"`, { cause: error });
    });
    expect(await result.textContent()).toMatch(/^redrove 1 message\(s\) from serverless-jobs-local-default-dlq/);
  }, 90_000);

  it('refuses an action from the page without its token', async () => {
    const status = await world.page.evaluate(`(async () => {
      const response = await fetch('/api/actions/purge', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ queue: 'default', confirm: 'default' }) });
      return response.status;
    })()`);
    expect(status).toBe(403);
  });

  it("shows the Schedules view with the catalog's periodic schedules for the stage", async () => {
    await world.page.goto(`${world.dashboard.url}#schedules`);
    await world.page.locator('#view-schedules h2').waitFor({ timeout: 10_000 });
    expect(await world.page.locator('nav a.tab[href="#schedules"]').isVisible()).toBe(true);
    expect(await world.page.locator('#view-schedules tr.schedule').count()).toBe(periodicSchedules('local').length);
    await world.screenshot('schedules');
  });

  it('moves the worker charts while jobs run', async () => {
    await world.page.goto(`${world.dashboard.url}#workers`);
    const worker = world.page.locator(`section.worker[data-worker="${world.queue('default').functionName}"]`);
    const chart = worker.locator('.chart').first();
    const points = async (): Promise<number> => Number(await chart.getAttribute('data-points'));
    const invocations = async (): Promise<number> => Number(/(\d+)/.exec((await worker.locator('.invocations').textContent()) ?? '')?.[1]);
    await jobs.enqueue('send-email', { to: 'chart-0@example.com', subject: 'chart', text: 'a chart point' });
    await chart.waitFor({ timeout: 60_000 });
    const before = { points: await points(), invocations: await invocations() };
    for (let wave = 1; wave <= 3; wave += 1) {
      await jobs.enqueue('send-email', { to: `chart-${wave}@example.com`, subject: 'chart', text: 'a chart point' });
      await eventually(async () => (await invocations()) >= before.invocations + wave, 30_000);
    }
    expect(await invocations()).toBeGreaterThanOrEqual(before.invocations + 3);
    expect(await points()).toBeGreaterThan(before.points);
    await world.screenshot('workers');
    await world.page.goto(`${world.dashboard.url}#activity`);
    await world.page.locator('#view-activity table.grid tbody tr').first().waitFor();
    await world.screenshot('activity');
  }, 90_000);
});
