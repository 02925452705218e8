/**
 * The names, tag keys and bounded tag values of every custom metric the worker emits (each a DogStatsD distribution).
 * Dashboards, monitors, the local DogStatsD listener and the tests import these instead of spelling the strings.
 */

/** Metric names. */
export const METRIC = {
  /** Value 1 per record, tagged job_type, queue, outcome and (when dead) reason. */
  processed: 'jobs.processed',
  /** Milliseconds spent running one job. */
  duration: 'jobs.duration',
  /** Milliseconds from the message's SentTimestamp to the start of its processing. */
  queueLatency: 'jobs.queue_latency',
  /** Bytes of V8 heap in use, once per invocation. */
  heapUsed: 'jobs.runtime.heap_used',
  /** Resident set size in bytes, once per invocation. */
  rss: 'jobs.runtime.rss',
  /** Open file descriptors of the process, once per invocation. */
  openFds: 'jobs.runtime.open_fds',
} as const;

/** A metric name the worker emits. */
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** Tag keys. */
export const TAG = {
  jobType: 'job_type',
  queue: 'queue',
  outcome: 'outcome',
  reason: 'reason',
  /** Global tag: the Lambda function name. */
  functionName: 'functionname',
  service: 'service',
  env: 'env',
  version: 'version',
} as const;

/** What happened to one record. */
export const OUTCOMES = ['success', 'retry', 'dead', 'duplicate'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Why a record went to the dead-letter queue (`not_started`: it did not run on the queue's last receive). */
export const DEAD_REASONS = [
  'invalid_json',
  'unknown_type',
  'invalid_payload',
  'permanent_error',
  'retries_exhausted',
  'not_started',
] as const;
export type DeadReason = (typeof DEAD_REASONS)[number];

/** The job_type tag value used when a message names no known job type (keeps the tag bounded). */
export const UNKNOWN_JOB_TYPE = 'unknown';

/** How the metrics client's warnings begin, as the runbook quotes them (each goes on to say what to do). */
export const METRICS_WARNING = {
  /** A second DogStatsD client is live in the process: the per-job client leak. */
  secondClient: 'a second DogStatsD client is open in this process',
  /** Metric datagrams cannot be sent (no Datadog extension or local listener at the address). */
  sendFailed: 'dogstatsd send failed',
} as const;
