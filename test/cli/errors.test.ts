import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../functions/cli/main.ts';
import { startLocalSqs, type LocalSqs } from '../client/local-sqs.ts';
import { Collector, createStackQueue } from './cli-harness.ts';

const BIN = fileURLToPath(new URL('../../functions/cli/bin.mjs', import.meta.url));

/** Runs the bin as a process with exactly `env` (plus PATH). */
function runBin(args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

async function cli(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Collector();
  const stderr = new Collector();
  const code = await runCli(args, { stdout, stderr, env });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

let local: LocalSqs;

beforeAll(async () => {
  local = await startLocalSqs();
  await createStackQueue(local, 'local', 'default');
  await createStackQueue(local, 'local', 'webhooks');
});

afterAll(async () => {
  await local.close();
});

describe('jobs CLI errors', () => {
  it('says the local environment is not running when nothing listens, in one line without a stack trace', async () => {
    const port = await closedPort();
    const run = await cli(['queues'], { LOCAL_SQS_PORT: String(port) });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `jobs: cannot reach local SQS at http://127.0.0.1:${port} (stage local) (connection refused): is the local environment running? Start it with \`npm start\`\n`,
    );
  });

  it('works against the local environment by default: LOCAL_SQS_PORT moves it, stage "local"', async () => {
    const run = await cli(['queues', '--json'], { LOCAL_SQS_PORT: new URL(local.endpoint).port });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject([{ name: 'serverless-jobs-local-default' }, { name: 'serverless-jobs-local-webhooks' }]);
  });

  it('says the dashboard port is taken and names --port when jobs ui cannot listen, instead of blaming SQS', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const address = holder.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const run = await cli(['ui', '--endpoint', local.endpoint, '--port', String(port)]);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `jobs: the dashboard cannot listen on 127.0.0.1:${port}: the port is already in use (a running \`npm start\` serves its own dashboard there). Pick another with --port <port>.\n`,
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('says credentials are missing for --stage on AWS, without a stack trace (real process, empty AWS environment)', async () => {
    const run = await runBin(['queues', '--stage', 'prod', '--region', 'eu-west-1'], {
      AWS_CONFIG_FILE: '/nonexistent/config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^jobs: no AWS credentials for AWS SQS \(stage prod, region eu-west-1\): set AWS_PROFILE/);
    expect(run.stderr).not.toContain('    at ');
  });

  it.each([
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['dlq', 'peek', 'default'], 'unknown dlq command "peek"'],
    [['queues', '--rate', '5'], '--rate does not apply to "queues"'],
    [['queues', '--bogus'], "Unknown option '--bogus'"],
    [['dlq', 'list'], 'usage: jobs dlq list <queue>'],
    [['dlq', 'redrive', 'default', '--rate', 'fast'], '--rate must be a number from 0.1 to 10000'],
    [['queues', '--stage', 'Prod!'], 'stage "Prod!" must be lower-case'],
    [[], 'no command given'],
  ])('refuses %j with a usage error (exit 2)', async (args, message) => {
    const run = await cli([...args, '--endpoint', local.endpoint]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain('Run `jobs --help` for usage.');
  });

  it('prints usage with --help', async () => {
    const run = await cli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: jobs <command> [options]');
  });
});
