/**
 * `jobs dlq list scheduler` and `jobs dlq redrive scheduler`: the Scheduler's dead-letter queue on a real local SQS,
 * holding deliveries the Scheduler gave up on (the job message as the body, the Scheduler's attributes beside it).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { physicalQueueName } from '../../functions/client/queue-names.ts';
import { SCHEDULER_DEAD_LETTER_ATTRIBUTE } from '../../functions/scheduling/message.ts';
import { schedulerDeadLetterQueueName } from '../../functions/scheduling/names.ts';
import { ACCOUNT, REGION, startLocalSqs, type LocalSqs } from '../client/local-sqs.ts';
import { createStackQueue, jobs, type StackQueue } from './cli-harness.ts';

let local: LocalSqs;
let dir: string;
let stages = 0;

beforeAll(async () => {
  local = await startLocalSqs();
  dir = mkdtempSync(join(tmpdir(), 'jobs-cli-scheduler-dlq-'));
});

afterAll(async () => {
  await local.close();
});

type NamedQueue = StackQueue & { readonly name: string };

async function stackQueue(stage: string, queue: string): Promise<NamedQueue> {
  return { ...(await createStackQueue(local, stage, queue)), name: physicalQueueName({ stage, queue }) };
}

interface Stage {
  readonly stage: string;
  readonly dlqUrl: string;
  readonly queues: { readonly default: NamedQueue; readonly webhooks: NamedQueue };
}

async function newStage(): Promise<Stage> {
  stages += 1;
  const name = `sd${stages}`;
  return {
    stage: name,
    dlqUrl: await local.createQueue(schedulerDeadLetterQueueName(name)),
    queues: { default: await stackQueue(name, 'default'), webhooks: await stackQueue(name, 'webhooks') },
  };
}

/** Puts one delivery the Scheduler gave up on, meant for `queueName`, as the Scheduler writes it. */
async function putUndelivered(dlqUrl: string, queueName: string, body: object): Promise<void> {
  const attribute = SCHEDULER_DEAD_LETTER_ATTRIBUTE;
  const values = {
    [attribute.errorCode]: 'AWS.SimpleQueueService.NonExistentQueue',
    [attribute.errorMessage]: 'The specified queue does not exist.',
    [attribute.retryAttempts]: '0',
    [attribute.scheduleArn]: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/g/j.x`,
    [attribute.targetArn]: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueName}`,
  };
  const MessageAttributes = Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, { DataType: 'String', StringValue: value }]),
  );
  await local.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify(body), MessageAttributes }));
}

const email = (jobId: string) => ({ type: 'send-email', payload: { to: 'ada@example.com', subject: 'Hi' }, jobId });
const webhook = (jobId: string) => ({ type: 'deliver-webhook', payload: { url: 'https://example.com/hook' }, jobId });

describe("the Scheduler's dead-letter queue from the CLI", () => {
  it("lists an undelivered job with the queue it was meant for and the Scheduler's error", async () => {
    const { stage: name, dlqUrl, queues } = await newStage();
    await putUndelivered(dlqUrl, queues.default.name, email('later-1'));
    const run = await jobs(local, name, ['dlq', 'list', 'scheduler', '--json']);
    expect(run.code).toBe(0);
    const [view] = JSON.parse(run.stdout) as { reason: string; error: string; jobType: string; sourceQueue: string }[];
    expect(view).toMatchObject({ reason: 'not_delivered', jobType: 'send-email', sourceQueue: queues.default.name });
    expect(view?.error).toBe(
      `the Scheduler could not send it to ${queues.default.name}: AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.`,
    );
  });

  it("redrives each undelivered job to the job queue it was meant for, without the Scheduler's attributes", async () => {
    const { stage: name, dlqUrl, queues } = await newStage();
    await putUndelivered(dlqUrl, queues.default.name, email('later-2'));
    await putUndelivered(dlqUrl, queues.webhooks.name, webhook('later-3'));
    const run = await jobs(local, name, ['dlq', 'redrive', 'scheduler', '--journal', join(dir, `${name}.jsonl`)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`redrove 1 message(s) from ${schedulerDeadLetterQueueName(name)} to ${queues.default.name}`);
    expect(run.stdout).toContain(`redrove 1 message(s) from ${schedulerDeadLetterQueueName(name)} to ${queues.webhooks.name}`);
    const [toDefault] = await local.drain(queues.default.url);
    const [toWebhooks] = await local.drain(queues.webhooks.url);
    expect([JSON.parse(toDefault?.Body ?? '{}').jobId, JSON.parse(toWebhooks?.Body ?? '{}').jobId]).toEqual(['later-2', 'later-3']);
    expect(Object.keys(toDefault?.MessageAttributes ?? {})).toEqual(['redrivenFrom']);
    expect(await local.drain(dlqUrl)).toEqual([]);
  });

  it('leaves an undelivered job meant for a queue this stage does not have in the DLQ, and says so', async () => {
    const { stage: name, dlqUrl } = await newStage();
    await putUndelivered(dlqUrl, 'serverless-jobs-gone-default', email('later-4'));
    const run = await jobs(local, name, ['dlq', 'redrive', 'scheduler', '--journal', join(dir, `${name}.jsonl`)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`1 left in ${schedulerDeadLetterQueueName(name)} (filtered out, or meant for a queue not found here)`);
    expect((await local.drain(dlqUrl)).map((message) => JSON.parse(message.Body ?? '{}').jobId)).toEqual(['later-4']);
  });
});
