/**
 * The runbook: for each monitor, what it means and the first three things to check.
 *
 * One text serves two readers: monitor messages (with the queue, job type and function filled in)
 * and the README's "Runbook" section (rendered by `export.ts --runbook`), so the page and the
 * notification cannot drift apart. Each entry has a stable README anchor, `#runbook-<kind>`.
 */
import { QUEUE_NAME_PREFIX } from '../../functions/client/queue-names.ts';
import { DEAD_REASONS, METRIC, METRICS_WARNING, TAG, type DeadReason, type Outcome } from '../../functions/runtime/metric-names.ts';

/** Every kind of monitor this module defines. */
export const MONITOR_KINDS = [
  'dlq-not-empty',
  'dlq-message-expiring',
  'oldest-message-age',
  'dead-ratio',
  'retry-ratio',
  'queue-latency',
  'lambda-errors',
  'lambda-throttles',
  'heap-growth',
  'open-fds-growth',
  'worker-silent',
  'scheduler-target-errors',
  'scheduler-dropped',
] as const;

/** The monitor kinds of EventBridge Scheduler: one per stage's schedule group, not per queue. */
export const SCHEDULER_MONITOR_KINDS = ['scheduler-target-errors', 'scheduler-dropped'] as const satisfies readonly MonitorKind[];

/** A kind of monitor. */
export type MonitorKind = (typeof MONITOR_KINDS)[number];

/** One runbook entry. Placeholders: `<queue>`, `<job_type>`, `<function>`, `<dlq>`, `<stage>`, `<schedule_group>`. */
export interface RunbookEntry {
  readonly title: string;
  readonly meaning: string;
  readonly firstChecks: readonly [string, string, string];
}

/** A dead reason, checked against the runtime's list at compile time. */
const reason = (r: DeadReason): string => r;
/** An outcome tag filter, checked against the runtime's list at compile time. */
const outcome = (o: Outcome): string => `\`${METRIC.processed}\` ${TAG.outcome}:${o}`;

const DLQ_LIST = '`npm run jobs -- dlq list <queue> --stage <stage>`';
const DLQ_REDRIVE = '`npm run jobs -- dlq redrive <queue> --stage <stage>`';
const SCHEDULES_LIST = '`npm run jobs -- schedules --stage <stage>`';
const SCHEDULER_DLQ_LIST = '`npm run jobs -- dlq list scheduler --stage <stage>`';
const SCHEDULER_DLQ_REDRIVE = '`npm run jobs -- dlq redrive scheduler --stage <stage>`';
/** The scheduler's dead-letter queue of a stage (infra/schedules.ts: `<stage prefix>-scheduler-dlq`). */
const SCHEDULER_DLQ = `\`${QUEUE_NAME_PREFIX}-<stage>-scheduler-dlq\``;

/** The runbook, by monitor kind. */
export const RUNBOOK: Readonly<Record<MonitorKind, RunbookEntry>> = {
  'dlq-not-empty': {
    title: 'DLQ not empty',
    meaning:
      'Messages reached the dead-letter queue `<dlq>` of queue `<queue>`: a job failed permanently (invalid JSON, unknown job type, invalid payload, `PermanentJobError`), ran out of retries, or never got to run within the receives its queue allows (`not_started`). Dead letters are kept 14 days, then deleted by SQS.',
    firstChecks: [
      `List them with their reasons: ${DLQ_LIST}. The \`${TAG.reason}\` says why (${DEAD_REASONS.join(', ')}).`,
      `On the dashboard, "Dead letters by reason" of the job type, then the worker logs (\`${TAG.functionName}:<function>\`) around the first dead letter: a deploy, a producer change, or a failing dependency?`,
      `Fix the cause first (a redrive cannot fix a producer that sends bad payloads), then move the messages back with ${DLQ_REDRIVE} and watch this monitor recover.`,
    ],
  },
  'dlq-message-expiring': {
    title: 'Dead letters close to expiry',
    meaning:
      'The oldest message in the dead-letter queue `<dlq>` of queue `<queue>` is older than the threshold. SQS deletes it at the 14-day retention, and the job is then lost for good.',
    firstChecks: [
      `${DLQ_LIST}: note the oldest messages and their reasons.`,
      `For each reason decide: redrive after the fix (${DLQ_REDRIVE}), or copy the bodies somewhere durable if they can never succeed.`,
      'Find out why "DLQ not empty" was not acted on (muted monitor, missing notification handle) so it does not happen again.',
    ],
  },
  'oldest-message-age': {
    title: 'Oldest message too old',
    meaning:
      "The oldest message in queue `<queue>` has waited longer than the threshold: the worker is not keeping up, is not running, or messages are retried for a long time (a retried message keeps its first send time). Producers see their jobs done late. The threshold is never below the longest retry schedule of the queue's job types; a peer asking for a long `Retry-After` can still trip it.",
    firstChecks: [
      'Worker health on the dashboard: invocations, errors, throttles and concurrency of `<function>`. Zero invocations with a backlog means the event source mapping is disabled or the worker fails at init.',
      `Retry ratio and queue latency of the queue's job types: a dependency that is down makes every job retry with backoff (${outcome('retry')}).`,
      `If the backlog is real, raise the event source's maxConcurrency (and reserved concurrency) or the batch size in the stack; poison messages end in the DLQ: ${DLQ_LIST}.`,
    ],
  },
  'dead-ratio': {
    title: 'Dead ratio high',
    meaning:
      'More than the threshold share of `<job_type>` records on queue `<queue>` went to the dead-letter queue in 15 minutes: payloads are invalid or the job fails permanently.',
    firstChecks: [
      `${DLQ_LIST}: which reason dominates? ${reason('invalid_payload')} / ${reason('invalid_json')} / ${reason('unknown_type')} point at a producer, ${reason('permanent_error')} at the job or its peer, ${reason('retries_exhausted')} at a long outage, ${reason('not_started')} at records that kept coming back unprocessed (a FIFO group blocked, batches cut by the deadline, a lease held elsewhere, DynamoDB unreachable: the error says which).`,
      `Recent deploys of producers and of the worker (the \`${TAG.version}\` tag of \`${METRIC.processed}\` splits the ratio by release).`,
      `After the fix, ${DLQ_REDRIVE} and watch the dead ratio return to zero.`,
    ],
  },
  'retry-ratio': {
    title: 'Retry ratio high',
    meaning: `More than the threshold share of \`<job_type>\` records on queue \`<queue>\` were retried in 15 minutes: a dependency (SES, the webhook peer, DynamoDB) fails or times out. Retries back off; if it lasts, records go dead with reason ${reason('retries_exhausted')}.`,
    firstChecks: [
      `Worker logs (\`${TAG.functionName}:<function>\`) for the retried errors: job timeouts (\`JobTimeoutError\`), 429/5xx from the peer, AWS throttling.`,
      `\`${METRIC.duration}\` p95/p99 of the job type on the dashboard: close to the job's timeout means the peer is slow rather than down.`,
      `${DLQ_LIST} for records that already ran out of retries (${reason('retries_exhausted')}); once the dependency is back, ${DLQ_REDRIVE}.`,
    ],
  },
  'queue-latency': {
    title: 'Queue latency p95 high',
    meaning:
      'The p95 time from enqueue to the start of processing on queue `<queue>` is above the threshold: a backlog, or long retry delays (a retried record counts from its first send).',
    firstChecks: [
      'Oldest message age and depth of the queue on the dashboard: a growing backlog means too little capacity; a flat depth with high latency means retries.',
      "Throttles and concurrent executions of `<function>` against the event source's maxConcurrency.",
      `Retry ratio of the queue's job types, and the dead letters: ${DLQ_LIST}.`,
    ],
  },
  'lambda-errors': {
    title: 'Worker errors',
    meaning:
      'The worker `<function>` failed whole invocations. Failing jobs are not Lambda errors (they are returned as batch item failures); an invocation error is a crash, an init failure, a timeout of the whole batch or an out-of-memory kill ("signal: killed"), and the whole batch is delivered again.',
    firstChecks: [
      'Worker logs at the first error: `Task timed out`, `Runtime exited` / `signal: killed`, or an init error.',
      'Sandbox health on the dashboard: rss and max memory used against the configured memory, out-of-memory kills. A ramp there is a leak (see the leak monitors).',
      `A recent deploy of the worker (roll back if the errors started with it); batches that crashed repeatedly end in the DLQ: ${DLQ_LIST}, then ${DLQ_REDRIVE} after the fix.`,
    ],
  },
  'lambda-throttles': {
    title: 'Worker throttled',
    meaning:
      "Lambda refused invocations of `<function>` for lack of concurrency (reserved concurrency below the event source's maxConcurrency, or the account limit). Messages wait longer; nothing is lost.",
    firstChecks: [
      "Concurrent executions of the worker on the dashboard against its reserved concurrency and the account's unreserved concurrency.",
      'Other functions in the account that spiked at the same time (an account-level limit).',
      "Keep the event source's maxConcurrency at or below the reserved concurrency so the poller stops over-delivering, then watch the oldest message age drain.",
    ],
  },
  'heap-growth': {
    title: 'Heap growing across warm invocations (leak)',
    meaning:
      'The largest V8 heap among the warm sandboxes of `<function>` grew by more than the threshold percent within an hour. The leak pattern: memory ramps a little with every invocation of a warm sandbox (something is kept per job or per retry: a client, a cache entry, a listener), drops back at each cold start, and ends in an out-of-memory kill ("signal: killed") if the sandbox lives long enough. Seen here, long before that kill.',
    firstChecks: [
      'Sandbox health on the dashboard: heap, rss and open fds of the function. A ramp that resets at each cold start is a leak; a step right after a deploy points at that deploy.',
      `Worker logs for the warning "${METRICS_WARNING.secondClient}" (a client created per job instead of once at module scope) and for caches, listeners or clients created inside the handler.`,
      `Redeploy or roll back to recycle the sandboxes before they are killed, reproduce locally (\`npm start\`, a burst of jobs, a heap snapshot), and watch the DLQ meanwhile: ${DLQ_LIST}.`,
    ],
  },
  'open-fds-growth': {
    title: 'Open file descriptors growing (leak)',
    meaning:
      'The largest count of open file descriptors among the warm sandboxes of `<function>` grew by more than the threshold within an hour: sockets or files are opened per job and never closed (a DogStatsD or SDK client created per job holds one socket each). The process fails with EMFILE at its descriptor limit.',
    firstChecks: [
      `Worker logs for "${METRICS_WARNING.secondClient}" and for \`EMFILE\` errors.`,
      'The deploy diff for SDK clients, sockets or HTTP agents created inside the handler instead of at module scope.',
      `Redeploy or roll back to recycle the sandboxes; jobs that failed with EMFILE are retried or dead: ${DLQ_LIST}, then ${DLQ_REDRIVE} after the fix.`,
    ],
  },
  'worker-silent': {
    title: 'Worker metrics absent',
    meaning: `No \`${METRIC.heapUsed}\` from \`<function>\` for the configured time. Either the queue was idle (no messages, no invocations: expected) or the worker runs but its metrics do not arrive: the Datadog extension is missing or failing, the API key secret is unreadable, or the flush middleware does not run.`,
    firstChecks: [
      'Lambda invocations of `<function>` on the dashboard (from CloudWatch, independent of the extension): zero means an idle queue and nothing to do; non-zero means metrics are being lost.',
      `Worker logs for Datadog extension errors and for "${METRICS_WARNING.sendFailed}" warnings from the metrics client.`,
      "The stack's Datadog settings: the extension layer and the API key secret (context `datadogApiKeySecretArn`) on the function; redeploy with them.",
    ],
  },
  'scheduler-target-errors': {
    title: 'Scheduler cannot deliver',
    meaning: `EventBridge Scheduler's calls to send scheduled jobs (periodic schedules and delays beyond 15 minutes) of schedule group \`<schedule_group>\` to their queues failed: the scheduler role lacks \`sqs:SendMessage\` or \`kms\` access, a queue was deleted or renamed, or SQS throttled. The Scheduler retries; a delivery that exhausts its retries goes to the scheduler's dead-letter queue (${SCHEDULER_DLQ}).`,
    firstChecks: [
      `${SCHEDULES_LIST}: do the schedules still point at the stage's queues? A queue replaced by a deploy needs the schedules redeployed.`,
      "The scheduler role (`JOBS_SCHEDULER_ROLE_ARN`) in IAM: it must allow `sqs:SendMessage` on every job queue (and the queue's KMS key); the errors' CloudTrail events name the denied call.",
      `The messages in ${SCHEDULER_DLQ} (${SCHEDULER_DLQ_LIST}): each names its job queue and the error of the failed delivery; after the fix, ${SCHEDULER_DLQ_REDRIVE} sends each to its job queue.`,
    ],
  },
  'scheduler-dropped': {
    title: 'Scheduled jobs dropped',
    meaning: `EventBridge Scheduler gave up on deliveries of schedule group \`<schedule_group>\` after their retries: those scheduled jobs were not enqueued. Each one is kept in the scheduler's dead-letter queue (${SCHEDULER_DLQ}) if the schedule has it and the role can write to it (the stack gives it to every schedule); otherwise it is lost.`,
    firstChecks: [
      `The messages in ${SCHEDULER_DLQ} (${SCHEDULER_DLQ_LIST}): one per dropped delivery, with the error of the last attempt. None there means the jobs are lost: a schedule made outside the stack, or a role that cannot write to the DLQ.`,
      `Fix the delivery error first (see "Scheduler cannot deliver"), checking with ${SCHEDULES_LIST} that the schedules point at the stage's queues.`,
      `Send the kept ones to their job queues with ${SCHEDULER_DLQ_REDRIVE}, or enqueue the lost jobs from the producer: occurrence job ids are \`p.<job type>.<schedule>@<scheduled time>\`, so a re-sent occurrence is deduplicated.`,
    ],
  },
};

/** The README anchor of a monitor kind (`runbook-dlq-not-empty`). */
export function runbookAnchor(kind: MonitorKind): string {
  return `runbook-${kind}`;
}

/** Values for the runbook's placeholders. */
export interface RunbookContext {
  /** The deployment stage (the `env` tag); the jobs CLI's `--stage`. */
  readonly stage: string;
  readonly queue: string;
  readonly jobType?: string;
  readonly functionName: string;
  readonly deadLetterQueue: string;
  readonly scheduleGroup?: string;
}

/** Fills `<queue>`, `<job_type>`, `<function>`, `<dlq>`, `<stage>`, `<schedule_group>` in a runbook text. */
export function fillPlaceholders(text: string, context: RunbookContext): string {
  return text
    .replaceAll('<queue>', context.queue)
    .replaceAll('<job_type>', context.jobType ?? '<job_type>')
    .replaceAll('<function>', context.functionName)
    .replaceAll('<dlq>', context.deadLetterQueue)
    .replaceAll('<schedule_group>', context.scheduleGroup ?? '<schedule_group>')
    .replaceAll('<stage>', context.stage);
}

/** The README's "Runbook" section as markdown, with placeholders left for the reader. */
export function renderRunbookMarkdown(): string {
  const lines = [
    '## Runbook',
    '',
    'Every Datadog monitor links to its entry here. `<queue>` is the logical queue (`default`, `webhooks`),',
    '`<function>` its worker, `<dlq>` its dead-letter queue, `<stage>` the deployed stage (without `--stage`',
    'the jobs CLI works on the local environment), `<schedule_group>` its EventBridge Scheduler group; the notification',
    'fills them in.',
    '',
  ];
  for (const kind of MONITOR_KINDS) {
    const entry = RUNBOOK[kind];
    lines.push(`<a id="${runbookAnchor(kind)}"></a>`, '', `### ${entry.title}`, '', entry.meaning, '', 'First checks:', '');
    entry.firstChecks.forEach((check, i) => lines.push(`${i + 1}. ${check}`));
    lines.push('');
  }
  return lines.join('\n');
}
