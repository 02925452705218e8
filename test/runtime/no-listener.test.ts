import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { job, lambdaContext, sqsEvent, sqsRecord } from '../support/lambda.ts';
import { heapAfterGc } from '../support/process-resources.ts';
import { loadWorker, workerEnv } from '../support/worker-module.ts';

/** A UDP port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind({ address: '127.0.0.1', port: 0 }, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

describe('no DogStatsD listener', () => {
  it('still runs jobs to success, throws nothing, and keeps memory flat over 50,000 metrics', async () => {
    const worker = await loadWorker(workerEnv({ DD_AGENT_HOST: '127.0.0.1', DD_DOGSTATSD_PORT: String(await closedPort()) }));
    const body = job('send-email', { to: 'someone@example.com', subject: 'hi', text: 'hello' }, { jobId: 'same-job' });
    const event = () => sqsEvent([sqsRecord(body), sqsRecord(body), sqsRecord(body)]);
    // 3 records x 3 metrics + 3 runtime metrics = 12 metrics per invocation.
    const invocations = Math.ceil(50_000 / 12);
    for (let i = 0; i < 200; i++) await worker.handler(event(), lambdaContext());
    const before = await heapAfterGc();
    let failures = 0;
    for (let i = 0; i < invocations; i++) failures += (await worker.handler(event(), lambdaContext())).batchItemFailures.length;
    const after = await heapAfterGc();
    expect(failures).toBe(0);
    expect(after - before).toBeLessThan(1024 * 1024);
    await worker.metrics.close();
  });
});
