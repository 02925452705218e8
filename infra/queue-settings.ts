/**
 * Per-queue settings: defaults, the per-queue overrides, and the rules that make a configuration valid.
 *
 * The job catalog decides WHICH queues exist (one per `queue` named by a job); this module decides HOW
 * each one is configured. A configuration that breaks a rule (the visibility timeout rule, a job that
 * retries more often than the queue redelivers, a DLQ that would expire messages first...) throws a
 * {@link ConfigurationError} listing every problem, so `cdk synth` refuses it with a clear message.
 */
import { ConfigurationError } from '../functions/runtime/errors.ts';
import type { JobDefinition } from '../functions/runtime/job.ts';

/** How one queue, its dead-letter queue and its worker are configured. Durations in seconds. */
export interface QueueSettings {
  /**
   * Deliveries before SQS moves a message to the DLQ (redrive policy). Leave undefined: it is derived as the largest
   * `retry.maxAttempts` of the queue's jobs plus {@link NOT_RUN_RECEIVE_HEADROOM}. A value below that is refused.
   */
  readonly maxReceiveCount?: number | undefined;
  /** Records per invocation (1-10 for FIFO and without a batching window, up to 10,000 with one). */
  readonly batchSize: number;
  /** Seconds Lambda waits to fill a batch (0-300). Not supported on FIFO queues. */
  readonly maxBatchingWindowSeconds: number;
  /** Most concurrent invocations the SQS event source starts for this queue (2-1,000). */
  readonly maxConcurrency: number;
  /** Worker memory in MB (128-10,240); CPU scales with it. */
  readonly memorySize: number;
  /** Worker timeout in seconds (1-900). */
  readonly timeoutSeconds: number;
  /**
   * Source queue visibility timeout in seconds. Leave undefined: it is derived as 6 x the worker timeout plus
   * the batching window (AWS's guidance). A value below that is refused.
   */
  readonly visibilityTimeoutSeconds?: number | undefined;
  /** Source queue retention in seconds (must stay below the DLQ's 14 days). */
  readonly retentionPeriodSeconds: number;
  /** A FIFO queue (and FIFO DLQ): per-group order, at most 10 records per batch, no batching window. */
  readonly fifo: boolean;
  /** FIFO only: deduplicate by a SHA-256 of the body when the producer sets no deduplication id. */
  readonly contentBasedDeduplication: boolean;
  /** `sqs-managed` (SSE-SQS, no key to manage) or `kms` (a customer managed key per queue, rotated yearly). */
  readonly encryption: 'sqs-managed' | 'kms';
  /** Alarm when the oldest message of the source queue is older than this many seconds. */
  readonly oldestMessageAgeAlarmSeconds: number;
  /** Days the worker's log group keeps its logs (a CloudWatch Logs retention value). */
  readonly logRetentionDays: number;
  /** Records the worker processes at once within a batch (the worker's WORKER_CONCURRENCY); undefined = the worker's default. */
  readonly workerConcurrency?: number | undefined;
}

/** A queue's settings with every derived value filled in. */
export interface ResolvedQueueSettings extends QueueSettings {
  /** The logical queue name (`default`, `webhooks`, ...). */
  readonly queueName: string;
  /** The derived (or accepted) redrive receive count. */
  readonly maxReceiveCount: number;
  /** The derived (or accepted) source queue visibility timeout. */
  readonly visibilityTimeoutSeconds: number;
  /** The dead-letter queue's retention: always 14 days, the SQS maximum. */
  readonly deadLetterRetentionSeconds: number;
}

const DAY = 86_400;

/** SQS's longest retention (14 days), used for every dead-letter queue. */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * DAY;
/** SQS's longest visibility timeout (12 hours). */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
/** AWS guidance: source queue visibility timeout at least 6 x the function timeout (plus the batching window). */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/**
 * Receives a queue allows beyond its jobs' largest `retry.maxAttempts`: room for receives that returned a record
 * without running it (cut by the invocation deadline, blocked behind a failed message of its FIFO group, the
 * idempotency lease held by another delivery or its store unreachable). Those are no attempt; on the queue's last
 * receive the worker dead-letters such a record itself, with reason `not_started`.
 */
export const NOT_RUN_RECEIVE_HEADROOM = 5;

/** CloudWatch Logs retention values (days). */
const LOG_RETENTION_DAYS = new Set([
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
]);

/** Defaults for every queue. */
export const DEFAULT_QUEUE_SETTINGS: QueueSettings = Object.freeze({
  maxReceiveCount: undefined,
  batchSize: 10,
  maxBatchingWindowSeconds: 0,
  maxConcurrency: 10,
  memorySize: 512,
  timeoutSeconds: 60,
  visibilityTimeoutSeconds: undefined,
  retentionPeriodSeconds: 4 * DAY,
  fifo: false,
  contentBasedDeduplication: false,
  encryption: 'sqs-managed',
  oldestMessageAgeAlarmSeconds: 3_600,
  logRetentionDays: 30,
  workerConcurrency: undefined,
});

/**
 * Per-queue overrides of {@link DEFAULT_QUEUE_SETTINGS}, by logical queue name. A queue the catalog needs but
 * this map does not name gets the defaults; an entry for a queue the catalog does not need is refused.
 */
export const QUEUE_SETTINGS: Readonly<Record<string, Partial<QueueSettings>>> = Object.freeze({
  // Webhook deliveries are short network calls (10 s job timeout): a shorter worker timeout keeps the
  // derived visibility timeout (and so the retry delay after a crash) short, and more concurrency drains bursts.
  webhooks: { timeoutSeconds: 30, maxConcurrency: 20, memorySize: 256 },
});

/**
 * The visibility timeout AWS asks for: 6 x the worker timeout plus the batching window, so a batch is never
 * visible again while a (retried) invocation may still be working on it.
 */
export function minimumVisibilityTimeoutSeconds(timeoutSeconds: number, maxBatchingWindowSeconds: number): number {
  return VISIBILITY_TIMEOUT_FACTOR * timeoutSeconds + maxBatchingWindowSeconds;
}

function isWhole(value: number | undefined, min: number, max: number): boolean {
  return value !== undefined && Number.isInteger(value) && value >= min && value <= max;
}

/** The merged settings before the derived values (maxReceiveCount and the visibility timeout may be unset). */
type ConfiguredSettings = typeof DEFAULT_QUEUE_SETTINGS & Partial<QueueSettings>;

/**
 * Merges defaults, the configured overrides and `extra` overrides (tests, other apps) for one queue, derives the
 * visibility timeout and checks every rule against the jobs that use the queue. Throws a
 * {@link ConfigurationError} that lists all problems.
 */
export function resolveQueueSettings(
  queueName: string,
  jobs: readonly JobDefinition[],
  overrides: Partial<QueueSettings> = {},
): ResolvedQueueSettings {
  const s: ConfiguredSettings = {
    ...DEFAULT_QUEUE_SETTINGS,
    ...stripUndefined(QUEUE_SETTINGS[queueName] ?? {}),
    ...stripUndefined(overrides),
  };
  const mostAttempts = Math.max(1, ...jobs.map((job) => job.retry.maxAttempts));
  const maxReceiveCount = s.maxReceiveCount ?? Math.min(1000, mostAttempts + NOT_RUN_RECEIVE_HEADROOM);
  const visibility = s.visibilityTimeoutSeconds ?? minimumVisibilityTimeoutSeconds(s.timeoutSeconds, s.maxBatchingWindowSeconds);
  const problems = [
    ...rangeProblems(s, maxReceiveCount),
    ...visibilityProblems(s, visibility),
    ...jobs.flatMap((job) => jobProblems(queueName, job, s, maxReceiveCount, visibility)),
  ];
  if (problems.length > 0) {
    throw new ConfigurationError(`queue "${queueName}" is misconfigured:\n  - ${problems.join('\n  - ')}`);
  }
  return {
    ...s,
    queueName,
    maxReceiveCount,
    visibilityTimeoutSeconds: visibility,
    deadLetterRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
  };
}

/** Each setting within what SQS, Lambda and CloudWatch Logs accept, and the combinations they refuse. */
function rangeProblems(s: ConfiguredSettings, maxReceiveCount: number): string[] {
  const problems: string[] = [];
  if (!isWhole(maxReceiveCount, 1, 1000)) problems.push(`maxReceiveCount must be a whole number from 1 to 1000 (got ${maxReceiveCount})`);
  if (!isWhole(s.maxBatchingWindowSeconds, 0, 300))
    problems.push(`maxBatchingWindowSeconds must be a whole number from 0 to 300 (got ${s.maxBatchingWindowSeconds})`);
  const maxBatch = s.fifo ? 10 : s.maxBatchingWindowSeconds > 0 ? 10_000 : 10;
  if (!isWhole(s.batchSize, 1, maxBatch)) {
    problems.push(
      `batchSize must be a whole number from 1 to ${maxBatch} (got ${s.batchSize})` +
        (maxBatch === 10 && !s.fifo ? '; more than 10 needs maxBatchingWindowSeconds >= 1' : ''),
    );
  }
  if (!isWhole(s.maxConcurrency, 2, 1000)) problems.push(`maxConcurrency must be a whole number from 2 to 1000 (got ${s.maxConcurrency})`);
  if (!isWhole(s.memorySize, 128, 10_240)) problems.push(`memorySize must be a whole number of MB from 128 to 10240 (got ${s.memorySize})`);
  if (!isWhole(s.timeoutSeconds, 1, 900)) problems.push(`timeoutSeconds must be a whole number from 1 to 900 (got ${s.timeoutSeconds})`);
  if (!isWhole(s.retentionPeriodSeconds, 60, DEAD_LETTER_RETENTION_SECONDS - 1)) {
    problems.push(
      `retentionPeriodSeconds must be from 60 to ${DEAD_LETTER_RETENTION_SECONDS - 1} (got ${s.retentionPeriodSeconds}): the DLQ keeps messages ` +
        `14 days, and on a standard queue a message keeps its original enqueue time when it moves to the DLQ, so the DLQ must outlive the source`,
    );
  }
  if (!isWhole(s.oldestMessageAgeAlarmSeconds, 60, DEAD_LETTER_RETENTION_SECONDS)) {
    problems.push(
      `oldestMessageAgeAlarmSeconds must be a whole number from 60 to ${DEAD_LETTER_RETENTION_SECONDS} (got ${s.oldestMessageAgeAlarmSeconds})`,
    );
  }
  if (!LOG_RETENTION_DAYS.has(s.logRetentionDays))
    problems.push(`logRetentionDays must be a CloudWatch Logs retention value (got ${s.logRetentionDays})`);
  if (s.workerConcurrency !== undefined && !isWhole(s.workerConcurrency, 1, 10_000)) {
    problems.push(`workerConcurrency must be a whole number from 1 to 10000 (got ${s.workerConcurrency})`);
  }
  if (s.fifo && s.maxBatchingWindowSeconds > 0) {
    problems.push('maxBatchingWindowSeconds must be 0 on a FIFO queue (Lambda does not support a batching window for FIFO sources)');
  }
  if (!s.fifo && s.contentBasedDeduplication) problems.push('contentBasedDeduplication needs fifo: true');
  if (s.encryption !== 'sqs-managed' && s.encryption !== 'kms')
    problems.push(`encryption must be "sqs-managed" or "kms" (got ${String(s.encryption)})`);
  return problems;
}

/** The visibility timeout: at least what AWS asks for, at most what SQS allows. */
function visibilityProblems(s: ConfiguredSettings, visibility: number): string[] {
  const problems: string[] = [];
  const minimumVisibility = minimumVisibilityTimeoutSeconds(s.timeoutSeconds, s.maxBatchingWindowSeconds);
  if (visibility < minimumVisibility) {
    problems.push(
      `visibilityTimeoutSeconds ${visibility} is below ${VISIBILITY_TIMEOUT_FACTOR} x timeoutSeconds (${s.timeoutSeconds}) + ` +
        `maxBatchingWindowSeconds (${s.maxBatchingWindowSeconds}) = ${minimumVisibility}; leave it unset to derive it`,
    );
  }
  if (visibility > MAX_VISIBILITY_TIMEOUT_SECONDS) {
    problems.push(
      `the visibility timeout would be ${visibility} s, above the SQS maximum of ${MAX_VISIBILITY_TIMEOUT_SECONDS} s: lower timeoutSeconds or the batching window`,
    );
  }
  return problems;
}

/** A job's rules against its queue: the queue it names, attempts within the receives, its timeout, the retention. */
function jobProblems(queueName: string, job: JobDefinition, s: ConfiguredSettings, maxReceiveCount: number, visibility: number): string[] {
  const problems: string[] = [];
  if (job.queue !== queueName) problems.push(`job "${job.type}" names queue "${job.queue}", not "${queueName}"`);
  if (job.retry.maxAttempts + NOT_RUN_RECEIVE_HEADROOM > maxReceiveCount) {
    problems.push(
      `job "${job.type}" retries up to ${job.retry.maxAttempts} attempts but the queue redrives to its DLQ after ${maxReceiveCount} receives, ` +
        `which leaves less than ${NOT_RUN_RECEIVE_HEADROOM} receives (NOT_RUN_RECEIVE_HEADROOM) for deliveries that could not run: ` +
        `lower the job's retry.maxAttempts, or leave the queue's maxReceiveCount unset to derive it`,
    );
  }
  if (job.timeoutMs >= s.timeoutSeconds * 1000) {
    problems.push(`job "${job.type}" has a ${job.timeoutMs} ms timeout, which does not fit in the worker's ${s.timeoutSeconds} s timeout`);
  }
  // Worst case before the last receive: every receive but the last ends in a retry that waits its longest delay,
  // or in a crash that only the visibility timeout recovers. The message must still exist then.
  const worstCase = (maxReceiveCount - 1) * Math.max(job.retry.maxDelaySeconds, visibility) + visibility;
  if (worstCase >= s.retentionPeriodSeconds) {
    problems.push(
      `job "${job.type}" may need up to ${worstCase} s to use the queue's ${maxReceiveCount} receives, longer than the queue's ` +
        `${s.retentionPeriodSeconds} s retention: messages would expire before they reach the DLQ`,
    );
  }
  return problems;
}

/** Checks that every overridden queue is one the catalog needs (a typo would otherwise be silently ignored). */
export function checkOverriddenQueues(queueNames: readonly string[], ...overrideMaps: readonly Readonly<Record<string, unknown>>[]): void {
  const known = new Set(queueNames);
  const unknown = overrideMaps.flatMap((map) => Object.keys(map)).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new ConfigurationError(
      `settings given for queue(s) ${[...new Set(unknown)].map((n) => `"${n}"`).join(', ')} that no job uses (queues: ${queueNames.join(', ')})`,
    );
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
