/**
 * `npm start` as a user runs it (functions/local/start.ts in a child process, ephemeral ports through the
 * documented variables, plain output because stdout is not a TTY).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  interrupt(): void;
}

function start(args: string[], env: Record<string, string>): Run {
  const stateDir = mkdtempSync(join(tmpdir(), 'npm-start-'));
  dirs.push(stateDir);
  const child = spawn(TSX, ['functions/local/start.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOCAL_STATE_DIR: stateDir, LOCAL_DASHBOARD_PORT: '0', LOCAL_SCHEDULER_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const listener of listeners) listener();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForOutput: (pattern, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(stdout)) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${pattern} in the output within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
    interrupt: () => child.kill('SIGINT'),
  };
}

describe('npm start', () => {
  it('runs the demo through success, retry and dead letter, shows it, and stops cleanly on Ctrl-C', async () => {
    const run = start(['--plain'], { LOCAL_SQS_PORT: '0', LOCAL_DOGSTATSD_PORT: '0' });
    try {
      // 4 from the demo, 1 from the first occurrence of the periodic demo-heartbeat (rate(1 minute), stage local).
      await run.waitForOutput(/jobs success 5, retry 1, dead 1, duplicate 0/, 60_000);
    } finally {
      run.interrupt();
    }
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toMatch(/stopped\.\n$/);
    expect(run.stdout()).toContain('demo: enqueued a message that is not JSON (expect: dead-lettered, reason invalid_json)');
    expect(run.stdout()).toMatch(/DLQ 1/);
    expect(run.stdout()).toContain('0 would be dropped, 0 not distributions');
    const outbox = join(dirs.at(-1) ?? '', 'outbox');
    expect(readdirSync(outbox).filter((file) => file.endsWith('.eml'))).toHaveLength(3); // 2 demo emails + the demo-heartbeat's
  }, 90_000);

  it("prints the dashboard's address first, and serves it", async () => {
    const run = start(['--no-demo', '--plain'], { LOCAL_SQS_PORT: '0', LOCAL_DOGSTATSD_PORT: '0' });
    try {
      await run.waitForOutput(/serverless-jobs local environment/, 60_000);
      const first = /^serverless-jobs dashboard (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(run.stdout());
      expect(first?.[1]).toBeDefined();
      const response = await fetch(first?.[1] ?? '');
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('<title>serverless-jobs dashboard</title>');
    } finally {
      run.interrupt();
    }
    expect(await run.exited).toBe(0);
  }, 90_000);

  it('prints producer variables that are all a producer in another shell needs', async () => {
    const run = start(['--no-demo', '--plain'], { LOCAL_SQS_PORT: '0', LOCAL_DOGSTATSD_PORT: '0' });
    try {
      await run.waitForOutput(/^ {2}producers {2}.+\n/m, 60_000);
      const line = /^ {2}producers {2}(.+)$/m.exec(run.stdout())?.[1] ?? '';
      const variables = Object.fromEntries(
        line.split(' ').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
      );
      const producer = spawn(TSX, [join(ROOT, 'test/local/fixtures/producer.ts')], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', ...variables },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      producer.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      producer.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => producer.on('exit', resolve));
      expect(output).toMatch(/"messageId":"[0-9a-f-]{36}","scheduleName":"j\.[0-9a-f-]{36}"/);
      expect(code).toBe(0);
    } finally {
      run.interrupt();
    }
    expect(await run.exited).toBe(0);
  }, 90_000);

  it('says which port is taken, with no stack trace, and exits with 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const run = start(['--no-demo', '--plain'], { LOCAL_SQS_PORT: String(port), LOCAL_DOGSTATSD_PORT: '0' });
      expect(await run.exited).toBe(1);
      expect(run.stderr()).toContain(
        `serverless-jobs: The local SQS endpoint cannot listen on TCP 127.0.0.1:${port}: the port is already in use`,
      );
      expect(run.stderr()).toContain('LOCAL_SQS_PORT=<port>');
      expect(run.stderr()).not.toMatch(/^\s+at /m);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, 60_000);

  it('refuses a port variable that is not a port', async () => {
    const run = start(['--no-demo'], { LOCAL_SQS_PORT: 'ninety' });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toBe('serverless-jobs: LOCAL_SQS_PORT=ninety is not a port number (0-65535)\n');
  }, 30_000);

  it('refuses an unknown option', async () => {
    const run = start(['--demo-please'], {});
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain('unknown option --demo-please');
  }, 30_000);
});
