import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedriveReport } from '../../functions/cli/redrive.ts';
import { DEAD_LETTER_ATTRIBUTE } from '../../functions/runtime/dead-letter-attributes.ts';
import { startLocalSqs, type LocalSqs } from '../client/local-sqs.ts';
import { createStackQueue, deadJobs, jobs, putDeadJobs, type StackQueue } from './cli-harness.ts';

let local: LocalSqs;
let dir: string;
let stages = 0;

beforeAll(async () => {
  local = await startLocalSqs();
  dir = mkdtempSync(join(tmpdir(), 'jobs-cli-redrive-'));
});

afterAll(async () => {
  await local.close();
});

/** A fresh stage with a `default` queue and DLQ, and a fresh journal file. */
async function fixture(fifo = false): Promise<{ stage: string; queue: StackQueue; journal: string }> {
  stages += 1;
  const stage = `rd${stages}`;
  return { stage, queue: await createStackQueue(local, stage, 'default', fifo), journal: join(dir, `${stage}.jsonl`) };
}

const sorted = (bodies: readonly (string | undefined)[]): string[] => bodies.map(String).toSorted();
const bodiesOf = (messages: readonly Message[]): string[] => sorted(messages.map((message) => message.Body));
const reportOf = (stdout: string): RedriveReport => JSON.parse(stdout) as RedriveReport;

/** Adds a middleware that runs `effect` around the first `times` calls of `command` (fault injection). */
function onCommand(client: SQSClient, command: string, effect: (send: () => Promise<unknown>) => Promise<unknown>, times = 1): void {
  let left = times;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== command || left <= 0) return next(args);
      left -= 1;
      return (await effect(() => next(args))) as Awaited<ReturnType<typeof next>>;
    },
    { step: 'initialize', name: `fault-${command}` },
  );
}

/**
 * A client whose first `times` SendMessageBatch calls are followed by `count` new dead letters, as when the worker
 * fails each redriven copy at once and dead-letters it again (bounded, so a looping redrive ends too).
 */
function failingAgainClient(queue: StackQueue, count: number, times = 1): SQSClient {
  const client = local.newClient();
  onCommand(
    client,
    'SendMessageBatchCommand',
    async (send) => {
      const result = await send();
      await putDeadJobs(local.sqs, queue.dlqUrl, deadJobs(count, 'send-email', 'again'));
      return result;
    },
    times,
  );
  return client;
}

describe('jobs dlq redrive', () => {
  it('moves every dead message back to its queue: body unchanged, reason attributes dropped, redrivenFrom added', async () => {
    const { stage, queue, journal } = await fixture();
    const bodies = await putDeadJobs(local.sqs, queue.dlqUrl, deadJobs(23));
    const dlqIds = new Map<string, string>();
    for (const message of await peek(queue.dlqUrl)) dlqIds.set(String(message.Body), String(message.MessageId));

    const run = await jobs(local, stage, ['dlq', 'redrive', 'default', '--journal', journal, '--json']);
    expect(run.code).toBe(0);
    expect(reportOf(run.stdout)).toMatchObject({ sent: 23, completed: 0, failed: 0, deletePending: 0, interrupted: false });
    const moved = await local.drain(queue.url);
    expect(bodiesOf(moved)).toEqual(sorted(bodies));
    for (const message of moved) {
      const attributes = message.MessageAttributes ?? {};
      expect(attributes.redrivenFrom?.StringValue).toBe(dlqIds.get(String(message.Body)));
      expect(attributes.tenant?.StringValue).toBe('acme');
      for (const name of Object.values(DEAD_LETTER_ATTRIBUTE)) expect(attributes[name]).toBeUndefined();
    }
    expect(await local.counts(queue.dlqUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    const states = readFileSync(journal, 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { state: string }).state);
    expect(states.filter((state) => state === 'deleted')).toHaveLength(23);
  });

  it('moves only the job type given with --type and leaves the others visible in the DLQ', async () => {
    const { stage, queue, journal } = await fixture();
    const emails = await putDeadJobs(local.sqs, queue.dlqUrl, deadJobs(7, 'send-email'));
    await putDeadJobs(local.sqs, queue.dlqUrl, deadJobs(5, 'deliver-webhook'));
    const run = await jobs(local, stage, ['dlq', 'redrive', 'default', '--type', 'send-email', '--journal', journal, '--json']);
    expect(run.code).toBe(0);
    expect(reportOf(run.stdout)).toMatchObject({ sent: 7, skipped: 5 });
    expect(bodiesOf(await local.drain(queue.url))).toEqual(sorted(emails));
    expect(await local.counts(queue.dlqUrl)).toEqual({ visible: 5, inFlight: 0, delayed: 0 });
  });

  it('stops after --limit messages; running it again moves the rest: nothing lost, nothing duplicated', async () => {
    const { stage, queue, journal } = await fixture();
    const bodies = await putDeadJobs(local.sqs, queue.dlqUrl, deadJobs(11));
    const first = await jobs(local, stage, ['dlq', 'redrive', 'default', '--limit', '4', '--journal', journal, '--json']);
    expect(reportOf(first.stdout)).toMatchObject({ sent: 4 });
    expect(await local.counts(queue.dlqUrl)).toEqual({ visible: 7, inFlight: 0, delayed: 0 });
    const second = await jobs(local, stage, ['dlq', 'redrive', 'default', '--journal', journal, '--json']);
    expect(reportOf(second.stdout)).toMatchObject({ sent: 7, completed: 0 });
    expect(bodiesOf(await local.drain(queue.url))).toEqual(sorted(bodies));
    expect(await local.counts(queue.dlqUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('leaves in the DLQ what reaches it after the redrive started (a redriven job failing again) instead of redriving it in a loop', async () => {
    const { stage, queue, journal } = await fixture();
    await putDeadJobs(local.sqs, queue.dlqUrl, deadJobs(5));
    const failingAgain = failingAgainClient(queue, 5, 20);
    const run = await jobs(local, stage, ['dlq', 'redrive', 'default', '--journal', journal, '--json'], { sqs: failingAgain });
    expect(run.code).toBe(0);
    expect(reportOf(run.stdout)).toMatchObject({ sent: 5, arrivedDuringRun: 5, failed: 0 });
    expect(await local.counts(queue.dlqUrl)).toEqual({ visible: 5, inFlight: 0, delayed: 0 });
    failingAgain.destroy();
  });

  it('says how many reached the DLQ during the run and what to do about them', async () => {
    const { stage, queue, journal } = await fixture();
    await putDeadJobs(local.sqs, queue.dlqUrl, deadJobs(3));
    const failingAgain = failingAgainClient(queue, 3);
    const run = await jobs(local, stage, ['dlq', 'redrive', 'default', '--journal', journal], { sqs: failingAgain });
    expect(run.stdout).toContain(
      '3 reached the DLQ after this redrive started (redriven jobs that failed again): left in the DLQ; fix the cause, then redrive again',
    );
    failingAgain.destroy();
  });

  it('simulated crash between send and delete: the rerun deletes the copies already sent instead of sending them again', async () => {
    const { stage, queue, journal } = await fixture();
    const bodies = await putDeadJobs(local.sqs, queue.dlqUrl, deadJobs(25));
    const crashing = local.newClient();
    onCommand(crashing, 'DeleteMessageBatchCommand', () => Promise.reject(new Error('simulated crash before the delete')));

    const crashed = await jobs(local, stage, ['dlq', 'redrive', 'default', '--journal', journal, '--lease', '1'], { sqs: crashing });
    expect(crashed.code).toBe(1);
    expect(crashed.stderr).toContain('simulated crash before the delete');
    expect((await local.counts(queue.url)).visible).toBe(10);
    // The 10 copied messages are still in the DLQ, held by the dead run's 1 s lease until it expires.
    // (fauxqs updates its counts only on the next receive, so wait out the lease rather than poll counts.)
    expect((await local.counts(queue.dlqUrl)).visible + (await local.counts(queue.dlqUrl)).inFlight).toBe(25);
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    const rerun = await jobs(local, stage, ['dlq', 'redrive', 'default', '--journal', journal, '--json']);
    expect(rerun.code).toBe(0);
    expect(reportOf(rerun.stdout)).toMatchObject({ sent: 15, completed: 10, resentAfterInterruptedSend: 0 });
    expect(bodiesOf(await local.drain(queue.url))).toEqual(sorted(bodies));
    expect(await local.counts(queue.dlqUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    crashing.destroy();
  });

  it('simulated crash inside the send (SQS took the batch, the answer was lost): the rerun resends only that batch and says so', async () => {
    const { stage, queue, journal } = await fixture();
    const bodies = await putDeadJobs(local.sqs, queue.dlqUrl, deadJobs(14));
    const crashing = local.newClient();
    onCommand(crashing, 'SendMessageBatchCommand', async (send) => {
      await send();
      throw new Error('simulated connection loss after the send');
    });

    const crashed = await jobs(local, stage, ['dlq', 'redrive', 'default', '--journal', journal], { sqs: crashing });
    expect(crashed.code).toBe(1);
    // The batch in doubt was handed back to the DLQ at once: nothing waits for a lease.
    expect(await local.counts(queue.dlqUrl)).toEqual({ visible: 14, inFlight: 0, delayed: 0 });

    const rerun = await jobs(local, stage, ['dlq', 'redrive', 'default', '--journal', journal, '--json']);
    expect(reportOf(rerun.stdout)).toMatchObject({ sent: 14, resentAfterInterruptedSend: 10 });
    const moved = await local.drain(queue.url);
    expect(moved).toHaveLength(24);
    // Every job arrives; the 10 in doubt twice, with the same body and job id, for the worker's idempotency.
    expect([...new Set(bodiesOf(moved))]).toEqual(sorted(bodies));
    const jobIds = moved.map((message) => (JSON.parse(String(message.Body)) as { jobId: string }).jobId);
    expect(new Set(jobIds).size).toBe(14);
    crashing.destroy();
  });

  it('simulated crash inside the send on a FIFO queue: the deduplication id keeps the resend out', async () => {
    const { stage, queue, journal } = await fixture(true);
    const bodies = await putDeadJobs(
      local.sqs,
      queue.dlqUrl,
      deadJobs(6).map((job, i) => ({ ...job, groupId: `tenant-${i % 2}` })),
    );
    const crashing = local.newClient();
    let inDoubt = 0;
    onCommand(crashing, 'SendMessageBatchCommand', async (send) => {
      const result = (await send()) as { output: { Successful?: unknown[] } };
      inDoubt = result.output.Successful?.length ?? 0;
      throw new Error('simulated connection loss after the send');
    });
    expect((await jobs(local, stage, ['dlq', 'redrive', 'default', '--journal', journal], { sqs: crashing })).code).toBe(1);
    expect(inDoubt).toBeGreaterThan(0);
    expect(await local.counts(queue.dlqUrl)).toEqual({ visible: 6, inFlight: 0, delayed: 0 });
    const rerun = await jobs(local, stage, ['dlq', 'redrive', 'default', '--journal', journal, '--json']);
    expect(reportOf(rerun.stdout)).toMatchObject({ sent: 6, resentAfterInterruptedSend: inDoubt });
    const moved = await local.drain(queue.url);
    expect(bodiesOf(moved)).toEqual(sorted(bodies));
    expect(new Set(moved.map((message) => message.Attributes?.MessageGroupId))).toEqual(new Set(['tenant-0', 'tenant-1']));
    crashing.destroy();
  });

  it('Ctrl-C (abort) halfway: finishes the batch in hand, releases the rest, and a rerun completes the move exactly', async () => {
    const { stage, queue, journal } = await fixture();
    const bodies = await putDeadJobs(local.sqs, queue.dlqUrl, deadJobs(35));
    const controller = new AbortController();
    const client = local.newClient();
    onCommand(
      client,
      'SendMessageBatchCommand',
      async (send) => {
        const result = await send();
        controller.abort(); // Ctrl-C arrives while the second batch is on its way
        return result;
      },
      2,
    );
    const stopped = await jobs(local, stage, ['dlq', 'redrive', 'default', '--journal', journal, '--json'], {
      sqs: client,
      signal: controller.signal,
    });
    expect(stopped.code).toBe(130);
    const report = reportOf(stopped.stdout);
    expect(report).toMatchObject({ interrupted: true, sent: 10, deletePending: 0 });
    expect(await local.counts(queue.dlqUrl)).toEqual({ visible: 25, inFlight: 0, delayed: 0 });

    const rerun = await jobs(local, stage, ['dlq', 'redrive', 'default', '--journal', journal, '--json']);
    expect(reportOf(rerun.stdout)).toMatchObject({ sent: 25, completed: 0 });
    expect(bodiesOf(await local.drain(queue.url))).toEqual(sorted(bodies));
    client.destroy();
  });

  it('the jobs bin stopped with SIGINT halfway, then run again: nothing lost, nothing duplicated', async () => {
    const { stage, queue, journal } = await fixture();
    const bodies = await putDeadJobs(local.sqs, queue.dlqUrl, deadJobs(40));
    const bin = fileURLToPath(new URL('../../functions/cli/bin.mjs', import.meta.url));
    expect(existsSync(bin)).toBe(true);
    const child = spawn(
      process.execPath,
      [bin, 'dlq', 'redrive', 'default', '--endpoint', local.endpoint, '--stage', stage, '--journal', journal, '--rate', '20'],
      {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '' },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += String(chunk)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += String(chunk);
        if (/redrive serverless-jobs-\S+: \d+\/40/.test(stderr)) resolve();
      }),
    );
    process.kill(-(child.pid ?? 0), 'SIGINT'); // Ctrl-C reaches the whole process group, as from a terminal
    expect(await exited).toBe(130);
    expect(stdout).toContain('interrupted: the rest is still in the DLQ');
    const moved = (await local.counts(queue.url)).visible;
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(40);
    expect(await local.counts(queue.dlqUrl)).toEqual({ visible: 40 - moved, inFlight: 0, delayed: 0 });

    const rerun = await jobs(local, stage, ['dlq', 'redrive', 'default', '--journal', journal, '--json']);
    expect(reportOf(rerun.stdout)).toMatchObject({ sent: 40 - moved, completed: 0, resentAfterInterruptedSend: 0 });
    expect(bodiesOf(await local.drain(queue.url))).toEqual(sorted(bodies));
  });
});

/** Reads a queue's messages without keeping them (receive, then visibility 0). */
async function peek(queueUrl: string): Promise<Message[]> {
  const { ReceiveMessageCommand, ChangeMessageVisibilityCommand } = await import('@aws-sdk/client-sqs');
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await local.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 30 }),
    );
    if (Messages.length === 0) break;
    all.push(...Messages);
  }
  for (const message of all)
    await local.sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 }),
    );
  return all;
}
