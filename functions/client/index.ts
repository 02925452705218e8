/**
 * Producer API: `enqueue` / `enqueueMany` typed from the job catalog, `createJobsClient` for explicit
 * configuration, the error classes, and the naming rules shared with the infrastructure.
 */
export {
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
  EnqueueError,
  InvalidEnqueueOptionsError,
  JobValidationError,
  MessageTooLargeError,
  QueueNotConfiguredError,
  SendFailedError,
  UnknownJobError,
  type PayloadIssue,
} from './errors.ts';
export { MAX_DELAY_SECONDS, MAX_MESSAGE_BYTES, type EnqueueOptions, type JobMessageBody } from './message.ts';
export { DEFAULT_BATCH_RETRY, MAX_BATCH_ENTRIES, type BatchRetryPolicy } from './batch-send.ts';
export { LOCAL_STAGE, physicalQueueName, queueUrlEnvVar, type PhysicalQueue } from './queue-names.ts';
