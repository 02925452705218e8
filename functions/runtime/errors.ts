/**
 * The runtime's errors. A job throws {@link PermanentJobError} when retrying cannot help; any other error is retried,
 * after the delay a {@link RetryableJobError} asks for (a webhook's `Retry-After`, say) or the job's backoff.
 */

/** A failure that retrying cannot fix. The message goes to the dead-letter queue with this error's message. */
export class PermanentJobError extends Error {
  override readonly name: string = 'PermanentJobError';
}

/** A failure worth retrying; `retryAfterSeconds`, when given, wins over the computed backoff. */
export class RetryableJobError extends Error {
  override readonly name: string = 'RetryableJobError';
  /** Seconds to wait before the next attempt, as the job's peer asked (bounded by SQS's 12 hours). */
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, options?: ErrorOptions & { retryAfterSeconds?: number }) {
    super(message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/** The job ran past its deadline (its own timeout or the Lambda's remaining time); it will be retried. */
export class JobTimeoutError extends RetryableJobError {
  override readonly name: string = 'JobTimeoutError';
}

/**
 * The job's handler did not run on this receive (its idempotency lease is held by another delivery, the store or the
 * failed-runs ledger could not be reached, the deadline came first): retried, but not counted as an attempt.
 */
export class JobNotStartedError extends RetryableJobError {
  override readonly name: string = 'JobNotStartedError';
}

/** A message body that is not a job: invalid JSON, no `type`, or not an object. */
export class InvalidMessageError extends PermanentJobError {
  override readonly name: string = 'InvalidMessageError';
}

/** A message naming a job type the catalog does not know. */
export class UnknownJobTypeError extends PermanentJobError {
  override readonly name: string = 'UnknownJobTypeError';
}

/** A payload that does not match its job type's schema. */
export class InvalidPayloadError extends PermanentJobError {
  override readonly name: string = 'InvalidPayloadError';
}

/** A configuration mistake found at module init (options, environment). */
export class ConfigurationError extends Error {
  override readonly name: string = 'ConfigurationError';
}
