/**
 * `jobs ui --stage local --endpoint <local SQS>`: the dashboard for a stage, served by the CLI, on the running
 * local environment's SQS endpoint (no CloudWatch there: the workers view says so). Read-only by default.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../functions/cli/main.ts';
import { startLocalEnvironment, type LocalEnvironment } from '../../functions/local/environment.ts';
import { Collector, eventually, putDeadJobs } from '../cli/cli-harness.ts';
import { launchChromium, type TestBrowser } from './browser.ts';
import { ask, pageToken } from './http.ts';

/**
 * Receives a message the way a worker that dies mid-batch does (never deleting it) until SQS's redrive policy moves it
 * to the DLQ with no reason attached. Resolves with the policy's maxReceiveCount.
 */
async function crashUntilSqsMovesIt(sqs: SQSClient, queueUrl: string, jobId: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
  const maxReceiveCount = Number((JSON.parse(Attributes.RedrivePolicy ?? '{}') as { maxReceiveCount?: number }).maxReceiveCount);
  const body = JSON.stringify({ type: 'deliver-webhook', payload: { url: 'http://127.0.0.1:9/' }, jobId });
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  for (let receive = 0; receive <= maxReceiveCount; receive++) {
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 0, WaitTimeSeconds: 0, MaxNumberOfMessages: 10 }));
  }
  return maxReceiveCount;
}

describe('jobs ui for a stage, through --endpoint', () => {
  let dir: string;
  let env: LocalEnvironment;
  let browser: TestBrowser;
  let page: Page;
  let port = 0;
  let maxReceiveCount = 0;
  const stdout = new Collector();
  const stop = new AbortController();
  let exited: Promise<number>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobs-ui-'));
    env = await startLocalEnvironment({
      sqsPort: 0,
      dogstatsdPort: 0,
      localDir: dir,
      applyToProcessEnv: false,
      startWorkers: false,
      onNotice: () => undefined,
    });
    await putDeadJobs(env.client, env.queues.get('webhooks')?.deadLetter?.url ?? '', [
      { type: 'deliver-webhook', jobId: 'listed', reason: 'retries_exhausted' },
    ]);
    maxReceiveCount = await crashUntilSqsMovesIt(env.client, env.queues.get('webhooks')?.url ?? '', 'crashed-1');
    exited = runCli(['ui', '--stage', 'local', '--endpoint', env.sqs.endpoint, '--port', '0'], {
      stdout,
      stderr: new Collector(),
      env: {},
      signal: stop.signal,
    });
    await eventually(async () => /dashboard http:\/\/127\.0\.0\.1:\d+\//.test(stdout.text), 30_000);
    port = Number(/127\.0\.0\.1:(\d+)/.exec(stdout.text)?.[1]);
    browser = await launchChromium();
    page = await browser.browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/#dead-letters`);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    stop.abort();
    await exited;
    await env?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints its address and says it is read-only', () => {
    expect(stdout.text).toMatch(/^dashboard http:\/\/127\.0\.0\.1:\d+\/\n/);
    expect(stdout.text).toContain('read-only (--allow-actions to redrive, delete, purge)');
  });

  it("lists the stage's dead letters with their reason", async () => {
    const row = page.locator('section.dead-letters[data-queue="webhooks"] tr.dead-letter').filter({ hasText: 'retries_exhausted' });
    await row.waitFor({ timeout: 30_000 });
    expect(await row.locator('td').nth(1).textContent()).toBe('deliver-webhook');
  });

  it('shows a dead letter SQS moved as crashed, with the receive count and what it means', async () => {
    const row = page.locator('section.dead-letters[data-queue="webhooks"] tr.dead-letter').filter({ hasText: 'crashed' });
    await row.waitFor({ timeout: 30_000 });
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(1, 5)).toEqual([
      'deliver-webhook',
      'crashed',
      `moved by SQS after ${maxReceiveCount} receives: the worker crashed, timed out or ran out of memory`,
      String(maxReceiveCount),
    ]);
  });

  it('disables the actions on the page', async () => {
    const button = page.locator('section.dead-letters[data-queue="webhooks"] button.redrive-selected');
    await button.waitFor();
    expect(await button.isDisabled()).toBe(true);
  });

  it('refuses an action even with the Origin and token of the page', async () => {
    const answer = await ask(port, {
      method: 'POST',
      path: '/api/actions/purge',
      origin: `http://127.0.0.1:${port}`,
      token: await pageToken(port),
      body: JSON.stringify({ queue: 'webhooks', confirm: 'webhooks' }),
    });
    expect(answer.status).toBe(403);
  });

  it('says the workers come from CloudWatch, which a local endpoint has not', async () => {
    await page.goto(`http://127.0.0.1:${port}/#workers`);
    const problem = page.locator('#view-workers .problem').filter({ hasText: 'no CloudWatch' });
    await problem.waitFor({ timeout: 10_000 });
    expect(await problem.textContent()).toContain('worker metrics are read from AWS only');
  });

  it('says so when the data source stops answering', async () => {
    await env.sqs.close();
    const status = page.locator('#source-status').filter({ hasText: 'does not answer' });
    await status.waitFor({ timeout: 30_000 });
    expect(await status.textContent()).toContain(`local SQS at ${env.sqs.endpoint}`);
  });

  it('stops on Ctrl-C with exit code 0', async () => {
    stop.abort();
    expect(await exited).toBe(0);
  });
});

describe('jobs ui, given a dashboard port variable that is not a port', () => {
  it('refuses it with the message npm start gives, and exit code 2', async () => {
    const stderr = new Collector();
    const code = await runCli(['ui', '--stage', 'local', '--endpoint', 'http://127.0.0.1:9'], {
      stdout: new Collector(),
      stderr,
      env: { LOCAL_DASHBOARD_PORT: 'ninety' },
    });
    expect(code).toBe(2);
    expect(stderr.text).toContain('LOCAL_DASHBOARD_PORT=ninety is not a port number (0-65535)');
  });
});
