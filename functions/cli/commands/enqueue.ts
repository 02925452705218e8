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
import { MAX_SCHEDULED_DELAY_SECONDS, type EnqueueOptions } from '../../client/message.ts';
import { catalog, findJob } from '../../jobs/catalog.ts';
import { stringOption } from '../args.ts';
import { CliError, UsageError } from '../errors.ts';
import { println, type CliIo, type ParsedValues } from '../io.ts';
import { createProgress } from '../progress.ts';
import { schedulerTarget } from '../scheduler-target.ts';
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
  const options = enqueueOptions(values, true);
  const prefix = stringOption(values, 'job-id-prefix');
  const failures: LineFailure[] = [];
  let jobs = 0;
  let sent = 0;
  let failed = 0;
  let blank = 0;
  let read = 0;
  const progress = createProgress(io.stderr, `enqueue ${type}`, lineCount);
  const note = (): string => (failed > 0 ? `(${failed} failed)` : '');
  const fail = (line: number, message: string): void => {
    failed += 1;
    if (failures.length < MAX_LISTED_FAILURES) failures.push({ line, message });
  };

  let chunk: { line: number; job: UncheckedJobRequest }[] = [];
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const batch = chunk;
    chunk = [];
    const before = sent + failed + blank;
    const result = await client.enqueueManyUnchecked(
      batch.map((entry) => entry.job),
      { onProgress: (settled) => progress.update(before + settled, note()) },
    );
    for (const entry of result.entries) {
      if (entry.ok) sent += 1;
      else fail(batch[entry.index]?.line ?? 0, `${entry.error.name}: ${entry.error.message}`);
    }
    progress.update(sent + failed + blank, note());
  };

  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  let interrupted = false;
  for await (const text of lines) {
    read += 1;
    if (!text.trim()) {
      blank += 1;
      continue;
    }
    jobs += 1;
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch (error) {
      fail(read, `not JSON: ${(error as Error).message}`);
      continue;
    }
    const jobOptions = prefix === undefined ? options : { ...options, jobId: `${prefix}-${read}` };
    chunk.push({ line: read, job: { type, payload, options: jobOptions } });
    if (chunk.length >= CHUNK_LINES) await flush();
    if (io.signal?.aborted) {
      interrupted = true;
      break;
    }
  }
  lines.close();
  await flush();
  progress.finish();

  println(io.stdout, `sent ${sent} of ${jobs} ${type} jobs to ${queueName}${failed > 0 ? `; ${failed} failed:` : ''}`);
  for (const failure of failures) println(io.stdout, `  line ${failure.line}: ${failure.message}`);
  if (failed > failures.length) println(io.stdout, `  ... and ${failed - failures.length} more`);
  if (interrupted) {
    println(io.stderr, `interrupted after line ${read}: the lines after it were not sent (rerun with the rest of the file)`);
    return 130;
  }
  return failed > 0 ? 1 : 0;
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
  const client = createJobsClient({
    sqs: target.sqs,
    queueUrls: { [job.queue]: queue.url },
    scheduler: scheduler.client,
    schedulerSettings: scheduler.settings,
    env: io.env,
  });
  try {
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
