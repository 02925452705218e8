/**
 * Monitor thresholds and notification options, with defaults, validated once when the definitions
 * are built (a bad threshold refuses to synthesize; it never reaches Datadog).
 */
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

/** Thresholds that are shares of 1. */
const RATIOS: ReadonlySet<keyof MonitoringThresholds> = new Set(['deadRatio', 'retryRatio']);
/** Where a message can be stored at most (SQS: 14 days). */
const MAX_RETENTION_SECONDS = 14 * DAY;

function checkThreshold(name: string, ratio: boolean, value: AboveThreshold): AboveThreshold {
  const { critical, warning } = value;
  if (typeof critical !== 'number' || !Number.isFinite(critical) || critical < 0) {
    throw new ConfigurationError(`monitoring: ${name}.critical must be a number >= 0, got ${String(critical)}`);
  }
  if (ratio && critical >= 1)
    throw new ConfigurationError(`monitoring: ${name}.critical is a share of records and must be below 1, got ${critical}`);
  if (warning !== undefined) {
    if (typeof warning !== 'number' || !Number.isFinite(warning) || warning < 0) {
      throw new ConfigurationError(`monitoring: ${name}.warning must be a number >= 0, got ${String(warning)}`);
    }
    if (warning >= critical) throw new ConfigurationError(`monitoring: ${name}.warning (${warning}) must be below critical (${critical})`);
  }
  return warning === undefined ? { critical } : { critical, warning };
}

function checkThresholds(prefix: string, partial: Partial<MonitoringThresholds>, base: MonitoringThresholds): MonitoringThresholds {
  const known = new Set(Object.keys(base));
  for (const key of Object.keys(partial)) {
    if (!known.has(key)) throw new ConfigurationError(`monitoring: unknown threshold "${prefix}${key}" (known: ${[...known].join(', ')})`);
  }
  const out: Record<string, AboveThreshold> = {};
  for (const key of Object.keys(base) as (keyof MonitoringThresholds)[]) {
    out[key] = checkThreshold(`${prefix}${key}`, RATIOS.has(key), partial[key] ?? base[key]);
  }
  const resolved = out as unknown as MonitoringThresholds;
  if (resolved.dlqOldestMessageAgeSeconds.critical >= MAX_RETENTION_SECONDS) {
    throw new ConfigurationError(
      'monitoring: dlqOldestMessageAgeSeconds.critical must be below the 14-day maximum retention, or dead letters expire before it alerts',
    );
  }
  return resolved;
}

/**
 * Fills in defaults and validates every option once.
 * @throws ConfigurationError on a bad threshold, handle, URL or silence window
 */
export function resolveMonitoringOptions(options: MonitoringOptions = {}): ResolvedMonitoringOptions {
  const thresholds = checkThresholds('', options.thresholds ?? {}, DEFAULT_THRESHOLDS);
  const jobTypeThresholds: Record<string, JobTypeThresholds> = {};
  for (const [jobType, partial] of Object.entries(options.jobTypeThresholds ?? {})) {
    for (const key of Object.keys(partial)) {
      if (key !== 'deadRatio' && key !== 'retryRatio') {
        throw new ConfigurationError(`monitoring: job type "${jobType}" may override deadRatio and retryRatio only, not "${key}"`);
      }
    }
    const checked = checkThresholds(`jobTypeThresholds.${jobType}.`, partial, thresholds);
    jobTypeThresholds[jobType] = { deadRatio: checked.deadRatio, retryRatio: checked.retryRatio };
  }
  const silence = options.workerSilenceMinutes ?? 60;
  if (silence !== false && (!Number.isInteger(silence) || silence < 30 || silence > 1_440)) {
    throw new ConfigurationError(
      `monitoring: workerSilenceMinutes must be a whole number of minutes from 30 to 1440, or false; got ${String(silence)}`,
    );
  }
  const notify = options.notify ?? [];
  for (const handle of notify) {
    if (!/^@[\w.\-+@]+$/.test(handle))
      throw new ConfigurationError(`monitoring: notification handle "${handle}" must look like @slack-channel or @team@example.com`);
  }
  const runbookUrl = options.runbookUrl ?? 'README.md';
  if (runbookUrl.includes('#') || /\s/.test(runbookUrl)) {
    throw new ConfigurationError(`monitoring: runbookUrl "${runbookUrl}" must be the README's address without an anchor`);
  }
  const monitorTags = options.monitorTags ?? [];
  for (const tag of monitorTags) {
    if (!/^[a-z][a-z0-9_.\-/]*:[a-z0-9_.\-/:]+$/.test(tag))
      throw new ConfigurationError(`monitoring: monitor tag "${tag}" must be key:value in lower case`);
  }
  return {
    thresholds,
    jobTypeThresholds,
    workerSilenceMinutes: silence,
    notify,
    runbookUrl,
    monitorTags,
    dashboardTitle: options.dashboardTitle,
  };
}

/** The ratio thresholds of one job type (its overrides, else the defaults). */
export function ratioThresholds(
  options: ResolvedMonitoringOptions,
  jobType: string,
): Pick<MonitoringThresholds, 'deadRatio' | 'retryRatio'> {
  const own = options.jobTypeThresholds[jobType];
  return { deadRatio: own?.deadRatio ?? options.thresholds.deadRatio, retryRatio: own?.retryRatio ?? options.thresholds.retryRatio };
}
