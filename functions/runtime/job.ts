/**
 * How a job type is declared: its name, its queue, its payload schema, its handler and its options, and the retry
 * delays its policy gives. One file per job type in `functions/jobs/` calls {@link defineJob};
 * `functions/jobs/catalog.ts` lists them.
 */
import type * as z from 'zod/mini';
import { checkJobSchedules, type JobSchedule, type ScheduleOptions } from '../scheduling/job-schedules.ts';
import { SCHEDULER_QUEUE } from '../scheduling/names.ts';
import { ConfigurationError } from './errors.ts';
import type { Logger } from './logger.ts';

/** How often and how far apart a job is retried. */
export interface RetryPolicy {
  /** Total runs including the first (1 = never retried); the queue allows NOT_RUN_RECEIVE_HEADROOM receives more. */
  readonly maxAttempts: number;
  /** Delay before the second attempt, in seconds. */
  readonly baseDelaySeconds: number;
  /** Upper bound of any delay, in seconds (SQS allows at most 43,200). */
  readonly maxDelaySeconds: number;
  /** `full`: a uniform delay in [0, computed] (AWS's "full jitter"); `none`: exactly the computed delay. */
  readonly jitter: 'full' | 'none';
}

/** Whether and how a job is deduplicated across deliveries. */
export interface IdempotencyOptions<Payload = unknown> {
  /** The key that identifies one job. Default: the producer's job id (`jobId` in the message). */
  key?(payload: Payload, message: { jobId?: string | undefined; messageId: string }): string | undefined;
  /** How long a completion is remembered, in seconds. Default 7 days. */
  readonly ttlSeconds?: number;
}

/** What a running job gets besides its payload. */
export interface JobContext {
  /** Fires when the job's timeout or the Lambda's remaining time runs out. Pass it to every I/O call. */
  readonly signal: AbortSignal;
  /** The SQS message id. */
  readonly messageId: string;
  /** The producer's job id, when it set one. */
  readonly jobId: string | undefined;
  /** 1 for the first run: the handler's failed runs so far + 1 (receives that did not run it do not count). */
  readonly attempt: number;
  /** A logger whose lines carry the job id (when the message has one), job type, message id, receive count and request id. */
  readonly logger: Logger;
}

/**
 * A payload that succeeds against local transports, used by `jobs soak` (the leak check) and by tests; given the base
 * URL of a local HTTP server that answers 200 under `/ok/`, so a payload that names a peer can point it there.
 */
export type JobExample<Payload> = (endpoints: { readonly httpUrl: string }) => Payload;

/**
 * The declaration of one job type. The handler and the idempotency key are methods, so a definition of any payload
 * type is a `JobDefinition` (the catalog's lookup needs no cast); the schema guarantees the payload they get.
 */
export interface JobDefinition<Type extends string = string, Payload = unknown> {
  /** The `type` field of the message body. */
  readonly type: Type;
  /** The logical queue the job is sent to (`default`, `webhooks`, ...); the stack creates one per name. */
  readonly queue: string;
  /** Validates the payload; its output type is the handler's payload type. */
  readonly schema: z.ZodMiniType<Payload>;
  /** Runs the job. Throw `PermanentJobError` when retrying cannot help; any other error retries. */
  handler(payload: Payload, context: JobContext): Promise<void>;
  /** Milliseconds the job may run before its signal aborts. */
  readonly timeoutMs: number;
  /** Retry policy; defaults filled in by {@link defineJob}. */
  readonly retry: RetryPolicy;
  /** Set to deduplicate deliveries of the same job; absent = not idempotent. */
  readonly idempotency: IdempotencyOptions<Payload> | undefined;
  /** Periodic schedules (EventBridge Scheduler), checked at definition; empty when there are none. */
  readonly schedules: readonly JobSchedule[];
  /** A payload that succeeds locally (`jobs soak` runs it); absent = the soak needs `--payload`. */
  readonly example?: JobExample<Payload> | undefined;
}

/** What {@link defineJob} accepts: a definition with optional timeout and partial retry policy. */
export type JobOptions<Type extends string, Payload> = Pick<JobDefinition<Type, Payload>, 'type' | 'schema' | 'handler'> & {
  readonly queue?: string;
  readonly timeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly idempotency?: IdempotencyOptions<Payload> | boolean;
  /** Periodic schedules: name, `cron(...)`/`rate(...)`, time zone (default UTC), payload. */
  readonly schedules?: readonly ScheduleOptions<NoInfer<Payload>>[];
  readonly example?: JobExample<NoInfer<Payload>>;
};

/** Defaults for every job type: 5 attempts, 10 s doubling up to 15 min, full jitter, 30 s timeout. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelaySeconds: 10,
  maxDelaySeconds: 900,
  jitter: 'full',
};
/** Default job timeout. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** SQS's limit for a message's visibility timeout. */
export const MAX_VISIBILITY_SECONDS = 43_200;

const JOB_TYPE_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
const QUEUE_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/** Declares a job type, its options validated once, at module load: a bad one is a {@link ConfigurationError} on import. */
export function defineJob<const Type extends string, Payload>(options: JobOptions<Type, Payload>): JobDefinition<Type, Payload> {
  const { type } = options;
  if (!JOB_TYPE_PATTERN.test(type)) throw new ConfigurationError(`job type "${type}" must be lower-case kebab-case, at most 63 characters`);
  const problem = (what: string): ConfigurationError => new ConfigurationError(`job "${type}": ${what}`);
  const queue = options.queue ?? 'default';
  if (!QUEUE_NAME_PATTERN.test(queue)) throw problem(`queue "${queue}" must be lower-case kebab-case, at most 40 characters`);
  if (queue === SCHEDULER_QUEUE) throw problem(`queue "${queue}" is the Scheduler's dead-letter queue's name: choose another`);
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const { maxAttempts, baseDelaySeconds, maxDelaySeconds } = retry;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw problem('retry.maxAttempts must be a whole number >= 1');
  if (!(baseDelaySeconds >= 0 && maxDelaySeconds >= baseDelaySeconds && maxDelaySeconds <= MAX_VISIBILITY_SECONDS)) {
    throw problem(`retry delays need 0 <= baseDelaySeconds <= maxDelaySeconds <= ${MAX_VISIBILITY_SECONDS}`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw problem('timeoutMs must be a positive number');
  const idempotency = options.idempotency === true ? {} : options.idempotency === false ? undefined : options.idempotency;
  const schedules = checkJobSchedules(type, options.schema, options.schedules);
  return { ...options, queue, timeoutMs, retry, idempotency, schedules };
}

/** The un-jittered delay after `attempt` failed attempts: base x 2^(attempt-1), capped. */
export function exponentialDelaySeconds(policy: RetryPolicy, attempt: number): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 30));
  return Math.min(policy.maxDelaySeconds, policy.baseDelaySeconds * 2 ** exponent);
}

/**
 * The delay in whole seconds after attempt `attempt` (1-based) failed, within SQS's 12 hours: full jitter draws from
 * [0, exponential delay], as AWS's "Exponential Backoff And Jitter" recommends; `retryAfterSeconds` (a peer's
 * `Retry-After`) wins when given.
 */
export function retryDelaySeconds(
  policy: RetryPolicy,
  attempt: number,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds)) {
    return Math.min(MAX_VISIBILITY_SECONDS, Math.max(0, Math.ceil(retryAfterSeconds)));
  }
  const ceiling = exponentialDelaySeconds(policy, attempt);
  const delay = policy.jitter === 'full' ? random() * ceiling : ceiling;
  return Math.min(MAX_VISIBILITY_SECONDS, Math.round(delay));
}
