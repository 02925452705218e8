/**
 * `jobs dlq list <queue>`: shows dead-letter messages without consuming them. Each is received under a
 * short lease and made visible again right after (ChangeMessageVisibility 0), so a worker or a redrive
 * running at the same time is delayed by at most the lease. Receiving does raise SQS's receive count of
 * the DLQ copy; nothing else changes. A message without the worker's reason was moved by SQS (the worker
 * crashed, timed out or ran out of memory): it is listed with reason `crashed` and what that means.
 * `--type` and `--reason` filter the listing.
 */
import { numberOption, stringOption } from '../args.ts';
import { peekDeadLetters, reasonOption } from '../dead-letters.ts';
import { UsageError } from '../errors.ts';
import { println, type CliIo, type ParsedValues } from '../io.ts';
import { oneLine, renderTable } from '../table.ts';
import { locateDeadLetters, type Target } from '../target.ts';

/** Seconds a peeked message stays invisible if the release fails (e.g. the CLI is killed). */
export const PEEK_LEASE_SECONDS = 30;

/** Runs `dlq list`. */
export async function dlqListCommand(target: Target, positionals: readonly string[], values: ParsedValues, io: CliIo): Promise<number> {
  const [queueName, ...extra] = positionals;
  if (!queueName || extra.length > 0) throw new UsageError('usage: jobs dlq list <queue> [--limit N] [--type T] [--reason R] [--json]');
  const limit = numberOption(values, 'limit', 1, 10_000) ?? 50;
  const filter = { type: stringOption(values, 'type'), reason: reasonOption(stringOption(values, 'reason')) };
  const { dlq } = await locateDeadLetters(target, queueName);

  const { views, read, unreleased } = await peekDeadLetters(target, dlq, limit, PEEK_LEASE_SECONDS, { filter, signal: io.signal });
  if (unreleased > 0)
    println(io.stderr, `jobs: ${unreleased} message(s) could not be made visible again; they reappear within ${PEEK_LEASE_SECONDS} s`);

  if (values.json === true) {
    println(io.stdout, JSON.stringify(views));
    return 0;
  }
  const filtered = [
    filter.type === undefined ? '' : `--type ${filter.type}`,
    filter.reason === undefined ? '' : `--reason ${filter.reason}`,
  ]
    .filter(Boolean)
    .join(' ');
  if (views.length === 0) {
    println(
      io.stdout,
      filtered === '' ? `${dlq.name} is empty (${target.target})` : `${dlq.name}: none of ${read} message(s) matches ${filtered}`,
    );
    return 0;
  }
  println(
    io.stdout,
    `${dlq.name}: ${views.length} message(s)${filtered === '' ? '' : ` matching ${filtered}`}` +
      `${views.length >= limit ? ` (first ${limit}; --limit for more)` : ''}`,
  );
  println(
    io.stdout,
    renderTable(
      ['MESSAGE ID', 'JOB TYPE', 'REASON', 'RECEIVES', 'FAILED AT', 'ERROR'],
      views.map((view) => [
        view.messageId,
        view.jobType ?? '?',
        view.reason,
        view.receiveCount ?? '-',
        view.failedAt ?? '-',
        oneLine(view.error ?? '', 90),
      ]),
    ),
  );
  return 0;
}
