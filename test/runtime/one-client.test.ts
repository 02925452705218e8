import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS_WARNING } from '../../functions/runtime/metric-names.ts';
import { liveStatsdClients } from '../../functions/runtime/metrics.ts';
import type { BatchHandler } from '../../functions/runtime/processor.ts';
import { job, lambdaContext, sqsEvent, sqsRecord } from '../support/lambda.ts';
import { openDescriptors } from '../support/process-resources.ts';
import { seedWayWorker } from '../support/seed-worker.ts';
import { startUdpCollector, type UdpCollector } from '../support/udp-collector.ts';
import { loadWorker, workerEnv } from '../support/worker-module.ts';

/** Runs `invocations` warm invocations and reports how many sockets and descriptors were added. */
async function growthOver(handler: BatchHandler, invocations: number): Promise<{ sockets: number; fds: number }> {
  const body = job('send-email', { to: 'someone@example.com', subject: 'hi', text: 'hello' }, { jobId: 'same-job' });
  await handler(sqsEvent([sqsRecord(body)]), lambdaContext());
  const before = openDescriptors();
  for (let i = 0; i < invocations; i++) await handler(sqsEvent([sqsRecord(body), sqsRecord(body)]), lambdaContext());
  const after = openDescriptors();
  return { sockets: after.sockets - before.sockets, fds: after.fds - before.fds };
}

describe('the seed guard: one DogStatsD client per sandbox', () => {
  let collector: UdpCollector;
  beforeAll(async () => {
    collector = await startUdpCollector();
  });
  afterAll(() => collector.close());

  it('creates exactly one UDP socket and keeps the descriptor count flat over 10,000 warm invocations', async () => {
    const socketsBefore = openDescriptors().sockets;
    const worker = await loadWorker(workerEnv({ DD_AGENT_HOST: '127.0.0.1', DD_DOGSTATSD_PORT: String(collector.port) }));
    const growth = await growthOver(worker.handler, 10_000);
    // hot-shots opens its UDP socket on the first send: the first invocation adds exactly one.
    expect(openDescriptors().sockets - socketsBefore).toBe(1);
    expect(growth).toEqual({ sockets: 0, fds: 0 });
    expect(liveStatsdClients()).toBe(1);
    await worker.metrics.close();
  }, 300_000); // 10,000 invocations: about 20 s on an idle machine, several times that on a loaded one

  it('catches a worker written the seed way: the same check fails', async () => {
    const seed = seedWayWorker({ port: collector.port, deadLetterQueueUrl: 'http://127.0.0.1:9/000000000000/dlq' });
    const growth = await growthOver(seed, 100);
    expect(growth.sockets).toBeGreaterThanOrEqual(200);
    expect(growth).not.toEqual({ sockets: 0, fds: 0 });
  });

  it('warns, with a stack trace, when a second client is created in the process', async () => {
    const { createMetrics } = await import('../../functions/runtime/metrics.ts');
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (message: string) => void warnings.push(message);
    const first = createMetrics({ host: '127.0.0.1', port: collector.port });
    const second = createMetrics({ host: '127.0.0.1', port: collector.port });
    console.warn = original;
    await first.close();
    await second.close();
    expect(warnings.join('\n')).toMatch(/second DogStatsD client.*\\n\s+at /s);
  });

  it('says in that warning what to do: create the client once, at module scope', async () => {
    const { createMetrics } = await import('../../functions/runtime/metrics.ts');
    const warnings: string[] = [];
    const original = console.warn;
    console.warn = (message: string) => void warnings.push(message);
    const first = createMetrics({ host: '127.0.0.1', port: collector.port });
    const second = createMetrics({ host: '127.0.0.1', port: collector.port });
    console.warn = original;
    await first.close();
    await second.close();
    const warning = JSON.parse(warnings[0] ?? '{}') as { message?: string };
    expect(warning.message).toContain(METRICS_WARNING.secondClient);
    expect(warning.message).toContain('Create the DogStatsD client once, at module scope');
  });
});
