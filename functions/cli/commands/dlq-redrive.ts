/**
 * `jobs dlq redrive <queue> [--type T] [--reason R] [--limit N] [--rate R]`: the command around {@link redrive}
 * (functions/cli/redrive.ts, where its guarantees are): options, the default journal, progress, the printed report.
 * `jobs dlq redrive scheduler` sends each message of the Scheduler's DLQ to the job queue it was meant for (its
 * `TARGET_ARN`): one redrive per job queue of the catalog, each taking only that queue's messages.
 */
import { resolve } from 'node:path';
import type { Message } from '@aws-sdk/client-sqs';
import { numberOption, stringOption } from '../args.ts';
import { reasonOption, scheduledTargetOf } from '../dead-letters.ts';
import { queueNames } from '../../jobs/catalog.ts';
import { QueueMissingError, UsageError } from '../errors.ts';
import { println, type CliIo, type ParsedValues } from '../io.ts';
import { LOCAL_STATE_DIR } from '../paths.ts';
import { createProgress } from '../progress.ts';
import { redrive, type RedriveOptions, type RedriveReport } from '../redrive.ts';
import { locateDeadLetters, locateQueue, type LocatedQueue, type Target } from '../target.ts';
import { queueDepth } from './queues.ts';

/** Default lease on received DLQ messages, in seconds. */
export const DEFAULT_LEASE_SECONDS = 120;

/** The default journal file of a DLQ: one per endpoint host, account and queue. */
export function defaultJournalPath(dlq: LocatedQueue): string {
  const url = new URL(dlq.url);
  return resolve(LOCAL_STATE_DIR, 'redrive', `${`${url.host}${url.pathname}`.replace(/[^\w.-]+/g, '_')}.jsonl`);
}

/** Prints what one redrive did; `filters` names the `--type` / `--reason` filters (undefined: skipped ones are not told). */
function printReport(io: CliIo, report: RedriveReport, filters: string | undefined): void {
  println(io.stdout, `redrove ${report.sent + report.completed} message(s) from ${report.from} to ${report.to}`);
  if (report.completed > 0)
    println(io.stdout, `  ${report.completed} had been sent by an earlier run: deleted from the DLQ now, not sent again`);
  if (report.skipped > 0 && filters !== undefined) println(io.stdout, `  ${report.skipped} not matching ${filters}: left in the DLQ`);
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
}

/** The exit code of a redrive: 130 interrupted, 1 something left to do (failures, pending deletes), else 0. */
function exitCode(reports: readonly RedriveReport[]): number {
  if (reports.some((report) => report.interrupted)) return 130;
  return reports.some((report) => report.failed > 0 || report.deletePending > 0) ? 1 : 0;
}

/** The Scheduler's DLQ, one job queue at a time: each pass takes the messages meant for that queue. */
async function redriveScheduled(target: Target, dlq: LocatedQueue, options: RedriveOptions): Promise<RedriveReport[]> {
  const reports: RedriveReport[] = [];
  let moved = 0;
  for (const queue of queueNames) {
    if (options.signal?.aborted || moved >= options.limit) break;
    const source = await locateQueue(target, queue).catch((error: unknown) => {
      if (error instanceof QueueMissingError) return undefined;
      throw error;
    });
    if (source === undefined) continue;
    const select = (message: Message): boolean => scheduledTargetOf(message) === source.name;
    const before = moved;
    const onProgress = (passMoved: number): void => options.onProgress?.(before + passMoved);
    const report = await redrive(target, source, dlq, { ...options, limit: options.limit - moved, select, onProgress });
    moved += report.sent + report.completed;
    reports.push(report);
  }
  return reports;
}

/** Runs `dlq redrive`. Exit code: 0 done, 1 something left to do (failures, pending deletes), 130 interrupted. */
export async function dlqRedriveCommand(target: Target, positionals: readonly string[], values: ParsedValues, io: CliIo): Promise<number> {
  const [queueName, ...extra] = positionals;
  if (!queueName || extra.length > 0)
    throw new UsageError('usage: jobs dlq redrive <queue> [--type T] [--reason R] [--limit N] [--rate R]');
  const limit = numberOption(values, 'limit', 1, Number.MAX_SAFE_INTEGER) ?? Number.POSITIVE_INFINITY;
  const type = stringOption(values, 'type');
  const reason = reasonOption(stringOption(values, 'reason'));
  const { source, dlq } = await locateDeadLetters(target, queueName);
  const journalOption = stringOption(values, 'journal');
  const journalPath = journalOption === undefined ? defaultJournalPath(dlq) : resolve(io.cwd ?? process.cwd(), journalOption);

  const depth = await queueDepth(target, dlq.url);
  const progress = createProgress(io.stderr, `redrive ${dlq.name}`, Math.min(limit, depth.visible));
  const options: RedriveOptions = {
    type,
    reason,
    limit,
    rate: numberOption(values, 'rate', 0.1, 10_000, true),
    leaseSeconds: numberOption(values, 'lease', 1, 43_200) ?? DEFAULT_LEASE_SECONDS,
    journalPath,
    signal: io.signal,
    onProgress: (moved) => progress.update(moved),
  };
  const reports = source === undefined ? await redriveScheduled(target, dlq, options) : [await redrive(target, source, dlq, options)];
  progress.finish();

  if (values.json === true) {
    println(io.stdout, JSON.stringify(source === undefined ? reports : reports[0]));
    return exitCode(reports);
  }
  const filters = [type === undefined ? '' : `job type ${type}`, reason === undefined ? '' : `reason ${reason}`].filter(Boolean).join(', ');
  for (const report of reports) printReport(io, report, source === undefined ? undefined : filters);
  if (source === undefined) {
    const left = await queueDepth(target, dlq.url);
    if (left.visible + left.inFlight > 0)
      println(io.stdout, `  ${left.visible + left.inFlight} left in ${dlq.name} (filtered out, or meant for a queue not found here)`);
  }
  println(io.stdout, `  journal: ${journalPath}`);
  return exitCode(reports);
}
