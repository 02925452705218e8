/**
 * `jobs enqueue <type> <json|@file|@->` sends one job; `jobs enqueue <type> --from file.jsonl` sends one
 * job per line (a payload per line) with SendMessageBatch, showing progress and listing failures.
 * Both go through the producer client, so the payload checks are the producers' own.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createJobsClient, type JobsClient, type UncheckedJobRequest } from '../../client/client.ts';
import { UnknownJobError } from '../../client/errors.ts';
import { MAX_DELAY_SECONDS, MAX_SCHEDULED_DELAY_SECONDS, type EnqueueOptions } from '../../client/message.ts';
import { catalog, findJob } from '../../jobs/catalog.ts';
import { stringOption } from '../args.ts';
import { CliError, UsageError } from '../errors.ts';
import { println, type CliIo, type ParsedValues } from '../io.ts';
import { createProgress, type Progress } from '../progress.ts';
import { delaySettings, schedulerTarget } from '../scheduler-target.ts';
import { locateQueue, type Target } from '../target.ts';

/** Lines sent per `enqueueMany` call when reading a file (bounded memory for any file size). */
const CHUNK_LINES = 500;
/** Failures listed in the summary; the rest are counted. */
const MAX_LISTED_FAILURES = 20;

/** Reads a payload argument: JSON as given, `@file` (relative to the working directory) or `@-` (standard input). */
export async function readPayloadText(argument: string, io: CliIo): Promise<string> {
  if (!argument.startsWith('@')) return argument;
  const path = argument.slice(1);
  if (path === '-') {
    if (!io.stdin) throw new UsageError('@- reads the payload from standard input, which is not available');
    let text = '';
    for await (const chunk of io.stdin) text += String(chunk);
    return text;
  }
  try {
    return await readFile(resolve(io.cwd ?? process.cwd(), path), 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the payload file ${path}: ${(error as Error).message}`);
  }
}

const DELAY_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** `--delay`: seconds, or a number with a unit (`30m`, `2h`, `3d`), up to one year. */
export function parseDelay(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * (DELAY_UNITS[match[2] || 's'] ?? 1) : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds > MAX_SCHEDULED_DELAY_SECONDS) {
    throw new UsageError(`--delay must be seconds or 30m / 2h / 3d, at most one year (${MAX_SCHEDULED_DELAY_SECONDS} s), got "${text}"`);
  }
  return seconds;
}

/** `--at`: an ISO 8601 time with its offset (`2026-12-24T08:00:00Z`). */
function parseAt(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const at = new Date(text);
  if (!/[zZ]|[+-]\d\d:?\d\d$/.test(text) || Number.isNaN(at.getTime())) {
    throw new UsageError(`--at must be an ISO 8601 time with its offset, e.g. 2026-12-24T08:00:00Z, got "${text}"`);
  }
  return at;
}

function enqueueOptions(values: ParsedValues, bulk: boolean): EnqueueOptions {
  if (bulk && stringOption(values, 'job-id') !== undefined) throw new UsageError('--job-id names one job; with --from use --job-id-prefix');
  const delaySeconds = parseDelay(stringOption(values, 'delay'));
  const runAt = parseAt(stringOption(values, 'at'));
  if (delaySeconds !== undefined && runAt !== undefined) throw new UsageError('give --delay or --at, not both');
  const jobId = stringOption(values, 'job-id');
  const groupId = stringOption(values, 'group');
  const deduplicationId = stringOption(values, 'dedup-id');
  return {
    ...(delaySeconds === undefined ? {} : { delaySeconds }),
    ...(runAt === undefined ? {} : { runAt }),
    ...(jobId === undefined ? {} : { jobId }),
    ...(groupId === undefined ? {} : { groupId }),
    ...(deduplicationId === undefined ? {} : { deduplicationId }),
  };
}

/** Whether `--delay` / `--at` ask for more than SQS's 900 s, so a one-time schedule will send (a minute's slack for the clock). */
function needsScheduler(values: ParsedValues): boolean {
  const { delaySeconds, runAt } = enqueueOptions(values, false);
  const seconds = delaySeconds ?? (runAt === undefined ? 0 : (runAt.getTime() - Date.now()) / 1000);
  return seconds > MAX_DELAY_SECONDS - 60;
}

async function countLines(path: string): Promise<number> {
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(path)) {
    const bytes = chunk as Buffer;
    for (const byte of bytes) if (byte === 10) lines += 1;
    if (bytes.length > 0) last = bytes.at(-1) ?? 10;
  }
  return last === 10 ? lines : lines + 1;
}

interface LineFailure {
  readonly line: number;
  readonly message: string;
}

/** What an enqueue from a file counted, line by line. */
class FileTally {
  /** Lines read, non-blank lines (jobs), jobs sent, jobs failed, blank lines. */
  read = 0;
  jobs = 0;
  sent = 0;
  failed = 0;
  blank = 0;
  /** The failures of the lowest line numbers, in line order, for the report. */
  readonly failures: LineFailure[] = [];

  /** Counts a failed line. Lines that are not JSON fail as they are read, the others when their chunk is sent: keep line order. */
  fail(line: number, message: string): void {
    this.failed += 1;
    this.failures.push({ line, message });
    this.failures.sort((a, b) => a.line - b.line);
    if (this.failures.length > MAX_LISTED_FAILURES) this.failures.pop();
  }

  settled(): number {
    return this.sent + this.failed + this.blank;
  }

  note(): string {
    return this.failed > 0 ? `(${this.failed} failed)` : '';
  }
}

/** A job read from a line of the file. */
interface LineJob {
  readonly line: number;
  readonly job: UncheckedJobRequest;
}

/** One line's job, or undefined for a blank line or one that is not JSON (counted as failed). */
function lineJob(
  text: string,
  tally: FileTally,
  job: { type: string; options: EnqueueOptions; prefix: string | undefined },
): LineJob | undefined {
  if (!text.trim()) {
    tally.blank += 1;
    return undefined;
  }
  tally.jobs += 1;
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    tally.fail(tally.read, `not JSON: ${(error as Error).message}`);
    return undefined;
  }
  const options = job.prefix === undefined ? job.options : { ...job.options, jobId: `${job.prefix}-${tally.read}` };
  return { line: tally.read, job: { type: job.type, payload, options } };
}

/** Sends one chunk of lines with enqueueMany and counts each entry. */
async function sendChunk(client: JobsClient, chunk: readonly LineJob[], tally: FileTally, progress: Progress): Promise<void> {
  if (chunk.length === 0) return;
  const before = tally.settled();
  const result = await client.enqueueManyUnchecked(
    chunk.map((entry) => entry.job),
    { onProgress: (settled) => progress.update(before + settled, tally.note()) },
  );
  for (const entry of result.entries) {
    if (entry.ok) tally.sent += 1;
    else tally.fail(chunk[entry.index]?.line ?? 0, `${entry.error.name}: ${entry.error.message}`);
  }
  progress.update(tally.settled(), tally.note());
}

async function enqueueFile(
  client: JobsClient,
  type: string,
  file: string,
  values: ParsedValues,
  io: CliIo,
  queueName: string,
): Promise<number> {
  const path = resolve(io.cwd ?? process.cwd(), file);
  let lineCount: number;
  try {
    lineCount = await countLines(path);
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const job = { type, options: enqueueOptions(values, true), prefix: stringOption(values, 'job-id-prefix') };
  const tally = new FileTally();
  const progress = createProgress(io.stderr, `enqueue ${type}`, lineCount);
  let chunk: LineJob[] = [];
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let interrupted = false;
  for await (const text of lines) {
    tally.read += 1;
    const entry = lineJob(text, tally, job);
    if (entry !== undefined) chunk.push(entry);
    if (chunk.length >= CHUNK_LINES) {
      await sendChunk(client, chunk, tally, progress);
      chunk = [];
    }
    if (io.signal?.aborted) {
      interrupted = true;
      break;
    }
  }
  lines.close();
  await sendChunk(client, chunk, tally, progress);
  progress.finish();
  return printFileReport(io, tally, `${type} jobs to ${queueName}`, interrupted);
}

/** Prints what an enqueue from a file did; the exit code: 0 all sent, 1 some failed, 130 interrupted. */
function printFileReport(io: CliIo, tally: FileTally, what: string, interrupted: boolean): number {
  println(io.stdout, `sent ${tally.sent} of ${tally.jobs} ${what}${tally.failed > 0 ? `; ${tally.failed} failed:` : ''}`);
  for (const failure of tally.failures) println(io.stdout, `  line ${failure.line}: ${failure.message}`);
  if (tally.failed > tally.failures.length) println(io.stdout, `  ... and ${tally.failed - tally.failures.length} more`);
  if (interrupted) {
    println(io.stderr, `interrupted after line ${tally.read}: the lines after it were not sent (rerun with the rest of the file)`);
    return 130;
  }
  return tally.failed > 0 ? 1 : 0;
}

/** Runs `enqueue`. */
export async function enqueueCommand(target: Target, positionals: readonly string[], values: ParsedValues, io: CliIo): Promise<number> {
  const [type, payloadArgument, ...extra] = positionals;
  const from = stringOption(values, 'from');
  if (!type) throw new UsageError('enqueue needs a job type: jobs enqueue <type> <json|@file> | --from <file.jsonl>');
  const job = findJob(type);
  if (!job) throw new UnknownJobError(type, Object.keys(catalog));
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}" (quote the JSON payload)`);
  if (from !== undefined && payloadArgument !== undefined) throw new UsageError('give a payload or --from, not both');
  if (from === undefined && payloadArgument === undefined)
    throw new UsageError('enqueue needs a payload: <json>, @file, @- or --from <file.jsonl>');

  const queue = await locateQueue(target, job.queue);
  const scheduler = schedulerTarget(target, io.env);
  try {
    const settings = needsScheduler(values) ? await delaySettings(target, scheduler, queue.url, io.env) : scheduler.settings;
    const client = createJobsClient({
      sqs: target.sqs,
      queueUrls: { [job.queue]: queue.url },
      scheduler: scheduler.client,
      schedulerSettings: settings,
      env: io.env,
    });
    if (from !== undefined) return await enqueueFile(client, type, from, values, io, queue.name);
    return await enqueueOne(client, type, payloadArgument ?? '', values, io, queue.name);
  } finally {
    scheduler.client.destroy();
  }
}

async function enqueueOne(
  client: JobsClient,
  type: string,
  payloadArgument: string,
  values: ParsedValues,
  io: CliIo,
  queueName: string,
): Promise<number> {
  const text = await readPayloadText(payloadArgument, io);
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw new CliError(`the payload is not valid JSON: ${(error as Error).message}`);
  }
  const result = await client.enqueueUnchecked(type, payload, enqueueOptions(values, false));
  if (values.json === true) {
    println(io.stdout, JSON.stringify({ type, queue: queueName, ...result }));
  } else if (result.scheduleName !== undefined) {
    println(
      io.stdout,
      `scheduled ${type} job ${result.jobId} for ${result.runAt?.toISOString()} (to the minute) as ${result.scheduleName}, then ${queueName}`,
    );
  } else {
    println(io.stdout, `sent ${type} job ${result.jobId} as message ${result.messageId} to ${queueName}`);
  }
  return 0;
}
