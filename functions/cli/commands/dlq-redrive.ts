/**
 * `jobs dlq redrive <queue> [--type T] [--reason R] [--limit N] [--rate R]`: the command around {@link redrive}
 * (functions/cli/redrive.ts, where its guarantees are): options, the default journal, progress, the printed report.
 */
import { resolve } from 'node:path';
import { numberOption, stringOption } from '../args.ts';
import { reasonOption } from '../dead-letters.ts';
import { UsageError } from '../errors.ts';
import { println, type CliIo, type ParsedValues } from '../io.ts';
import { LOCAL_STATE_DIR } from '../paths.ts';
import { createProgress } from '../progress.ts';
import { redrive } from '../redrive.ts';
import { locateDeadLetterQueue, locateQueue, type LocatedQueue, type Target } from '../target.ts';
import { queueDepth } from './queues.ts';

/** Default lease on received DLQ messages, in seconds. */
export const DEFAULT_LEASE_SECONDS = 120;

/** The default journal file of a DLQ: one per endpoint host, account and queue. */
export function defaultJournalPath(dlq: LocatedQueue): string {
  const url = new URL(dlq.url);
  return resolve(LOCAL_STATE_DIR, 'redrive', `${`${url.host}${url.pathname}`.replace(/[^\w.-]+/g, '_')}.jsonl`);
}

/** Runs `dlq redrive`. Exit code: 0 done, 1 something left to do (failures, pending deletes), 130 interrupted. */
export async function dlqRedriveCommand(target: Target, positionals: readonly string[], values: ParsedValues, io: CliIo): Promise<number> {
  const [queueName, ...extra] = positionals;
  if (!queueName || extra.length > 0)
    throw new UsageError('usage: jobs dlq redrive <queue> [--type T] [--reason R] [--limit N] [--rate R]');
  const limit = numberOption(values, 'limit', 1, Number.MAX_SAFE_INTEGER) ?? Number.POSITIVE_INFINITY;
  const rate = numberOption(values, 'rate', 0.1, 10_000, true);
  const leaseSeconds = numberOption(values, 'lease', 1, 43_200) ?? DEFAULT_LEASE_SECONDS;
  const type = stringOption(values, 'type');
  const reason = reasonOption(stringOption(values, 'reason'));
  const source = await locateQueue(target, queueName);
  const dlq = await locateDeadLetterQueue(target, source);
  const journalOption = stringOption(values, 'journal');
  const journalPath = journalOption === undefined ? defaultJournalPath(dlq) : resolve(io.cwd ?? process.cwd(), journalOption);

  const depth = await queueDepth(target, dlq.url);
  const progress = createProgress(io.stderr, `redrive ${dlq.name}`, Math.min(limit, depth.visible));
  const report = await redrive(target, source, dlq, {
    type,
    reason,
    limit,
    rate,
    leaseSeconds,
    journalPath,
    signal: io.signal,
    onProgress: (moved) => progress.update(moved),
  });
  progress.finish();

  if (values.json === true) {
    println(io.stdout, JSON.stringify(report));
  } else {
    println(io.stdout, `redrove ${report.sent + report.completed} message(s) from ${report.from} to ${report.to}`);
    if (report.completed > 0)
      println(io.stdout, `  ${report.completed} had been sent by an earlier run: deleted from the DLQ now, not sent again`);
    if (report.skipped > 0) {
      const wanted = [type === undefined ? '' : `job type ${type}`, reason === undefined ? '' : `reason ${reason}`]
        .filter(Boolean)
        .join(', ');
      println(io.stdout, `  ${report.skipped} not matching ${wanted}: left in the DLQ`);
    }
    if (report.arrivedDuringRun > 0) {
      println(
        io.stdout,
        `  ${report.arrivedDuringRun} reached the DLQ after this redrive started (redriven jobs that failed again): left in the DLQ; fix the cause, then redrive again`,
      );
    }
    if (report.failed > 0) println(io.stdout, `  ${report.failed} could not be sent and are still in the DLQ: ${report.errors.join('; ')}`);
    if (report.deletePending > 0)
      println(
        io.stdout,
        `  ${report.deletePending} sent but not yet deleted from the DLQ: run again to finish (they will not be sent twice)`,
      );
    if (report.resentAfterInterruptedSend > 0) {
      println(
        io.stdout,
        `  ${report.resentAfterInterruptedSend} were in an interrupted send: sent again (same job id; the worker's idempotency absorbs a duplicate)`,
      );
    }
    if (report.interrupted) println(io.stdout, '  interrupted: the rest is still in the DLQ; run the same command again to continue');
    println(io.stdout, `  journal: ${report.journal}`);
  }
  if (report.interrupted) return 130;
  return report.failed > 0 || report.deletePending > 0 ? 1 : 0;
}
