/**
 * Errors the producer client throws (or reports per entry from `enqueueMany`). Every refusal happens
 * before anything is sent, except {@link SendFailedError}, which is SQS's own answer.
 */
import type { PayloadIssue } from '../runtime/payload-issues.ts';

export type { PayloadIssue };

/** The base class of every producer-client error. */
export class EnqueueError extends Error {
  override readonly name: string = 'EnqueueError';
}

/** A job type that the catalog does not know (only possible through the untyped API, e.g. the CLI). */
export class UnknownJobError extends EnqueueError {
  override readonly name: string = 'UnknownJobError';
  /** The type asked for. */
  readonly type: string;
  constructor(type: string, known: readonly string[]) {
    super(`unknown job type "${type}"; known types: ${known.join(', ')}`);
    this.type = type;
  }
}

/** A payload that does not match its job type's schema, or cannot be encoded as JSON. Nothing was sent. */
export class JobValidationError extends EnqueueError {
  override readonly name: string = 'JobValidationError';
  /** The job type. */
  readonly type: string;
  /** Each problem found, in the schema's order. */
  readonly issues: readonly PayloadIssue[];
  constructor(type: string, issues: readonly PayloadIssue[]) {
    const summary = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
    super(`invalid ${type} payload: ${summary}`);
    this.type = type;
    this.issues = issues;
  }
}

/** Enqueue options out of range or not allowed on the queue's kind (FIFO or standard). Nothing was sent. */
export class InvalidEnqueueOptionsError extends EnqueueError {
  override readonly name: string = 'InvalidEnqueueOptionsError';
}

/** A message over SQS's size limit (body + message attributes). Nothing was sent. */
export class MessageTooLargeError extends EnqueueError {
  override readonly name: string = 'MessageTooLargeError';
  /** The message's size in bytes. */
  readonly bytes: number;
  /** The limit in bytes. */
  readonly limit: number;
  constructor(type: string, bytes: number, limit: number) {
    super(
      `${type} message is ${bytes} bytes; SQS accepts at most ${limit} bytes (body + attributes): store the data elsewhere (S3) and enqueue a reference`,
    );
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** No queue URL for a job's queue: neither the `queueUrls` option nor the environment variable names one. */
export class QueueNotConfiguredError extends EnqueueError {
  override readonly name: string = 'QueueNotConfiguredError';
  /** The logical queue (`default`, `webhooks`, ...). */
  readonly queue: string;
  /** The environment variable that was read. */
  readonly envVar: string;
  constructor(queue: string, envVar: string, detail = 'is not set') {
    super(`no URL for queue "${queue}": ${envVar} ${detail} (the stack outputs it; or pass queueUrls to createJobsClient)`);
    this.queue = queue;
    this.envVar = envVar;
  }
}

/** SQS refused or failed to take the message (after the SDK's and, for batches, the client's retries). */
export class SendFailedError extends EnqueueError {
  override readonly name: string = 'SendFailedError';
  /** SQS's error code (`InternalError`, `InvalidParameterValue`, ...) or the SDK error's name. */
  readonly code: string;
  /** True when SQS said the request itself was wrong: retrying the same entry cannot help. */
  readonly senderFault: boolean;
  constructor(message: string, options: { code: string; senderFault: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.code = options.code;
    this.senderFault = options.senderFault;
  }
}

/** A delayed job whose id is already scheduled (the Scheduler's ConflictException). Nothing new was scheduled. */
export class DuplicateJobError extends EnqueueError {
  override readonly name: string = 'DuplicateJobError';
  /** The job id asked for. */
  readonly jobId: string;
  /** The one-time schedule that holds it. */
  readonly scheduleName: string;
  constructor(jobId: string, scheduleName: string, groupName: string, options?: ErrorOptions) {
    super(
      `job "${jobId}" is already scheduled (schedule ${scheduleName} in group ${groupName}): cancel it first (cancel(jobId), jobs cancel) or use another jobId`,
      options,
    );
    this.jobId = jobId;
    this.scheduleName = scheduleName;
  }
}

/** A delay beyond SQS's 15 minutes, but no scheduler group or role to create the one-time schedule with. Nothing was sent. */
export class SchedulerNotConfiguredError extends EnqueueError {
  override readonly name: string = 'SchedulerNotConfiguredError';
  /** The environment variable that was read. */
  readonly envVar: string;
  constructor(envVar: string) {
    super(
      `delays beyond 900 s need EventBridge Scheduler: ${envVar} is not set (the stack outputs it; or pass scheduler settings to createJobsClient)`,
    );
    this.envVar = envVar;
  }
}
