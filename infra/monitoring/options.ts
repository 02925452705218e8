/**
 * Monitor thresholds and notification options, with defaults, validated once with zod when the
 * definitions are built (a bad threshold refuses to synthesize; it never reaches Datadog).
 */
import { z } from 'zod';
import { ConfigurationError } from '../../functions/runtime/errors.ts';

/** Alert when the value is above `critical`; warn above `warning` (which must be lower). */
export interface AboveThreshold {
  readonly critical: number;
  readonly warning?: number;
}

/** Every threshold, by monitor. */
export interface MonitoringThresholds {
  /** Visible messages in a dead-letter queue. Default: alert above 0. */
  readonly dlqMessages: AboveThreshold;
  /**
   * Age in seconds of the oldest message in a source queue. Default: warn above 600, alert above 1,800.
   * A queue's own `oldestMessageAgeAlarmSeconds` (infra/queue-settings.ts) replaces the alert threshold;
   * never applied below the queue's retry window (a message waiting for its last retry is that old).
   */
  readonly oldestMessageAgeSeconds: AboveThreshold;
  /** Age in seconds of the oldest dead letter, against the DLQ's 14-day retention. Default: warn above 7 days, alert above 10. */
  readonly dlqOldestMessageAgeSeconds: AboveThreshold;
  /** Share of a job type's records that went dead. Default: warn above 0.01, alert above 0.05. */
  readonly deadRatio: AboveThreshold;
  /** Share of a job type's records that were retried. Default: warn above 0.10, alert above 0.25. */
  readonly retryRatio: AboveThreshold;
  /** p95 of `jobs.queue_latency` (ms) per queue. Default: warn above 60,000, alert above 300,000. */
  readonly queueLatencyP95Ms: AboveThreshold;
  /** Worker invocation errors (crash, timeout, out of memory) per 15 minutes. Default: alert above 0. */
  readonly lambdaErrors: AboveThreshold;
  /** Worker throttles per 15 minutes. Default: warn above 0, alert above 10. */
  readonly lambdaThrottles: AboveThreshold;
  /** Percent growth of the largest sandbox heap, last 30 min against an hour before. Default: warn above 25, alert above 50. */
  readonly heapGrowthPercent: AboveThreshold;
  /** Growth in open file descriptors of the largest sandbox, same windows. Default: warn above 10, alert above 20. */
  readonly openFdsGrowth: AboveThreshold;
}

/** Thresholds a job type may override. */
export type JobTypeThresholds = Partial<Pick<MonitoringThresholds, 'deadRatio' | 'retryRatio'>>;

/** Options of the monitoring definitions. */
export interface MonitoringOptions {
  /** Overrides of {@link DEFAULT_THRESHOLDS}. */
  readonly thresholds?: Partial<MonitoringThresholds>;
  /** Per job type overrides of the ratio thresholds. */
  readonly jobTypeThresholds?: Readonly<Record<string, JobTypeThresholds>>;
  /** Minutes without `jobs.runtime.heap_used` from a worker before the silence monitor notifies; `false` disables it. Default 60. */
  readonly workerSilenceMinutes?: number | false;
  /** Notification handles appended to every monitor message (`@slack-jobs`, `@pagerduty-jobs`). Default none. */
  readonly notify?: readonly string[];
  /** Where the README lives (runbook anchors are appended). Default `README.md`; set the repository URL. */
  readonly runbookUrl?: string;
  /** Extra tags on every monitor (`team:payments`). */
  readonly monitorTags?: readonly string[];
  /** Dashboard title. Default `serverless-jobs (<env>)`. */
  readonly dashboardTitle?: string;
}

/** Options with every default filled in. */
export interface ResolvedMonitoringOptions {
  readonly thresholds: MonitoringThresholds;
  readonly jobTypeThresholds: Readonly<Record<string, JobTypeThresholds>>;
  readonly workerSilenceMinutes: number | false;
  readonly notify: readonly string[];
  readonly runbookUrl: string;
  readonly monitorTags: readonly string[];
  readonly dashboardTitle: string | undefined;
}

const DAY = 86_400;

/** The default thresholds. */
export const DEFAULT_THRESHOLDS: MonitoringThresholds = {
  dlqMessages: { critical: 0 },
  oldestMessageAgeSeconds: { critical: 1_800, warning: 600 },
  dlqOldestMessageAgeSeconds: { critical: 10 * DAY, warning: 7 * DAY },
  deadRatio: { critical: 0.05, warning: 0.01 },
  retryRatio: { critical: 0.25, warning: 0.1 },
  queueLatencyP95Ms: { critical: 300_000, warning: 60_000 },
  lambdaErrors: { critical: 0 },
  lambdaThrottles: { critical: 10, warning: 0 },
  heapGrowthPercent: { critical: 50, warning: 25 },
  openFdsGrowth: { critical: 20, warning: 10 },
};

/** Where a message can be stored at most (SQS: 14 days). */
const MAX_RETENTION_SECONDS = 14 * DAY;

const HANDLE = /^@[\w.\-+@]+$/;
const MONITOR_TAG = /^[a-z][a-z0-9_.\-/]*:[a-z0-9_.\-/:]+$/;

/** A number >= 0, with a message naming the option. */
function amount(name: string) {
  const message = (issue: { readonly input: unknown }): string => `${name} must be a number >= 0, got ${String(issue.input)}`;
  return z.number({ error: message }).min(0, { error: message });
}

/** One {@link AboveThreshold}: a warning, when given, must be below the alert. */
function threshold(name: string, ratio: boolean) {
  return z
    .strictObject({ critical: amount(`${name}.critical`), warning: amount(`${name}.warning`).optional() })
    .superRefine(({ critical, warning }, ctx) => {
      if (ratio && critical >= 1)
        ctx.addIssue({ code: 'custom', message: `${name}.critical is a share of records and must be below 1, got ${critical}` });
      if (warning !== undefined && warning >= critical)
        ctx.addIssue({ code: 'custom', message: `${name}.warning (${warning}) must be below critical (${critical})` });
    })
    .transform(({ critical, warning }): AboveThreshold => (warning === undefined ? { critical } : { critical, warning }))
    .optional();
}

const THRESHOLD_KEYS = Object.keys(DEFAULT_THRESHOLDS);

const thresholdsSchema = z.strictObject(
  {
    dlqMessages: threshold('dlqMessages', false),
    oldestMessageAgeSeconds: threshold('oldestMessageAgeSeconds', false),
    dlqOldestMessageAgeSeconds: threshold('dlqOldestMessageAgeSeconds', false).refine(
      (t) => t === undefined || t.critical < MAX_RETENTION_SECONDS,
      {
        error: 'dlqOldestMessageAgeSeconds.critical must be below the 14-day maximum retention, or dead letters expire before it alerts',
      },
    ),
    deadRatio: threshold('deadRatio', true),
    retryRatio: threshold('retryRatio', true),
    queueLatencyP95Ms: threshold('queueLatencyP95Ms', false),
    lambdaErrors: threshold('lambdaErrors', false),
    lambdaThrottles: threshold('lambdaThrottles', false),
    heapGrowthPercent: threshold('heapGrowthPercent', false),
    openFdsGrowth: threshold('openFdsGrowth', false),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown threshold "${issue.keys.join('", "')}" (known: ${THRESHOLD_KEYS.join(', ')})`
        : undefined,
  },
);

function jobTypeSchema(jobType: string) {
  const name = `jobTypeThresholds.${jobType}`;
  return z.strictObject(
    { deadRatio: threshold(`${name}.deadRatio`, true), retryRatio: threshold(`${name}.retryRatio`, true) },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `job type "${jobType}" may override deadRatio and retryRatio only, not "${issue.keys.join('", "')}"`
          : undefined,
    },
  );
}

function silence(issue: { readonly input: unknown }): string {
  return `workerSilenceMinutes must be a whole number of minutes from 30 to 1440, or false; got ${String(issue.input)}`;
}

const optionsSchema = z.strictObject({
  thresholds: thresholdsSchema.optional(),
  jobTypeThresholds: z.record(z.string(), z.unknown()).optional(),
  workerSilenceMinutes: z
    .union([z.literal(false), z.int({ error: silence }).min(30, { error: silence }).max(1_440, { error: silence })], { error: silence })
    .default(60),
  notify: z
    .array(
      z.string().regex(HANDLE, {
        error: (issue) => `notification handle "${String(issue.input)}" must look like @slack-channel or @team@example.com`,
      }),
    )
    .default([]),
  runbookUrl: z
    .string()
    .regex(/^[^#\s]+$/, { error: (issue) => `runbookUrl "${String(issue.input)}" must be the README's address without an anchor` })
    .default('README.md'),
  monitorTags: z
    .array(z.string().regex(MONITOR_TAG, { error: (issue) => `monitor tag "${String(issue.input)}" must be key:value in lower case` }))
    .default([]),
  dashboardTitle: z.string().min(1).optional(),
});

/** Parses with a schema; the first problem becomes a {@link ConfigurationError}. */
function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  throw new ConfigurationError(`monitoring: ${issue?.message ?? 'invalid options'}`);
}

/**
 * Fills in defaults and validates every option once.
 * @throws ConfigurationError on a bad threshold, handle, URL or silence window
 */
export function resolveMonitoringOptions(options: MonitoringOptions = {}): ResolvedMonitoringOptions {
  const parsed = parse(optionsSchema, options);
  const thresholds: MonitoringThresholds = { ...DEFAULT_THRESHOLDS, ...defined(parsed.thresholds ?? {}) };
  const jobTypeThresholds: Record<string, JobTypeThresholds> = {};
  for (const [jobType, partial] of Object.entries(parsed.jobTypeThresholds ?? {})) {
    const own = defined(parse(jobTypeSchema(jobType), partial));
    jobTypeThresholds[jobType] = { deadRatio: own.deadRatio ?? thresholds.deadRatio, retryRatio: own.retryRatio ?? thresholds.retryRatio };
  }
  return {
    thresholds,
    jobTypeThresholds,
    workerSilenceMinutes: parsed.workerSilenceMinutes,
    notify: parsed.notify,
    runbookUrl: parsed.runbookUrl,
    monitorTags: parsed.monitorTags,
    dashboardTitle: parsed.dashboardTitle,
  };
}

/** The entries of `value` that are set (zod leaves absent optional keys out, but keeps explicit `undefined`). */
function defined<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** The ratio thresholds of one job type (its overrides, else the defaults). */
export function ratioThresholds(
  options: ResolvedMonitoringOptions,
  jobType: string,
): Pick<MonitoringThresholds, 'deadRatio' | 'retryRatio'> {
  const own = options.jobTypeThresholds[jobType];
  return { deadRatio: own?.deadRatio ?? options.thresholds.deadRatio, retryRatio: own?.retryRatio ?? options.thresholds.retryRatio };
}
