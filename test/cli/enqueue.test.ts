import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalSqs, type LocalSqs } from '../client/local-sqs.ts';
import { createStackQueue, jobs, type StackQueue } from './cli-harness.ts';

const STAGE = 'clienq';
let local: LocalSqs;
let queue: StackQueue;
let dir: string;

beforeAll(async () => {
  local = await startLocalSqs();
  queue = await createStackQueue(local, STAGE, 'default');
  await createStackQueue(local, STAGE, 'webhooks');
  dir = mkdtempSync(join(tmpdir(), 'jobs-cli-enqueue-'));
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  await local.drain(queue.url);
});

const bodyOf = (body: string | undefined): Record<string, unknown> => JSON.parse(body ?? '{}') as Record<string, unknown>;

describe('jobs enqueue <type> <json>', () => {
  it('sends the job to the stage queue of its type and prints the ids', async () => {
    const run = await jobs(local, STAGE, [
      'enqueue',
      'send-email',
      '{"to":"ada@example.com","subject":"Hi","text":"Hello"}',
      '--job-id',
      'cli-1',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^sent send-email job cli-1 as message [\w-]+ to serverless-jobs-clienq-default\n$/);
    const [message, ...rest] = await local.drain(queue.url);
    expect(rest).toHaveLength(0);
    expect(bodyOf(message?.Body)).toMatchObject({
      type: 'send-email',
      jobId: 'cli-1',
      payload: { to: 'ada@example.com', subject: 'Hi', text: 'Hello' },
    });
    expect(run.stdout).toContain(message?.MessageId);
  });

  it('reads the payload from @file and honours --delay', async () => {
    const file = join(dir, 'payload.json');
    writeFileSync(file, JSON.stringify({ to: 'bob@example.com', subject: 'From a file', html: '<p>hi</p>' }));
    const run = await jobs(local, STAGE, ['enqueue', 'send-email', `@${file}`, '--delay', '60', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ type: 'send-email', queue: 'serverless-jobs-clienq-default' });
    expect(await local.counts(queue.url)).toEqual({ visible: 0, inFlight: 0, delayed: 1 });
    await local.sqs.send(new PurgeQueueCommand({ QueueUrl: queue.url }));
  });

  it('refuses an invalid payload with the schema problems, sends nothing, and prints no stack trace', async () => {
    const run = await jobs(local, STAGE, ['enqueue', 'send-email', '{"to":"not-an-email","subject":"x"}']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('jobs: invalid send-email payload: to: not a valid email; one of text or html is required\n');
    expect(await local.counts(queue.url)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('refuses a payload that is not JSON', async () => {
    const run = await jobs(local, STAGE, ['enqueue', 'send-email', '{to: ada}']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^jobs: the payload is not valid JSON/);
  });

  it('refuses an unknown job type and lists the known ones', async () => {
    const run = await jobs(local, STAGE, ['enqueue', 'send-fax', '{}']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('unknown job type "send-fax"; known types: send-email, deliver-webhook');
  });

  it('refuses an out-of-range --delay as a usage error', async () => {
    const run = await jobs(local, STAGE, ['enqueue', 'send-email', '{}', '--delay', '400d']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--delay must be seconds or 30m / 2h / 3d, at most one year');
  });
});

describe('npm run jobs -- enqueue, typed in another directory', () => {
  it('reads @file relative to the directory the command was typed in, not the package root npm runs it in', async () => {
    writeFileSync(join(dir, 'here.json'), JSON.stringify({ to: 'ada@example.com', subject: 'From here', text: 'hi' }));
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const args = [
      'run',
      '-s',
      '--prefix',
      root,
      'jobs',
      '--',
      'enqueue',
      'send-email',
      '@here.json',
      '--endpoint',
      local.endpoint,
      '--stage',
      STAGE,
    ];
    const npm = spawn('npm', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => npm.on('exit', resolve));
    expect(output).toMatch(/^sent send-email job [\w-]+ as message [\w-]+ to serverless-jobs-clienq-default\n$/);
    expect(code).toBe(0);
    const [message] = await local.drain(queue.url);
    expect(bodyOf(message?.Body)).toMatchObject({ payload: { subject: 'From here' } });
  }, 30_000);
});

describe('jobs enqueue <type> --from file.jsonl', () => {
  it('sends every line in batches and lists the lines that failed, by line number', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ to: `user${i}@example.com`, subject: `n${i}`, text: 'x' }));
    lines[9] = '{"to": broken';
    lines[99] = JSON.stringify({ to: 'nobody', subject: 's', text: 't' });
    lines.splice(500, 0, '');
    const file = join(dir, 'bulk.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);

    const run = await jobs(local, STAGE, ['enqueue', 'send-email', '--from', file, '--job-id-prefix', 'bulk']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('sent 998 of 1000 send-email jobs to serverless-jobs-clienq-default; 2 failed:');
    expect(run.stdout).toContain('  line 10: not JSON');
    expect(run.stdout).toContain('  line 100: JobValidationError: invalid send-email payload: to: not a valid email');
    const received = await local.drain(queue.url);
    expect(received).toHaveLength(998);
    const jobIds = new Set(received.map((message) => bodyOf(message.Body).jobId));
    expect(jobIds.size).toBe(998);
    expect(jobIds.has('bulk-1')).toBe(true);
    expect(jobIds.has('bulk-10')).toBe(false);
    expect(jobIds.has('bulk-1001')).toBe(true);
  });

  it('lists failed lines in line order, a line that is not JSON among payloads that fail their schema', async () => {
    const file = join(dir, 'mixed.jsonl');
    writeFileSync(
      file,
      ['{"to":"a@example.com","subject":"1"}', '{"to":"b@example.com","subject":"2"}', 'not json', '{"to":"c@example.com"}', ''].join('\n'),
    );
    const run = await jobs(local, STAGE, ['enqueue', 'send-email', '--from', file]);
    expect(run.code).toBe(1);
    const listed = run.stdout.split('\n').filter((line) => line.startsWith('  line '));
    expect(listed.map((line) => /^ {2}line (\d+):/.exec(line)?.[1])).toEqual(['1', '2', '3', '4']);
    await local.drain(queue.url);
  });

  it('reports a missing file clearly', async () => {
    const run = await jobs(local, STAGE, ['enqueue', 'send-email', '--from', join(dir, 'nope.jsonl')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^jobs: cannot read .*nope\.jsonl: ENOENT/);
  });

  it('refuses --job-id with --from (one id cannot name many jobs)', async () => {
    const file = join(dir, 'one.jsonl');
    writeFileSync(file, '{}\n');
    const run = await jobs(local, STAGE, ['enqueue', 'send-email', '--from', file, '--job-id', 'x']);
    expect(run.code).toBe(2);
  });
});
