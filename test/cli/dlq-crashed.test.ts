/**
 * Dead letters that SQS itself moved (the worker crashed, timed out or ran out of memory, so no reason was
 * attached) are told apart in `jobs dlq list` and can be filtered in `dlq list` and `dlq redrive`. The move is
 * the local SQS's own redrive policy, after maxReceiveCount receives that never deleted the message.
 */
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeadLetterView } from '../../functions/cli/dead-letters.ts';
import { startLocalSqs, type LocalSqs } from '../client/local-sqs.ts';
import { createStackQueue, eventually, jobs, putDeadJobs, type StackQueue } from './cli-harness.ts';

const STAGE = 'crash';
/** The harness's redrive policy. */
const MAX_RECEIVE_COUNT = 5;
let local: LocalSqs;
let queue: StackQueue;

/** Receives the message the way a worker that dies mid-batch does: again and again, never deleting it. */
async function crashUntilSqsMovesIt(url: string): Promise<void> {
  for (let receive = 0; receive <= MAX_RECEIVE_COUNT; receive++) {
    await local.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 0, WaitTimeSeconds: 0, MaxNumberOfMessages: 10 }));
  }
}

beforeAll(async () => {
  local = await startLocalSqs();
  queue = await createStackQueue(local, STAGE, 'default');
  const body = JSON.stringify({ type: 'send-email', payload: { to: 'ada@example.com' }, jobId: 'oom-1' });
  await local.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
  await crashUntilSqsMovesIt(queue.url);
  await eventually(async () => (await local.counts(queue.dlqUrl)).visible === 1);
  await putDeadJobs(local.sqs, queue.dlqUrl, [{ type: 'send-email', jobId: 'bad-1', reason: 'invalid_payload' }]);
});

afterAll(async () => {
  await local.close();
});

describe('dead letters SQS moved', () => {
  it('are listed with reason crashed, the receive count of the redrive policy and what that means', async () => {
    const run = await jobs(local, STAGE, ['dlq', 'list', 'default', '--json']);
    const views = JSON.parse(run.stdout) as DeadLetterView[];
    const crashed = views.find((view) => view.movedBySqs);
    expect(crashed).toMatchObject({
      jobType: 'send-email',
      reason: 'crashed',
      receiveCount: String(MAX_RECEIVE_COUNT),
      error: `moved by SQS after ${MAX_RECEIVE_COUNT} receives: the worker crashed, timed out or ran out of memory`,
    });
    expect(views.find((view) => !view.movedBySqs)).toMatchObject({ reason: 'invalid_payload', movedBySqs: false });
  });

  it('show in the table as crashed, with the explanation', async () => {
    const run = await jobs(local, STAGE, ['dlq', 'list', 'default']);
    expect(run.stdout).toMatch(
      new RegExp(
        `send-email\\s+crashed\\s+${MAX_RECEIVE_COUNT}\\s+-\\s+moved by SQS after ${MAX_RECEIVE_COUNT} receives: the worker crashed`,
      ),
    );
  });

  it('are the only ones dlq list shows with --reason crashed', async () => {
    const run = await jobs(local, STAGE, ['dlq', 'list', 'default', '--reason', 'crashed', '--json']);
    const views = JSON.parse(run.stdout) as DeadLetterView[];
    expect(views.map((view) => view.reason)).toEqual(['crashed']);
  });

  it('refuses a --reason that is not a known reason, naming the ones there are', async () => {
    const run = await jobs(local, STAGE, ['dlq', 'list', 'default', '--reason', 'oom']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--reason must be one of invalid_json, unknown_type, invalid_payload, permanent_error, retries_exhausted');
    expect(run.stderr).toContain('crashed');
  });

  it('are the only ones dlq redrive moves back with --reason crashed', async () => {
    const run = await jobs(local, STAGE, [
      'dlq',
      'redrive',
      'default',
      '--reason',
      'crashed',
      '--journal',
      `/tmp/crash-journal-${process.pid}.jsonl`,
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('redrove 1 message(s)');
    expect(run.stdout).toContain('1 not matching reason crashed: left in the DLQ');
    const back = await local.drain(queue.url);
    expect(back.map((message) => (JSON.parse(message.Body ?? '{}') as { jobId?: string }).jobId)).toEqual(['oom-1']);
    await eventually(async () => (await local.counts(queue.dlqUrl)).visible === 1);
    const left = JSON.parse((await jobs(local, STAGE, ['dlq', 'list', 'default', '--json'])).stdout) as DeadLetterView[];
    expect(left.map((view) => view.reason)).toEqual(['invalid_payload']);
  });
});
