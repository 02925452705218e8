/**
 * The leak check: runs one job type for N invocations in ONE warm local sandbox (the real handler module in
 * the local Lambda runtime, with its function's memory cap and timeout from the queue settings) against local
 * transports: the email outbox in a temporary directory, a local echo server for webhooks, a DogStatsD sink
 * for the worker's own runtime figures. Invocations run back to back, each a batch of `batchSize` records of
 * the same payload; records reuse `batchSize` job ids so the outbox holds a bounded number of files. The
 * sandbox loads `soak-entry.ts`, which wraps the handler module and reports figures after a full collection
 * on {@link SAMPLES} evenly spaced invocations.
 *
 * No idempotency table is configured (a DynamoDB stand-in in this process would grow with every record), so
 * idempotent jobs run every time. Every record must succeed: a soak measures a job doing its work.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { safeParse } from 'zod/mini';
import { resolveQueueSettings, type ResolvedQueueSettings } from '../../infra/queue-settings.ts';
import { physicalQueueName } from '../client/queue-names.ts';
import { startEchoServer } from '../local/demo.ts';
import { Sandbox } from '../local/sandbox.ts';
import { LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/ports.ts';
import type { JobDefinition } from '../runtime/job.ts';
import { summarizeIssues } from '../runtime/payload-issues.ts';
import { startMetricSink, type MetricSink } from './metric-sink.ts';
import type { SoakResponse } from './soak-entry.ts';
import { DEFAULT_SOAK_THRESHOLDS, judgeFigure, type FigureVerdict, type SoakFigure, type SoakThresholds } from './slopes.ts';

/** The handler module the soak loads unless told otherwise: the deployed worker. */
export const DEFAULT_SOAK_ENTRY: string = fileURLToPath(new URL('../handlers/worker.ts', import.meta.url));
/** The stage name in the soak's (never contacted) queue URLs. */
const SOAK_STAGE = 'soak';
/** Nothing listens here: a record that fails makes its SQS calls fail at once instead of reaching anything. */
const UNREACHABLE_ENDPOINT = 'http://127.0.0.1:9';
/** Sampled invocations per soak (each costs a full garbage collection). */
export const SAMPLES = 100;
const SOAK_ENTRY_URL = new URL('./soak-entry.ts', import.meta.url).href;
/** Invocation errors kept for the report. */
const MAX_KEPT_ERRORS = 5;

/** The job's payload does not fit its schema, or it has no example and none was given. */
export class SoakPayloadError extends Error {
  override readonly name: string = 'SoakPayloadError';
}

/** Options of {@link runSoak}. */
export interface SoakOptions {
  readonly job: JobDefinition;
  readonly invocations: number;
  /** Records per invocation; default the queue's batch size. */
  readonly batchSize?: number | undefined;
  /** The payload; default the job's `example`. */
  readonly payload?: unknown;
  /** The handler module (a path); default {@link DEFAULT_SOAK_ENTRY}. */
  readonly entry?: string | undefined;
  readonly thresholds?: Partial<SoakThresholds> | undefined;
  /** Called after each invocation. */
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
}

/** What a soak found. */
export interface SoakResult {
  readonly jobType: string;
  readonly invocations: number;
  readonly batchSize: number;
  readonly memorySizeMb: number;
  /** Records the handler reported as failed (returned in `batchItemFailures`). */
  readonly failedRecords: number;
  /** Invocations that threw, timed out or crashed (the first few messages). */
  readonly invocationErrors: readonly string[];
  /** The sampled invocations (1-based) and their figures. */
  readonly samples: { readonly at: readonly number[] } & Readonly<Record<SoakFigure, readonly number[]>>;
  readonly verdicts: readonly FigureVerdict[];
  /** What the DogStatsD sink received: lines, lines the extension would drop, invocations that reported runtime figures. */
  readonly metricLines: { readonly received: number; readonly dropped: number; readonly invocations: number };
  readonly durationMs: number;
  /** Every figure under its threshold, every record succeeded, and every invocation reported its figures. */
  readonly ok: boolean;
}

function soakPayload(job: JobDefinition, given: unknown, httpUrl: string): unknown {
  const payload = given ?? job.example?.({ httpUrl });
  if (payload === undefined) {
    throw new SoakPayloadError(
      `job "${job.type}" has no example payload: give one with --payload @file, or add \`example\` to its definition`,
    );
  }
  const parsed = safeParse(job.schema, payload);
  if (!parsed.success) throw new SoakPayloadError(`the ${job.type} payload is invalid: ${summarizeIssues(parsed.error.issues)}`);
  return payload;
}

function recordFor(job: JobDefinition, payload: unknown, slot: number, queueArn: string): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: `soak-${randomUUID()}`,
    body: JSON.stringify({ type: job.type, payload, jobId: `soak-${slot}`, enqueuedAt: new Date().toISOString() }),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: 'soak', ApproximateFirstReceiveTimestamp: now },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: LOCAL_REGION,
  };
}

function isResponse(value: unknown): value is SoakResponse {
  return typeof value === 'object' && value !== null && 'batchItemFailures' in value && Array.isArray(value.batchItemFailures);
}

/** The soak's sandbox: the handler module behind soak-entry.ts, with the local transports' variables. */
async function startSoakSandbox(
  options: SoakOptions,
  settings: ResolvedQueueSettings,
  transports: { readonly outboxDir: string; readonly sink: MetricSink },
): Promise<{ sandbox: Sandbox; queueArn: string }> {
  const { job } = options;
  const name = physicalQueueName({ stage: SOAK_STAGE, queue: job.queue });
  const queueUrl = `${UNREACHABLE_ENDPOINT}/${LOCAL_ACCOUNT_ID}/${name}`;
  const sandbox = await Sandbox.start({
    entryUrl: SOAK_ENTRY_URL,
    exportName: 'handler',
    functionName: `${name}-soak`,
    memorySize: settings.memorySize,
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
    env: {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_SQS: UNREACHABLE_ENDPOINT,
      DEAD_LETTER_QUEUE_URL: `${queueUrl}-dlq`,
      JOB_QUEUE: job.queue,
      JOB_QUEUE_URL: queueUrl,
      EMAIL_OUTBOX_DIR: transports.outboxDir,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: '1',
      DD_AGENT_HOST: transports.sink.host,
      DD_DOGSTATSD_PORT: String(transports.sink.port),
      SOAK_HANDLER_URL: pathToFileURL(options.entry ?? DEFAULT_SOAK_ENTRY).href,
      SOAK_SAMPLE_EVERY: String(Math.max(1, Math.floor(options.invocations / SAMPLES))),
      ...(settings.workerConcurrency === undefined ? {} : { WORKER_CONCURRENCY: String(settings.workerConcurrency) }),
    },
    onLog: () => undefined,
  });
  return { sandbox, queueArn: `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${name}` };
}

/** What the invocations of a soak returned. */
interface SoakRun {
  /** Invocations made (fewer than asked when the sandbox died). */
  readonly ran: number;
  readonly failedRecords: number;
  readonly invocationErrors: readonly string[];
  readonly samples: SoakResult['samples'];
}

/** Invokes the sandbox back to back, collecting the sampled figures; stops early only when the sandbox died. */
async function invokeBackToBack(
  sandbox: Sandbox,
  options: SoakOptions,
  batch: { readonly payload: unknown; readonly size: number; readonly queueArn: string; readonly timeoutMs: number },
): Promise<SoakRun> {
  const samples = { at: [] as number[], heap: [] as number[], rss: [] as number[], fds: [] as number[] };
  let failedRecords = 0;
  const invocationErrors: string[] = [];
  const keep = (error: string): void => {
    if (invocationErrors.length < MAX_KEPT_ERRORS) invocationErrors.push(error);
  };
  let ran = 0;
  for (; ran < options.invocations; ran++) {
    const records = Array.from({ length: batch.size }, (_, slot) => recordFor(options.job, batch.payload, slot, batch.queueArn));
    const outcome = await sandbox.invoke({ Records: records } satisfies SQSEvent, batch.timeoutMs);
    if (outcome.kind === 'returned' && isResponse(outcome.value)) {
      failedRecords += outcome.value.batchItemFailures.length;
      const sample = outcome.value.soakSample;
      if (sample !== undefined) {
        samples.at.push(ran + 1);
        samples.heap.push(sample.heap);
        samples.rss.push(sample.rss);
        samples.fds.push(sample.fds);
      }
    } else if (outcome.kind === 'returned') {
      keep(`invocation ${ran + 1} returned no batch response`);
    } else {
      keep(
        `invocation ${ran + 1} ${outcome.kind === 'timeout' ? 'timed out' : `${outcome.kind}: ${outcome.error.name}: ${outcome.error.message}`}`,
      );
      if (!sandbox.isAlive) {
        ran += 1;
        break;
      }
    }
    options.onProgress?.(ran + 1, options.invocations);
  }
  return { ran, failedRecords, invocationErrors, samples };
}

/** Runs the soak and judges it. Rejects only when it cannot start (bad payload, the module does not load). */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const { job } = options;
  const settings = resolveQueueSettings(job.queue, [job]);
  const batchSize = options.batchSize ?? settings.batchSize;
  const thresholds: SoakThresholds = { ...DEFAULT_SOAK_THRESHOLDS, ...options.thresholds };
  const outboxDir = mkdtempSync(join(tmpdir(), 'jobs-soak-'));
  const echo = await startEchoServer();
  const sink = await startMetricSink();
  let sandbox: Sandbox | undefined;
  try {
    const payload = soakPayload(job, options.payload, echo.url);
    const started = await startSoakSandbox(options, settings, { outboxDir, sink });
    sandbox = started.sandbox;
    const startedAt = performance.now();
    const batch = { payload, size: batchSize, queueArn: started.queueArn, timeoutMs: settings.timeoutSeconds * 1000 };
    const { ran, failedRecords, invocationErrors, samples } = await invokeBackToBack(sandbox, options, batch);
    await sink.waitFor(ran, 2000);
    const durationMs = performance.now() - startedAt;
    const verdicts = (['heap', 'rss', 'fds'] as const).map((figure) =>
      judgeFigure(figure, samples.at, samples[figure], ran, thresholds[figure]),
    );
    const reported = sink.lines.invocations >= ran;
    return {
      jobType: job.type,
      invocations: ran,
      batchSize,
      memorySizeMb: settings.memorySize,
      failedRecords,
      invocationErrors,
      samples,
      verdicts,
      metricLines: { ...sink.lines },
      durationMs,
      ok: failedRecords === 0 && invocationErrors.length === 0 && reported && verdicts.every((verdict) => verdict.ok),
    };
  } finally {
    await sandbox?.close();
    await sink.close();
    await echo.close();
    rmSync(outboxDir, { recursive: true, force: true });
  }
}
