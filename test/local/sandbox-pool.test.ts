/**
 * The sandbox pool of one function, driven directly (real worker-thread sandboxes running the recording
 * handler, test/local/fixtures/recording-handler.ts): ids, reuse, cold starts and the dashboard snapshot.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SandboxInitError } from '../../functions/local/sandbox.ts';
import { SandboxPool, SandboxPoolClosedError } from '../../functions/local/sandbox-pool.ts';

const dir = mkdtempSync(join(tmpdir(), 'sandbox-pool-'));
const pools: SandboxPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((each) => each.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pool(entry = new URL('./fixtures/recording-handler.ts', import.meta.url).href): SandboxPool {
  const created = new SandboxPool({
    entryUrl: entry,
    exportName: 'handler',
    functionName: 'fx-worker',
    memorySize: 128,
    region: 'us-east-1',
    accountId: '000000000000',
    env: { REPORT_DIR: dir },
    onLog: () => undefined,
  });
  pools.push(created);
  return created;
}

function event(command: Record<string, unknown>): SQSEvent {
  return { Records: [{ messageId: 'm1', body: JSON.stringify(command) }] } as SQSEvent;
}

describe('a sandbox pool', () => {
  it('names its sandboxes <function>#<n> and reuses an idle one warm', async () => {
    const sandboxes = pool();
    const first = await sandboxes.invoke(event({ do: 'ok' }), 2000, 'r1');
    const second = await sandboxes.invoke(event({ do: 'ok' }), 2000, 'r2');
    expect(first).toMatchObject({ sandboxId: 'fx-worker#1', coldStart: true, outcome: { kind: 'returned' } });
    expect(second).toMatchObject({ sandboxId: 'fx-worker#1', coldStart: false });
    expect(sandboxes.size).toBe(1);
  }, 20_000);

  it('starts a second sandbox for an invocation that overlaps a running one', async () => {
    const sandboxes = pool();
    const [slow, fast] = await Promise.all([
      sandboxes.invoke(event({ do: 'sleep', ms: 300 }), 2000, 'r1'),
      sandboxes.invoke(event({ do: 'ok' }), 2000, 'r2'),
    ]);
    expect(new Set([slow.sandboxId, fast.sandboxId])).toEqual(new Set(['fx-worker#1', 'fx-worker#2']));
    expect((await sandboxes.snapshot()).coldStarts).toBe(2);
  }, 20_000);

  it('counts invocations per sandbox and reads each sandbox heap in its snapshot', async () => {
    const sandboxes = pool();
    for (const id of ['r1', 'r2', 'r3']) await sandboxes.invoke(event({ do: 'ok' }), 2000, id);
    const snapshot = await sandboxes.snapshot();
    expect(snapshot).toMatchObject({ functionName: 'fx-worker', invocations: 3, coldStarts: 1 });
    expect(snapshot.sandboxes).toHaveLength(1);
    const [only] = snapshot.sandboxes;
    expect(only).toMatchObject({ id: 'fx-worker#1', invocations: 3, busy: false });
    expect(only?.heapUsedBytes).toBeGreaterThan(0);
    expect(only?.heapLimitBytes).toBeGreaterThan(only?.heapUsedBytes ?? 0);
    expect(snapshot.openFds).toBeGreaterThan(0);
  }, 20_000);

  it('drops a sandbox that timed out and cold-starts the next invocation with the next number', async () => {
    const sandboxes = pool();
    const timedOut = await sandboxes.invoke(event({ do: 'sleep', ms: 5000 }), 300, 'r1');
    const next = await sandboxes.invoke(event({ do: 'ok' }), 2000, 'r2');
    expect(timedOut.outcome.kind).toBe('timeout');
    expect(next).toMatchObject({ sandboxId: 'fx-worker#2', coldStart: true });
  }, 20_000);

  it('kills a sandbox in the middle of its invocation: the invocation ends as a crash and the next one cold-starts', async () => {
    const sandboxes = pool();
    await sandboxes.invoke(event({ do: 'ok' }), 2000, 'r0');
    const running = sandboxes.invoke(event({ do: 'sleep', ms: 5000 }), 10_000, 'r1');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await sandboxes.killBusy()).toBe(1);
    expect((await running).outcome.kind).toBe('crash');
    expect(await sandboxes.invoke(event({ do: 'ok' }), 2000, 'r2')).toMatchObject({ sandboxId: 'fx-worker#2', coldStart: true });
  }, 20_000);

  it('ends every sandbox on reload and cold-starts again afterwards', async () => {
    const sandboxes = pool();
    await sandboxes.invoke(event({ do: 'ok' }), 2000, 'r1');
    await sandboxes.reload();
    expect(sandboxes.size).toBe(0);
    expect(await sandboxes.invoke(event({ do: 'ok' }), 2000, 'r2')).toMatchObject({ sandboxId: 'fx-worker#2', coldStart: true });
  }, 20_000);

  it('rejects with SandboxInitError when the module does not load', async () => {
    const sandboxes = pool(pathToFileURL(join(dir, 'missing-handler.ts')).href);
    await expect(sandboxes.invoke(event({ do: 'ok' }), 2000, 'r1')).rejects.toBeInstanceOf(SandboxInitError);
  }, 20_000);

  it('refuses invocations once closed', async () => {
    const sandboxes = pool();
    await sandboxes.close();
    await expect(sandboxes.invoke(event({ do: 'ok' }), 2000, 'r1')).rejects.toBeInstanceOf(SandboxPoolClosedError);
  });
});
