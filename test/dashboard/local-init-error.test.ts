/**
 * After a worker whose module fails to load, the dashboard's Workers view and `npm start`'s live view count
 * the same invocations and cold starts: Lambda's meaning, where an init error is an invocation and a cold
 * start (the real local environment, the fixture template, a worker entry that throws at import).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalSource, type LocalSource } from '../../functions/dashboard/local-source.ts';
import { startLocalEnvironment, type LocalEnvironment } from '../../functions/local/environment.ts';
import type { InvocationReport } from '../../functions/local/event-source.ts';
import { startLiveView } from '../../functions/local/live-view.ts';
import { eventually } from '../cli/cli-harness.ts';
import { fixtureTemplate } from '../local/fixtures/stack-template.ts';

const THROWING_HANDLER = fileURLToPath(new URL('../local/fixtures/throwing-handler.ts', import.meta.url));

describe('invocation counts after a worker module fails to load', () => {
  let dir: string;
  let env: LocalEnvironment;
  let source: LocalSource;
  const reports: InvocationReport[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dashboard-init-error-'));
    env = await startLocalEnvironment({
      sqsPort: 0,
      dogstatsdPort: 0,
      localDir: dir,
      // One receive: the record goes to the DLQ after its first init error, so the counts stop moving.
      source: { template: fixtureTemplate({ maxReceiveCount: 1 }) },
      entryFor: () => THROWING_HANDLER,
      waitTimeSeconds: 1,
      applyToProcessEnv: false,
      onInvocation: (report) => reports.push(report),
      onLog: () => undefined,
      onNotice: () => undefined,
    });
    source = createLocalSource(env, { refreshMs: 500, oneTimeEveryMs: 0 });
    const queue = env.queues.get('jobs');
    await env.client.send(new SendMessageCommand({ QueueUrl: queue?.url, MessageBody: JSON.stringify({ do: 'ok' }) }));
    const deadLetterUrl = queue?.deadLetter?.url;
    await eventually(async () => {
      const { Messages = [] } = await env.client.send(
        new ReceiveMessageCommand({ QueueUrl: deadLetterUrl, WaitTimeSeconds: 1, VisibilityTimeout: 0 }),
      );
      return Messages.length > 0;
    }, 30_000);
  }, 60_000);

  afterAll(async () => {
    await source?.close();
    await env?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('are the same in the dashboard and the live view, each init error an invocation and a cold start', async () => {
    expect(reports.map((report) => report.status)).toEqual(['init_error']);
    let live = '';
    const view = startLiveView(env, { tty: false, header: [], intervalMs: 60_000, write: (text) => (live += text) });
    await view.stop();
    const snapshot = await source.snapshot(false);
    const shown =
      snapshot.workers.kind === 'local' ? snapshot.workers.workers.find((worker) => worker.functionName === 'fx-worker') : undefined;
    const counted = env.workers.find((worker) => worker.functionName === 'fx-worker')?.counts();

    expect({ invocations: shown?.invocations, coldStarts: shown?.coldStarts }).toEqual({ invocations: 1, coldStarts: 1 });
    expect({ invocations: counted?.invocations, coldStarts: counted?.coldStarts }).toEqual({ invocations: 1, coldStarts: 1 });
    expect(live).toContain('jobs: 0 visible, 0 in flight, 0 delayed, DLQ 1, 1 invocations');
  });
});
