/**
 * Queue helpers of the fault-injection run: sending the plan's messages at a steady pace, waiting until every
 * queue is drained, and reading the dead-letter queues back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { LocalSqsServer } from '../../functions/local/sqs-server.ts';
import { DEAD_LETTER_ATTRIBUTE } from '../../functions/runtime/dead-letter-attributes.ts';

/** One message to send. */
export interface OutgoingMessage {
  readonly body: string;
  /** FIFO only. */
  readonly groupId?: string;
  readonly deduplicationId?: string;
}

/** How fast {@link sendPaced} sends. */
export interface Pace {
  /** At most this many messages per second. */
  readonly perSecond: number;
  /** Do not send while the queue holds more than this many visible messages (undefined: no bound). */
  readonly maxVisible?: number;
  /** The queue's visible messages now (with `maxVisible`). */
  readonly visible?: () => Promise<number>;
}

/**
 * Sends `messages` to `queueUrl` in batches of 10, in order, like a producer rather than a flood: at most
 * `perSecond`, and never while more than `maxVisible` messages wait. The emulated SQS hands out a standard
 * queue's messages oldest first, so a retried message waits behind every visible one: a bounded backlog keeps
 * that wait short however slow the machine is. Resolves with the SQS message ids, in order; rejects on any
 * failed entry.
 */
export async function sendPaced(client: SQSClient, queueUrl: string, messages: readonly OutgoingMessage[], pace: Pace): Promise<string[]> {
  const started = Date.now();
  const ids: string[] = [];
  for (let offset = 0; offset < messages.length; offset += 10) {
    if (pace.maxVisible !== undefined && pace.visible !== undefined) {
      while ((await pace.visible()) > pace.maxVisible) await sleep(20);
    }
    const batch = messages.slice(offset, offset + 10);
    const output = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((message, index) => ({
          Id: String(index),
          MessageBody: message.body,
          ...(message.groupId === undefined ? {} : { MessageGroupId: message.groupId }),
          ...(message.deduplicationId === undefined ? {} : { MessageDeduplicationId: message.deduplicationId }),
        })),
      }),
    );
    if ((output.Failed ?? []).length > 0 || output.Successful?.length !== batch.length)
      throw new Error(`send failed: ${JSON.stringify(output.Failed)}`);
    const byEntry = new Map(output.Successful.map((entry) => [entry.Id, entry.MessageId ?? '']));
    ids.push(...batch.map((_, index) => byEntry.get(String(index)) ?? ''));
    const due = started + (ids.length / pace.perSecond) * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  return ids;
}

/** Messages per queue name that are visible, in flight or delayed. */
export async function pendingMessages(sqs: LocalSqsServer): Promise<Map<string, number>> {
  const counts = await sqs.counts();
  return new Map([...counts].map(([name, count]) => [name, count.visible + count.inFlight + count.delayed]));
}

/** Resolves when `queueNames` have nothing visible, in flight or delayed (twice in a row); rejects after `timeoutMs`. */
export async function waitUntilDrained(sqs: LocalSqsServer, queueNames: readonly string[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let emptyPolls = 0;
  for (;;) {
    const pending = await pendingMessages(sqs);
    const left = queueNames.reduce((sum, name) => sum + (pending.get(name) ?? 0), 0);
    emptyPolls = left === 0 ? emptyPolls + 1 : 0;
    if (emptyPolls >= 2) return;
    if (Date.now() > until) {
      throw new Error(
        `queues not drained within ${timeoutMs} ms: ${JSON.stringify(Object.fromEntries(queueNames.map((name) => [name, pending.get(name)])))}`,
      );
    }
    await sleep(250);
  }
}

/** A dead-lettered message as the worker left it. */
export interface DeadLetter {
  readonly body: string;
  readonly reason: string | undefined;
  readonly error: string | undefined;
  readonly receiveCount: string | undefined;
  readonly jobType: string | undefined;
}

/** Receives and deletes every message of a (dead-letter) queue. */
export async function drainDeadLetters(client: SQSClient, queueUrl: string): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for (;;) {
    const output = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
    );
    const messages = output.Messages ?? [];
    if (messages.length === 0) return letters;
    for (const message of messages) {
      const attribute = (name: string): string | undefined => message.MessageAttributes?.[name]?.StringValue;
      letters.push({
        body: message.Body ?? '',
        reason: attribute(DEAD_LETTER_ATTRIBUTE.reason),
        error: attribute(DEAD_LETTER_ATTRIBUTE.error),
        receiveCount: attribute(DEAD_LETTER_ATTRIBUTE.receiveCount),
        jobType: attribute(DEAD_LETTER_ATTRIBUTE.jobType),
      });
    }
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
  }
}
