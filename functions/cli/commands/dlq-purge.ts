/** `jobs dlq purge <queue> [--yes]`: deletes every message of a queue's DLQ, after a confirmation. */
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { CliError, UsageError } from '../errors.ts';
import { println, type CliIo, type ParsedValues } from '../io.ts';
import { locateDeadLetters, type Target } from '../target.ts';
import { queueDepth } from './queues.ts';

/** Runs `dlq purge`. Exit code 1 when the user says no. */
export async function dlqPurgeCommand(target: Target, positionals: readonly string[], values: ParsedValues, io: CliIo): Promise<number> {
  const [queueName, ...extra] = positionals;
  if (!queueName || extra.length > 0) throw new UsageError('usage: jobs dlq purge <queue> [--yes]');
  const { dlq } = await locateDeadLetters(target, queueName);
  const depth = await queueDepth(target, dlq.url);
  const count = depth.visible + depth.inFlight + depth.delayed;
  if (count === 0) {
    println(io.stdout, `${dlq.name} is already empty`);
    return 0;
  }
  if (values.yes !== true) {
    if (!io.confirm) throw new CliError(`refusing to purge ${dlq.name} without confirmation: not a terminal; pass --yes`);
    const yes = await io.confirm(`Delete all ${count} message(s) of ${dlq.name} (${target.target})? This cannot be undone. [y/N] `);
    if (!yes) {
      println(io.stdout, 'not purged');
      return 1;
    }
  }
  await target.sqs.send(new PurgeQueueCommand({ QueueUrl: dlq.url }));
  println(io.stdout, `purged ${dlq.name} (${count} message(s))${target.local ? '' : '; SQS may take up to 60 s to finish'}`);
  return 0;
}
