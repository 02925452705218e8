/**
 * The job message the Scheduler sends: the body `enqueue` sends (`{type, payload, jobId, enqueuedAt?}`) plus
 * `scheduledAt`, the time the job was meant to run (ISO 8601), from which the worker measures queue latency.
 * Periodic schedules leave the Scheduler to fill in `jobId` and `scheduledAt` with the occurrence's time.
 */

/** The body of a job message sent by the Scheduler. */
export interface ScheduledJobBody {
  readonly type: string;
  readonly payload: unknown;
  readonly jobId: string;
  /** When the producer asked (one-time schedules); absent for periodic occurrences. */
  readonly enqueuedAt?: string;
  /** When the job was meant to run, ISO 8601 (or the Scheduler's `<aws.scheduler.scheduled-time>`). */
  readonly scheduledAt: string;
}

/** Builds the body in the field order every producer uses. */
export function scheduledJobBody(body: ScheduledJobBody): ScheduledJobBody {
  return {
    type: body.type,
    payload: body.payload,
    jobId: body.jobId,
    ...(body.enqueuedAt === undefined ? {} : { enqueuedAt: body.enqueuedAt }),
    scheduledAt: body.scheduledAt,
  };
}

/**
 * The message attributes EventBridge Scheduler sets on a delivery it gives up on, in the schedule's dead-letter
 * queue (the body is the schedule's input: for this project, the job message).
 */
export const SCHEDULER_DEAD_LETTER_ATTRIBUTE = {
  errorCode: 'ERROR_CODE',
  errorMessage: 'ERROR_MESSAGE',
  executionId: 'EXECUTION_ID',
  exhaustedRetryCondition: 'EXHAUSTED_RETRY_CONDITION',
  payloadTruncated: 'IS_PAYLOAD_TRUNCATED',
  retryAttempts: 'RETRY_ATTEMPTS',
  scheduledTime: 'SCHEDULED_TIME',
  scheduleArn: 'SCHEDULE_ARN',
  targetArn: 'TARGET_ARN',
} as const;

/** How long and how often the Scheduler retries a delivery before it goes to the scheduler DLQ (periodic and one-time). */
export const SCHEDULER_RETRY = { maximumEventAgeSeconds: 86_400, maximumRetryAttempts: 185 } as const;
