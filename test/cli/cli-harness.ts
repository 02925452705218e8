/**
 * Runs the `jobs` CLI in-process against a local SQS (fauxqs), with captured output, and builds the
 * stack's queues (per the naming rule) and dead-letter fixtures the way the worker writes them.
 */
import { CreateQueueCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { physicalQueueName } from '../../functions/client/queue-names.ts';
import type { CliIo } from '../../functions/cli/io.ts';
import { runCli } from '../../functions/cli/main.ts';
import { DEAD_LETTER_ATTRIBUTE } from '../../functions/runtime/dead-letter-attributes.ts';
import { ACCOUNT, REGION, type LocalSqs } from '../client/local-sqs.ts';

/** Output collected from one stream. */
export class Collector {
  text = '';
  readonly isTTY: boolean;
  readonly columns = 100;
  constructor(isTTY = false) {
    this.isTTY = isTTY;
  }
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/** What one CLI run returned and printed. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI with `--endpoint` and `--stage` set for the local SQS. */
export async function jobs(local: LocalSqs, stage: string, args: readonly string[], io: Partial<CliIo> = {}): Promise<CliRun> {
  const stdout = new Collector();
  const stderr = new Collector();
  const code = await runCli([...args, '--endpoint', local.endpoint, '--stage', stage], { stdout, stderr, env: {}, ...io });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** The URLs of a stack queue and its DLQ. */
export interface StackQueue {
  readonly url: string;
  readonly dlqUrl: string;
}

/** Creates `serverless-jobs-<stage>-<queue>` and its `-dlq` with a redrive policy, as the stack does. */
export async function createStackQueue(local: LocalSqs, stage: string, queue: string, fifo = false): Promise<StackQueue> {
  const name = physicalQueueName({ stage, queue, fifo });
  const dlqName = physicalQueueName({ stage, queue, fifo, deadLetter: true });
  const fifoAttributes: Record<string, string> = fifo ? { FifoQueue: 'true' } : {};
  await local.sqs.send(new CreateQueueCommand({ QueueName: dlqName, Attributes: fifoAttributes }));
  await local.sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        ...fifoAttributes,
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${dlqName}`, maxReceiveCount: 5 }),
      },
    }),
  );
  return { url: local.queueUrl(name), dlqUrl: local.queueUrl(dlqName) };
}

/** One dead job as the worker writes it to the DLQ: body unchanged, reason attributes attached. */
export interface DeadJob {
  readonly type: string;
  readonly jobId: string;
  readonly reason?: string;
  readonly groupId?: string;
}

/** Puts dead jobs on a DLQ the way the worker does. Returns the bodies sent. */
export async function putDeadJobs(sqs: SQSClient, dlqUrl: string, dead: readonly DeadJob[]): Promise<string[]> {
  const bodies: string[] = [];
  for (let start = 0; start < dead.length; start += 10) {
    const slice = dead.slice(start, start + 10);
    const entries = slice.map((job, index) => {
      const body = JSON.stringify({ type: job.type, payload: { n: job.jobId }, jobId: job.jobId, enqueuedAt: new Date().toISOString() });
      bodies.push(body);
      return {
        Id: String(index),
        MessageBody: body,
        MessageAttributes: {
          [DEAD_LETTER_ATTRIBUTE.reason]: { DataType: 'String', StringValue: job.reason ?? 'permanent_error' },
          [DEAD_LETTER_ATTRIBUTE.error]: { DataType: 'String', StringValue: `job ${job.jobId} failed for good` },
          [DEAD_LETTER_ATTRIBUTE.jobType]: { DataType: 'String', StringValue: job.type },
          [DEAD_LETTER_ATTRIBUTE.receiveCount]: { DataType: 'String', StringValue: '1' },
          [DEAD_LETTER_ATTRIBUTE.failedAt]: { DataType: 'String', StringValue: new Date().toISOString() },
          tenant: { DataType: 'String', StringValue: 'acme' },
        },
        ...(job.groupId === undefined ? {} : { MessageGroupId: job.groupId, MessageDeduplicationId: job.jobId }),
      };
    });
    const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: dlqUrl, Entries: entries }));
    if ((result.Failed ?? []).length > 0) throw new Error(`fixture send failed: ${JSON.stringify(result.Failed)}`);
  }
  return bodies;
}

/** `count` dead jobs of `type` with job ids `<prefix>-<i>`. */
export function deadJobs(count: number, type = 'send-email', prefix = type): DeadJob[] {
  return Array.from({ length: count }, (_, i) => ({ type, jobId: `${prefix}-${i}` }));
}

/** Polls until `check` is true (for SQS leases that expire); fails after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
