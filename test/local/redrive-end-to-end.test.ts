/**
 * The operator's loop, end to end on the local environment: a peer that refuses jobs sends them to the DLQ,
 * the peer is fixed, `jobs dlq redrive` moves them back, and the worker processes them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueDepth } from '../../functions/cli/commands/queues.ts';
import { runCli } from '../../functions/cli/main.ts';
import { createJobsClient } from '../../functions/client/index.ts';
import { startLocalEnvironment, type LocalEnvironment } from '../../functions/local/environment.ts';
import { METRIC } from '../../functions/runtime/metric-names.ts';
import { Collector } from '../cli/cli-harness.ts';

const JOBS = 12;

describe('redriving dead letters after the cause is fixed', () => {
  let dir: string;
  let env: LocalEnvironment;
  let peer: Server;
  let broken = true;
  const delivered = new Set<string>();
  let redriveCode = -1;
  let dlqBefore = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'redrive-e2e-'));
    peer = createServer((request, response) => {
      request.resume();
      if (!broken) delivered.add(request.url ?? '');
      response.statusCode = broken ? 410 : 200;
      response.end();
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
    env = await startLocalEnvironment({
      sqsPort: 0,
      dogstatsdPort: 0,
      localDir: dir,
      applyToProcessEnv: false,
      waitTimeSeconds: 1,
      onLog: () => undefined,
    });
    const webhooks = env.queues.get('webhooks');
    if (!webhooks?.deadLetter) throw new Error('the stack has no webhooks queue with a DLQ');
    const client = createJobsClient({ sqs: env.client, queueUrls: { webhooks: webhooks.url } });
    await client.enqueueMany(
      Array.from({ length: JOBS }, (_, i) => ({ type: 'deliver-webhook' as const, payload: { url: `${base}/hook/${i}` } })),
    );
    await env.listener.waitFor(METRIC.processed, JOBS, { timeoutMs: 60_000 });
    dlqBefore = (await queueDepth({ sqs: env.client }, webhooks.deadLetter.url)).visible;

    broken = false;
    const stdout = new Collector();
    const stderr = new Collector();
    redriveCode = await runCli(
      ['dlq', 'redrive', 'webhooks', '--endpoint', env.sqs.endpoint, '--stage', 'local', '--journal', join(dir, 'journal.jsonl')],
      {
        stdout,
        stderr,
        env: {},
      },
    );
    await env.listener.waitFor(METRIC.processed, 2 * JOBS, { timeoutMs: 60_000 });
  }, 150_000);

  afterAll(async () => {
    await env?.stop();
    await new Promise((resolve) => peer?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('dead-letters every job the peer refuses', () => {
    expect(dlqBefore).toBe(JOBS);
  });

  it('redrives them without an error', () => {
    expect(redriveCode).toBe(0);
  });

  it('processes every redriven job once the peer accepts them', () => {
    expect(delivered.size).toBe(JOBS);
  });

  it('leaves the queue and its DLQ empty', async () => {
    const webhooks = env.queues.get('webhooks');
    const [queue, dlq] = await Promise.all([
      queueDepth({ sqs: env.client }, webhooks?.url ?? ''),
      queueDepth({ sqs: env.client }, webhooks?.deadLetter?.url ?? ''),
    ]);
    expect({ queue, dlq }).toEqual({ queue: { visible: 0, inFlight: 0, delayed: 0 }, dlq: { visible: 0, inFlight: 0, delayed: 0 } });
  });
});
