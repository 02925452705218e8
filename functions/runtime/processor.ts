/**
 * The batch processor behind the SQS worker; its `SQSBatchResponse` makes Lambda delete exactly the records that are
 * done. A record is decoded and routed (`decode-record.ts`), its job run inside its idempotency lease (`run-job.ts`)
 * as attempt failed runs + 1 (`attempt-ledger.ts`, read once per batch), and a failure classified (`verdict.ts`);
 * then the batch is settled, dead letters first (`settle-batch.ts`), and answered with its metrics
 * (`batch-response.ts`). Records run in the order `run-records.ts` gives; each job's signal fires at its timeout or
 * near the invocation's deadline (`cancellation.ts`).
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { AttemptLedger } from './attempt-ledger.ts';
import { batchResponse, recordBatchMetrics } from './batch-response.ts';
import { InvocationDeadline, RecordAbort } from './cancellation.ts';
import { decodeRecord, type DecodedJob, type FindJob, type RejectedMessage } from './decode-record.ts';
import { ConfigurationError, JobNotStartedError } from './errors.ts';
import { recordLogger, type Logger } from './logger.ts';
import type { JobMetrics } from './metrics.ts';
import { runRecords } from './run-records.ts';
import { idempotencyLease, runJob, type IdempotencyStore, type JobRun } from './run-job.ts';
import { settleBatch, type Settlement } from './settle-batch.ts';
import { sourceQueues } from './source-queue.ts';
import { changeVisibility, sendToDeadLetterQueue, type SqsActions } from './sqs-actions.ts';
import {
  classifyFailure,
  dead,
  deadIfLastReceive,
  isLastReceive,
  logFailure,
  receiveCountOf,
  type RecordResult,
  type Verdict,
} from './verdict.ts';

export type { SqsActions } from './sqs-actions.ts';

/** Options of {@link createBatchProcessor}; validated once. */
export interface ProcessorOptions {
  readonly findJob: FindJob;
  /** The module-scope metrics emitter. */
  readonly metrics: JobMetrics;
  /** The DLQ of the source queue (`DEAD_LETTER_QUEUE_URL`). Required: dead messages must go somewhere. */
  readonly deadLetterQueueUrl: string;
  /** The source queue's URL (`JOB_QUEUE_URL`); default derived from each record's eventSourceARN. */
  readonly queueUrl?: string | undefined;
  /** The logical queue name used as the `queue` tag (`JOB_QUEUE`); default the name in eventSourceARN. */
  readonly queueName?: string | undefined;
  /** Records processed at once (standard queues) or groups at once (FIFO). Default 10. */
  readonly concurrency?: number;
  /** Stop starting records, and abort running ones, this long before Lambda's deadline. Default 3,000 ms. */
  readonly safetyMarginMs?: number;
  /** Remembers completed idempotent jobs; without it, jobs run without deduplication. */
  readonly idempotencyStore?: IdempotencyStore | undefined;
  /** Counts failed runs per message; without it, a job's attempt is its receive count. */
  readonly attemptLedger?: AttemptLedger | undefined;
  /** The queue's redrive `maxReceiveCount` (`JOB_QUEUE_MAX_RECEIVE_COUNT`); without it, SQS dead-letters what never ran. */
  readonly maxReceiveCount?: number | undefined;
  /** SQS calls for dead letters and visibility; default the real SQS client (loaded on first use). */
  readonly sqs?: SqsActions;
  /** Random source for jitter (tests and the fault-injection run seed it). */
  readonly random?: () => number;
  /** Clock, in ms (tests). */
  readonly now?: () => number;
}

/** A processed batch: the Lambda response. */
export type BatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** The processor's options, checked and with their defaults. */
type Pipeline = ProcessorOptions & Settlement & Required<Pick<ProcessorOptions, 'concurrency' | 'safetyMarginMs' | 'random'>>;

const wholeNumberUpTo1000 = (value: number): boolean => Number.isInteger(value) && value >= 1 && value <= 1000;

/** Checks the options and fills in the defaults, or throws a {@link ConfigurationError}. */
function pipelineOf(options: ProcessorOptions): Pipeline {
  const { concurrency = 10, safetyMarginMs = 3000, maxReceiveCount, queueName, queueUrl } = options;
  if (!options.deadLetterQueueUrl) throw new ConfigurationError('DEAD_LETTER_QUEUE_URL is not set: the worker needs its dead-letter queue');
  if (!wholeNumberUpTo1000(concurrency)) throw new ConfigurationError('concurrency must be a whole number from 1 to 1000');
  if (!(safetyMarginMs >= 0 && Number.isFinite(safetyMarginMs))) throw new ConfigurationError('safetyMarginMs must be a number >= 0');
  if (maxReceiveCount !== undefined && !wholeNumberUpTo1000(maxReceiveCount)) {
    throw new ConfigurationError('JOB_QUEUE_MAX_RECEIVE_COUNT (maxReceiveCount) must be a whole number from 1 to 1000');
  }
  return {
    ...options,
    concurrency,
    safetyMarginMs,
    sqs: options.sqs ?? { sendToDeadLetterQueue, changeVisibility },
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
    queues: sourceQueues({ queueName, queueUrl, sqsEndpoint: process.env.AWS_ENDPOINT_URL_SQS }),
  };
}

/** One invocation, as its records see it. */
interface Invocation {
  readonly pipeline: Pipeline;
  readonly deadline: InvocationDeadline;
  readonly lambdaContext: Context;
  /** Failed runs by message id, from the ledger; a record received before but absent could not be read. */
  readonly failedRuns: ReadonlyMap<string, number>;
}

/** One record on its way: decoded and routed, its attempt, its logger. */
interface Delivery {
  readonly decoded: DecodedJob | RejectedMessage;
  readonly receiveCount: number;
  readonly attempt: number;
  readonly logger: Logger;
}

/** What happens to one record: decode and route it, run its job, classify a failure. Never rejects. */
async function processRecord(record: SQSRecord, invocation: Invocation): Promise<RecordResult> {
  const { now } = invocation.pipeline;
  const startedAt = now();
  const delivery = deliveryOf(record, invocation);
  const { decoded } = delivery;
  const verdict = decoded.ok ? await runToVerdict(record, decoded, delivery, invocation) : rejectMessage(decoded, delivery.logger);
  const scheduledAt = decoded.ok ? decoded.scheduledAt : undefined;
  return { record, verdict, jobId: decoded.jobId, startedAt, durationMs: now() - startedAt, scheduledAt };
}

/**
 * The record's delivery. Its attempt is its failed runs + 1; the receive count when none were read (its first receive,
 * no ledger, or a count that could not be read): never fewer than the runs so far, so a handler never runs past
 * `retry.maxAttempts`.
 */
function deliveryOf(record: SQSRecord, { pipeline, failedRuns, lambdaContext }: Invocation): Delivery {
  const decoded = decodeRecord(record.body, pipeline.findJob);
  const receiveCount = receiveCountOf(record);
  const runs = failedRuns.get(record.messageId);
  const attempt = runs === undefined ? receiveCount : runs + 1;
  const logger = recordLogger({
    jobId: decoded.jobId,
    jobType: decoded.ok ? decoded.job.type : undefined,
    messageId: record.messageId,
    receiveCount,
    attempt,
    requestId: lambdaContext.awsRequestId,
  });
  return { decoded, receiveCount, attempt, logger };
}

/** A message that cannot run: logged, and dead. */
function rejectMessage({ verdict }: RejectedMessage, logger: Logger): Verdict {
  logger.error('the message is not a job this worker can run: it goes to the dead-letter queue; fix the producer, then redrive it', {
    reason: verdict.reason,
    error: verdict.error,
  });
  return verdict;
}

/** Runs a decoded job under the record's abort and classifies its failure. Never rejects. */
async function runToVerdict(
  record: SQSRecord,
  { job, payload, jobId }: DecodedJob,
  { receiveCount, attempt, logger }: Delivery,
  invocation: Invocation,
): Promise<Verdict> {
  const { pipeline, deadline, lambdaContext } = invocation;
  const cancel = new RecordAbort();
  const context = { signal: cancel.controller.signal, messageId: record.messageId, jobId, attempt, logger };
  const run: JobRun = { job, payload, context, cancel };
  deadline.enter(cancel);
  try {
    if (attempt > job.retry.maxAttempts) {
      // Known: it ran maxAttempts times and its dead letter could not be sent then. Unknown: it may have.
      if (!invocation.failedRuns.has(record.messageId)) {
        throw new JobNotStartedError(`its failed runs could not be read, and receive ${receiveCount} may be past retry.maxAttempts`);
      }
      const error = new JobNotStartedError(`it ran retry.maxAttempts (${job.retry.maxAttempts}) times already`);
      const spent = dead('retries_exhausted', job.type, error);
      logFailure(logger, spent, job.retry.maxAttempts);
      return spent;
    }
    const lease = idempotencyLease(run, pipeline.idempotencyStore, { safetyMarginMs: pipeline.safetyMarginMs, lambdaContext });
    return { outcome: await runJob(run, lease), jobType: job.type };
  } catch (error) {
    const lastReceive = isLastReceive(receiveCount, pipeline.maxReceiveCount);
    const ran = run.handlerCalled === true;
    const { random } = pipeline;
    const verdict = classifyFailure(error, { jobType: job.type, retry: job.retry, attempt, receiveCount, lastReceive, ran, random });
    logFailure(logger, verdict, job.retry.maxAttempts);
    // Every failed run is counted, dead ones too: a dead letter that cannot be sent comes back and must not run again.
    if (ran) {
      await pipeline.attemptLedger?.recordFailedRun(record.messageId).catch((failure: unknown) => {
        logger.error('could not count the failed run: it may run once more than retry.maxAttempts; check DynamoDB', { error: failure });
      });
    }
    return verdict;
  } finally {
    deadline.leave(cancel);
  }
}

/** The ledger's failed runs of the records received before (first receives have none: no read). */
async function readFailedRuns(records: readonly SQSRecord[], ledger: AttemptLedger | undefined): Promise<ReadonlyMap<string, number>> {
  const again = records.filter((record) => receiveCountOf(record) > 1).map((record) => record.messageId);
  return ledger && again.length > 0 ? ledger.failedRuns(again) : new Map();
}

/** A record that did not run on the queue's last receive: dead (`not_started`), with its job type, and logged. */
function endOnLastReceive(result: RecordResult, invocation: Invocation): RecordResult {
  const ended = deadIfLastReceive(result, invocation.pipeline.maxReceiveCount);
  if (ended === result || ended.verdict.outcome !== 'dead') return result;
  // Decoded again (it is pure): only a record that did not run on its last receive comes this far.
  const { decoded, logger } = deliveryOf(result.record, invocation);
  const verdict = dead('not_started', decoded.ok ? decoded.job.type : ended.verdict.jobType, ended.verdict.error);
  logger.error('the job did not run on its last receive: it goes to the DLQ', { error: verdict.error });
  return { ...ended, verdict, jobId: decoded.jobId };
}

/** The invocation's deadline, leaving a margin for the dead-letter sends, visibility changes and metrics flush. */
function deadlineOf(lambdaContext: Context, safetyMarginMs: number): InvocationDeadline {
  const remaining = lambdaContext.getRemainingTimeInMillis?.() ?? 900_000;
  return new InvocationDeadline(Math.max(0, remaining - Math.min(safetyMarginMs, remaining * 0.25)));
}

/** Creates the batch processor. Options are checked here, once, at module init. */
export function createBatchProcessor(options: ProcessorOptions): BatchHandler {
  const pipeline = pipelineOf(options);
  return async (event, lambdaContext) => {
    const records = event.Records ?? [];
    const deadline = deadlineOf(lambdaContext, pipeline.safetyMarginMs);
    let results: RecordResult[];
    try {
      const failedRuns = await readFailedRuns(records, pipeline.attemptLedger);
      const invocation: Invocation = { pipeline, lambdaContext, deadline, failedRuns };
      const ran = await runRecords(records, pipeline.concurrency, deadline, (record) => processRecord(record, invocation));
      results = ran.map((result) => endOnLastReceive(result, invocation));
    } finally {
      deadline.clear();
    }
    const settled = await settleBatch(results, pipeline);
    recordBatchMetrics(settled, pipeline.metrics, pipeline.queues);
    return batchResponse(settled);
  };
}
