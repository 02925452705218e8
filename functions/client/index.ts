/**
 * Producer API: `enqueue` / `enqueueMany` typed from the job catalog (delays up to a year), `cancel`, `createJobsClient` for explicit
 * configuration, the error classes, and the naming rules shared with the infrastructure.
 */
export {
  cancel,
  createJobsClient,
  defaultJobsClient,
  enqueue,
  enqueueMany,
  type EnqueueManyEntry,
  type EnqueueManyOptions,
  type EnqueueManyResult,
  type EnqueueResult,
  type JobRequest,
  type JobsClient,
  type JobsClientOptions,
  type UncheckedJobRequest,
} from './client.ts';
export {
  DuplicateJobError,
  EnqueueError,
  InvalidEnqueueOptionsError,
  JobValidationError,
  MessageTooLargeError,
  QueueNotConfiguredError,
  SchedulerNotConfiguredError,
  SendFailedError,
  UnknownJobError,
  type PayloadIssue,
} from './errors.ts';
export { MAX_DELAY_SECONDS, MAX_MESSAGE_BYTES, MAX_SCHEDULED_DELAY_SECONDS, type EnqueueOptions, type JobMessageBody } from './message.ts';
export type { SchedulerSettings } from './delayed.ts';
export { DEFAULT_BATCH_RETRY, MAX_BATCH_ENTRIES, type BatchRetryPolicy } from './batch-send.ts';
export { LOCAL_STAGE, physicalQueueName, queueUrlEnvVar, type PhysicalQueue } from './queue-names.ts';
