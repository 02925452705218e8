import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueRow } from '../../functions/cli/commands/queues.ts';
import type { DeadLetterView } from '../../functions/cli/dead-letters.ts';
import { startLocalSqs, type LocalSqs } from '../client/local-sqs.ts';
import { createStackQueue, deadJobs, jobs, putDeadJobs, type StackQueue } from './cli-harness.ts';

const STAGE = 'cliq';
let local: LocalSqs;
let defaults: StackQueue;
let webhooks: StackQueue;

beforeAll(async () => {
  local = await startLocalSqs();
  defaults = await createStackQueue(local, STAGE, 'default');
  webhooks = await createStackQueue(local, STAGE, 'webhooks');
});

afterAll(async () => {
  await local.close();
});

describe('jobs queues', () => {
  it('shows visible, in flight, delayed and DLQ counts of every queue of the stack', async () => {
    await local.sqs.send(new SendMessageCommand({ QueueUrl: defaults.url, MessageBody: '{}' }));
    await local.sqs.send(new SendMessageCommand({ QueueUrl: defaults.url, MessageBody: '{}' }));
    await local.sqs.send(new SendMessageCommand({ QueueUrl: defaults.url, MessageBody: '{}', DelaySeconds: 600 }));
    await putDeadJobs(local.sqs, webhooks.dlqUrl, deadJobs(3, 'deliver-webhook'));

    const json = await jobs(local, STAGE, ['queues', '--json']);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as QueueRow[];
    expect(rows.map((row) => [row.queue, row.name, row.depth, row.deadLetterName, row.deadLetter?.visible])).toEqual([
      ['default', 'serverless-jobs-cliq-default', { visible: 2, inFlight: 0, delayed: 1 }, 'serverless-jobs-cliq-default-dlq', 0],
      ['webhooks', 'serverless-jobs-cliq-webhooks', { visible: 0, inFlight: 0, delayed: 0 }, 'serverless-jobs-cliq-webhooks-dlq', 3],
    ]);

    const table = await jobs(local, STAGE, ['queues']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/QUEUE\s+NAME\s+VISIBLE\s+IN FLIGHT\s+DELAYED\s+DLQ/);
    expect(table.stdout).toMatch(/default\s+serverless-jobs-cliq-default\s+2\s+0\s+1\s+0/);
    expect(table.stdout).toMatch(/webhooks\s+serverless-jobs-cliq-webhooks\s+0\s+0\s+0\s+3/);
    await local.drain(defaults.url);
    await local.drain(webhooks.dlqUrl);
  });

  it('marks a queue of the stack that does not exist, says what it looked for, and exits 1', async () => {
    await createStackQueue(local, 'half', 'default');
    const run = await jobs(local, 'half', ['queues']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/webhooks\s+missing/);
    expect(run.stderr).toContain('queue "webhooks" not found: no serverless-jobs-half-webhooks or serverless-jobs-half-webhooks.fifo');
  });
});

describe('jobs dlq list', () => {
  it('shows each dead message with job type, reason, error and receive count, and leaves every message in the DLQ, visible', async () => {
    await putDeadJobs(local.sqs, defaults.dlqUrl, [
      { type: 'send-email', jobId: 'e1', reason: 'invalid_payload' },
      { type: 'send-email', jobId: 'e2', reason: 'permanent_error' },
      { type: 'no-such-type', jobId: 'u1', reason: 'unknown_type' },
    ]);
    const run = await jobs(local, STAGE, ['dlq', 'list', 'default', '--json']);
    expect(run.code).toBe(0);
    const views = JSON.parse(run.stdout) as DeadLetterView[];
    expect(views.map((view) => [view.jobType, view.reason, view.error, view.receiveCount]).toSorted()).toEqual([
      ['no-such-type', 'unknown_type', 'job u1 failed for good', '1'],
      ['send-email', 'invalid_payload', 'job e1 failed for good', '1'],
      ['send-email', 'permanent_error', 'job e2 failed for good', '1'],
    ]);
    expect(await local.counts(defaults.dlqUrl)).toEqual({ visible: 3, inFlight: 0, delayed: 0 });

    const table = await jobs(local, STAGE, ['dlq', 'list', 'default']);
    expect(table.stdout).toMatch(/MESSAGE ID\s+JOB TYPE\s+REASON\s+RECEIVES\s+FAILED AT\s+ERROR/);
    expect(table.stdout).toMatch(/send-email\s+invalid_payload\s+1\s+\S+\s+job e1 failed for good/);
    expect(await local.counts(defaults.dlqUrl)).toEqual({ visible: 3, inFlight: 0, delayed: 0 });
  });

  it('shows at most --limit messages and still releases every one it received', async () => {
    const run = await jobs(local, STAGE, ['dlq', 'list', 'default', '--limit', '2']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2 message(s) (first 2; --limit for more)');
    expect(await local.counts(defaults.dlqUrl)).toEqual({ visible: 3, inFlight: 0, delayed: 0 });
  });

  it('says so when the DLQ is empty', async () => {
    const run = await jobs(local, STAGE, ['dlq', 'list', 'webhooks']);
    expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining('serverless-jobs-cliq-webhooks-dlq is empty') });
  });

  it('reports a queue that does not exist in one line', async () => {
    const run = await jobs(local, STAGE, ['dlq', 'list', 'billing']);
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n')[0]).toMatch(
      /^jobs: queue "billing" not found: no serverless-jobs-cliq-billing or serverless-jobs-cliq-billing\.fifo at local SQS at http:\/\/127\.0\.0\.1:\d+ \(stage cliq\)\. Queues there: .*serverless-jobs-cliq-default/,
    );
    expect(run.stderr).not.toContain('    at ');
  });

  it('does not ask whether the local environment is running when the stage has other queues there', async () => {
    const run = await jobs(local, STAGE, ['dlq', 'list', 'billing']);
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain('Is the local environment running');
  });
});

describe('jobs dlq purge', () => {
  it('refuses without confirmation when not on a terminal, and purges nothing', async () => {
    const run = await jobs(local, STAGE, ['dlq', 'purge', 'default']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('refusing to purge serverless-jobs-cliq-default-dlq without confirmation: not a terminal; pass --yes');
    expect((await local.counts(defaults.dlqUrl)).visible).toBe(3);
  });

  it('asks first, naming the queue and the count, and purges nothing when the answer is no', async () => {
    const questions: string[] = [];
    const run = await jobs(local, STAGE, ['dlq', 'purge', 'default'], {
      confirm: (question) => {
        questions.push(question);
        return Promise.resolve(false);
      },
    });
    expect(run.code).toBe(1);
    expect(questions).toEqual([expect.stringContaining('Delete all 3 message(s) of serverless-jobs-cliq-default-dlq')]);
    expect((await local.counts(defaults.dlqUrl)).visible).toBe(3);
  });

  it('purges the DLQ, and only the DLQ, when confirmed', async () => {
    await local.sqs.send(new SendMessageCommand({ QueueUrl: defaults.url, MessageBody: '{}' }));
    const run = await jobs(local, STAGE, ['dlq', 'purge', 'default'], { confirm: () => Promise.resolve(true) });
    expect(run).toMatchObject({ code: 0, stdout: 'purged serverless-jobs-cliq-default-dlq (3 message(s))\n' });
    expect(await local.counts(defaults.dlqUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect((await local.counts(defaults.url)).visible).toBe(1);
  });

  it('purges without asking with --yes', async () => {
    await putDeadJobs(local.sqs, defaults.dlqUrl, deadJobs(2));
    const run = await jobs(local, STAGE, ['dlq', 'purge', 'default', '--yes']);
    expect(run.code).toBe(0);
    expect((await local.counts(defaults.dlqUrl)).visible).toBe(0);
  });
});
