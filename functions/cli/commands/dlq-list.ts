/**
 * `jobs dlq list <queue>`: shows dead-letter messages without consuming them. Each is received under a
 * short lease and made visible again right after (ChangeMessageVisibility 0), so a worker or a redrive
 * running at the same time is delayed by at most the lease. Receiving does raise SQS's receive count of
 * the DLQ copy; nothing else changes.
 */
import { numberOption } from '../args.ts';
import { describeDeadLetter, receiveLeased, releaseLeases, type DeadLetterView } from '../dead-letters.ts';
import { UsageError } from '../errors.ts';
import { println, type CliIo, type ParsedValues } from '../io.ts';
import { oneLine, renderTable } from '../table.ts';
import { locateDeadLetterQueue, locateQueue, type Target } from '../target.ts';

/** Seconds a peeked message stays invisible if the release fails (e.g. the CLI is killed). */
export const PEEK_LEASE_SECONDS = 30;

/** Runs `dlq list`. */
export async function dlqListCommand(target: Target, positionals: readonly string[], values: ParsedValues, io: CliIo): Promise<number> {
  const [queueName, ...extra] = positionals;
  if (!queueName || extra.length > 0) throw new UsageError('usage: jobs dlq list <queue> [--limit N] [--json]');
  const limit = numberOption(values, 'limit', 1, 10_000) ?? 50;
  const source = await locateQueue(target, queueName);
  const dlq = await locateDeadLetterQueue(target, source);

  const views: DeadLetterView[] = [];
  const handles: string[] = [];
  const seen = new Set<string>();
  try {
    while (views.length < limit && !io.signal?.aborted) {
      const messages = await receiveLeased(target, dlq, limit - views.length, PEEK_LEASE_SECONDS);
      const fresh = messages.filter((message) => !seen.has(message.MessageId ?? ''));
      for (const message of messages) if (message.ReceiptHandle) handles.push(message.ReceiptHandle);
      if (fresh.length === 0) break;
      for (const message of fresh) {
        seen.add(message.MessageId ?? '');
        views.push(describeDeadLetter(message));
      }
    }
  } finally {
    const unreleased = await releaseLeases(target, dlq, handles);
    if (unreleased > 0)
      println(io.stderr, `jobs: ${unreleased} message(s) could not be made visible again; they reappear within ${PEEK_LEASE_SECONDS} s`);
  }

  if (values.json === true) {
    println(io.stdout, JSON.stringify(views));
    return 0;
  }
  if (views.length === 0) {
    println(io.stdout, `${dlq.name} is empty (${target.target})`);
    return 0;
  }
  println(io.stdout, `${dlq.name}: ${views.length} message(s)${views.length >= limit ? ` (first ${limit}; --limit for more)` : ''}`);
  println(
    io.stdout,
    renderTable(
      ['MESSAGE ID', 'JOB TYPE', 'REASON', 'RECEIVES', 'FAILED AT', 'ERROR'],
      views.map((view) => [
        view.messageId,
        view.jobType ?? '?',
        view.reason ?? '(redrive policy)',
        view.receiveCount ?? '-',
        view.failedAt ?? '-',
        oneLine(view.error ?? '', 80),
      ]),
    ),
  );
  return 0;
}
