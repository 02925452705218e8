/**
 * What the dashboard's server sends its page: one snapshot per update (Server-Sent Events), and the
 * answers of its few requests. Types only, shared by the server and the page (no Node or DOM imports here).
 * Everything that comes from a message (types, reasons, errors, bodies) is data: the page writes it as text.
 */

/** Approximate counts of one queue, as `jobs queues` reads them. */
export interface DepthView {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

/** One row of the Queues view: the same fields as a row of `jobs queues --json`. */
export interface QueueRowView {
  readonly queue: string;
  readonly name: string | undefined;
  readonly depth: DepthView | undefined;
  readonly deadLetterName: string | undefined;
  readonly deadLetter: DepthView | undefined;
  readonly problem: string | undefined;
}

/** Series over time: `times` in seconds since the epoch (uPlot's x axis), one array of values per series name. */
export interface TimeSeriesView {
  readonly times: readonly number[];
  readonly series: Readonly<Record<string, readonly (number | null)[]>>;
}

/** p50 / p95 in milliseconds; undefined when nothing was measured. */
export interface PercentilesView {
  readonly p50: number | undefined;
  readonly p95: number | undefined;
}

/** The Queues view. */
export interface QueuesView {
  readonly rows: readonly QueueRowView[];
  /** Jobs per outcome over the last 15 minutes (local: jobs.processed; stage: SQS deletes and dead-letter sends). */
  readonly outcomes: TimeSeriesView;
  /** What the outcome chart counts, in words. */
  readonly outcomesLabel: string;
  readonly duration: PercentilesView;
  readonly latency: PercentilesView;
  /** What duration and latency measure, in words. */
  readonly percentilesLabel: string;
}

/** A dead-letter message without its body (fetched on request only). */
export interface DeadLetterRowView {
  readonly messageId: string;
  readonly jobType: string | undefined;
  readonly reason: string | undefined;
  readonly error: string | undefined;
  readonly receiveCount: string | undefined;
  readonly failedAt: string | undefined;
  readonly sentAt: string | undefined;
}

/** The dead letters of one queue, newest first. */
export interface DeadLetterListView {
  readonly queue: string;
  readonly deadLetterName: string;
  readonly rows: readonly DeadLetterRowView[];
  /** True when the DLQ holds more than were listed. */
  readonly truncated: boolean;
  /** When the list was read (ms since the epoch). */
  readonly listedAt: number;
}

/** One local sandbox (a warm Lambda execution environment) and its heap / descriptors over time. */
export interface SandboxView {
  readonly id: string;
  readonly alive: boolean;
  readonly invocations: number;
  /** heap (bytes) and fds over time. */
  readonly samples: TimeSeriesView;
}

/** One local worker. */
export interface LocalWorkerView {
  readonly functionName: string;
  readonly queue: string;
  readonly sandboxes: number;
  readonly concurrency: number;
  /** Invocations as Lambda counts them (an init error is one), the same figure as `npm start`'s live view. */
  readonly invocations: number;
  /** Cold starts as Lambda counts them (an init error is one). */
  readonly coldStarts: number;
  readonly failed: number;
  readonly lastError: string | undefined;
  /** Per sandbox when known, else one series for the whole worker (`all`). */
  readonly sandboxSeries: readonly SandboxView[];
}

/** One deployed worker function, from CloudWatch (AWS/Lambda), per minute over the last 15 minutes. */
export interface LambdaWorkerView {
  readonly functionName: string;
  readonly queue: string;
  /** Invocations, Errors, Throttles (sums), Duration p95 (ms), and max memory used (MB) when Lambda Insights has it. */
  readonly metrics: TimeSeriesView;
  readonly totals: Readonly<Record<string, number | undefined>>;
}

/** The Workers view. */
export type WorkersView =
  | { readonly kind: 'local'; readonly workers: readonly LocalWorkerView[] }
  | { readonly kind: 'stage'; readonly workers: readonly LambdaWorkerView[]; readonly problem: string | undefined };

/** One invocation in Recent activity (local). */
export interface ActivityView {
  readonly at: number;
  readonly functionName: string;
  readonly status: string;
  readonly records: number;
  readonly failed: number;
  readonly deleted: number;
  readonly durationMs: number;
  readonly coldStart: boolean;
  readonly error: string | undefined;
}

/** One EventBridge Scheduler schedule, or a pending one-time job. */
export interface ScheduleView {
  readonly name: string;
  readonly kind: 'periodic' | 'one-time';
  readonly expression: string;
  readonly nextRuns: readonly string[];
  /** The job type and queue it sends to. */
  readonly job: string;
  readonly cancellable: boolean;
}

/** One update of the page. */
export interface Snapshot {
  readonly at: number;
  readonly source: 'local' | 'stage';
  readonly stage: string;
  /** Where the data comes from, in words (`local SQS at http://127.0.0.1:9324 (stage local)`). */
  readonly target: string;
  readonly readOnly: boolean;
  readonly queues: QueuesView;
  readonly deadLetters: readonly DeadLetterListView[];
  readonly workers: WorkersView;
  /** Local only; undefined for a stage. */
  readonly activity: readonly ActivityView[] | undefined;
  /** Undefined when the project has no scheduling: the view is hidden. */
  readonly schedules: readonly ScheduleView[] | undefined;
  /** Why pending one-time jobs could not be read (the Scheduler failed), and what to do; undefined when read. */
  readonly schedulesProblem: string | undefined;
}

/** What the event stream says besides snapshots. */
export interface SourceStatus {
  readonly ok: boolean;
  /** Why the data source does not answer, and what to do. */
  readonly problem: string | undefined;
  /** Last good snapshot (ms since the epoch). */
  readonly lastGoodAt: number | undefined;
}

/** The dead-letter filter the page sends with "redrive all matching". */
export interface DeadLetterFilter {
  readonly jobType?: string | undefined;
  readonly reason?: string | undefined;
}

/** Body of POST /api/actions/redrive. */
export interface RedriveRequest {
  readonly queue: string;
  /** The selected messages, or omitted with `filter` for every message that matches. */
  readonly messageIds?: readonly string[];
  readonly filter?: DeadLetterFilter;
}

/** Body of POST /api/actions/delete. */
export interface DeleteRequest {
  readonly queue: string;
  readonly messageIds: readonly string[];
}

/** Body of POST /api/actions/purge: `confirm` must be the queue's name. */
export interface PurgeRequest {
  readonly queue: string;
  readonly confirm: string;
}

/** Answer of an action. */
export interface ActionResult {
  readonly ok: boolean;
  readonly message: string;
}

/** Header carrying the page's token on state-changing requests. */
export const TOKEN_HEADER = 'x-dashboard-token';
