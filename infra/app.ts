/**
 * Builds the CDK app in-process: what `cdk synth` runs (through infra/main.ts), and what tests and the local
 * environment call to synthesize the template without the CLI.
 *
 * Configuration comes from CDK context (cdk.json, `--context key=value`, or `options.context`):
 *
 * | context key | default | meaning |
 * |---|---|---|
 * | `stage` | `dev` | part of every name, DD_ENV; `prod` keeps data on delete |
 * | `datadogApiKeySecretArn` | env `DATADOG_API_KEY_SECRET_ARN` | complete ARN of the Secrets Manager secret holding the Datadog API key; switches Datadog on |
 * | `datadogSite` | env `DATADOG_SITE`, else `datadoghq.com` | Datadog site |
 * | `datadogNodeLibrary` | `false` | add the Datadog Node.js library layer (tracing; costs cold start) |
 * | `datadogSourceCodeIntegration` | `true` | tag functions with the git commit (local `git`, no network) |
 * | `emailFrom` | `no-reply@example.com` (with a warning) | sender of `send-email` (EMAIL_FROM) |
 * | `version` | package.json version | DD_VERSION |
 * | `alarmTopicArn` | none | without `datadogMonitoring`: an existing SNS topic every CloudWatch alarm notifies (else the stack creates one) |
 * | `alarmEmail` | none | without `datadogMonitoring`: an address subscribed to the alarm topic the stack creates |
 * | `logRetentionDays` | 365 on `prod`, else 30 | days the workers' log groups keep logs (a CloudWatch Logs retention value) |
 * | `retainData` | `true` on `prod` | keep queues, idempotency table, keys and logs on stack deletion |
 * | `nag` | `true` | run the cdk-nag AwsSolutions checks at synth |
 * | `datadogMonitoring` | `false` | Datadog dashboard and monitors (infra/monitoring/); Datadog pages, no CloudWatch alarm duplicates a monitor |
 * | `datadogMonitoringNotify` | none | notification handles for the monitors, comma-separated (`@slack-jobs,@pagerduty-jobs`) |
 * | `datadogRunbookUrl` | `README.md` | README address the monitor messages link their runbook entries to |
 *
 * Set `aws:cdk:bundling-stacks` to `[]` to skip bundling the worker (fast synth that only needs the template).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Annotations, App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { catalog } from '../functions/jobs/catalog.ts';
import { ConfigurationError } from '../functions/runtime/errors.ts';
import type { JobDefinition } from '../functions/runtime/job.ts';
import { REPO_ROOT } from './bundling.ts';
import { checkDatadogSettings, DEFAULT_DATADOG_SITE, type DatadogSettings } from './datadog.ts';
import { ALARM_EMAIL_CONTEXT_KEY, ALARM_TOPIC_CONTEXT_KEY } from './alarms.ts';
import { MONITORING_CONTEXT_KEY } from './monitoring/construct.ts';
import { datadogMonitoringFactory } from './monitoring/stack-wiring.ts';
import type { QueueSettings } from './queue-settings.ts';
import { ServerlessJobsStack, type MonitoringFactory } from './stack.ts';
import { checkStage } from './stack-names.ts';

/** Options of {@link buildApp}. */
export interface BuildAppOptions {
  /** Context values; they win over cdk.json and the CLI's `--context`. */
  readonly context?: Readonly<Record<string, unknown>>;
  /** Cloud assembly directory; default: a temporary directory (CDK's default outside the CLI), or the CLI's. */
  readonly outdir?: string;
  /** Environment variables to read (`DATADOG_API_KEY_SECRET_ARN`, `DATADOG_SITE`...); default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Job definitions; default: the catalog. */
  readonly jobs?: readonly JobDefinition[];
  /** Per-queue setting overrides on top of infra/queue-settings.ts. */
  readonly queueSettings?: Readonly<Record<string, Partial<QueueSettings>>>;
  /** Adds monitoring for the queues (infra/monitoring/). */
  readonly monitoring?: MonitoringFactory;
}

/** The resolved app configuration (what the context said). */
export interface AppConfig {
  readonly stage: string;
  readonly version: string;
  readonly emailFrom: string;
  readonly datadog: DatadogSettings | undefined;
  readonly datadogMonitoring: boolean;
  readonly alarmTopicArn: string | undefined;
  readonly alarmEmail: string | undefined;
  readonly logRetentionDays: number | undefined;
  readonly retainData: boolean;
  readonly nag: boolean;
}

/** What {@link buildApp} returns. */
export interface BuiltApp {
  readonly app: App;
  readonly stack: ServerlessJobsStack;
  readonly config: AppConfig;
}

/** The default sender address; deployments should set `emailFrom`. */
export const PLACEHOLDER_EMAIL_FROM = 'no-reply@example.com';

/** The context in cdk.json: feature flags and settings, so in-process synthesis matches `cdk synth`. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return { ...cdkJson.context };
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

function readString(app: App, key: string, fallback?: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return fallback;
  if (typeof value !== 'string') throw new ConfigurationError(`context "${key}" must be a string (got ${JSON.stringify(value)})`);
  return value;
}

function readBoolean(app: App, key: string, fallback: boolean): boolean {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ConfigurationError(`context "${key}" must be true or false (got ${JSON.stringify(value)})`);
}

function readWholeNumber(app: App, key: string): number | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n)) throw new ConfigurationError(`context "${key}" must be a whole number (got ${JSON.stringify(value)})`);
  return n;
}

/** Reads and checks the app configuration from context (and the two environment variables). */
export function readConfig(app: App, env: Readonly<Record<string, string | undefined>> = process.env): AppConfig {
  const stage = checkStage(readString(app, 'stage', 'dev') as string);
  const apiKeySecretArn = readString(app, 'datadogApiKeySecretArn', env.DATADOG_API_KEY_SECRET_ARN || undefined);
  const datadog: DatadogSettings | undefined = apiKeySecretArn
    ? checkDatadogSettings({
        apiKeySecretArn,
        site: readString(app, 'datadogSite', env.DATADOG_SITE || DEFAULT_DATADOG_SITE) as string,
        nodeLibrary: readBoolean(app, 'datadogNodeLibrary', false),
        sourceCodeIntegration: readBoolean(app, 'datadogSourceCodeIntegration', true),
      })
    : undefined;
  return {
    stage,
    version: readString(app, 'version', packageVersion()) as string,
    emailFrom: readString(app, 'emailFrom', PLACEHOLDER_EMAIL_FROM) as string,
    datadog,
    datadogMonitoring: readBoolean(app, MONITORING_CONTEXT_KEY, false),
    alarmTopicArn: readString(app, ALARM_TOPIC_CONTEXT_KEY),
    alarmEmail: readString(app, ALARM_EMAIL_CONTEXT_KEY),
    logRetentionDays: readWholeNumber(app, 'logRetentionDays'),
    retainData: readBoolean(app, 'retainData', stage === 'prod'),
    nag: readBoolean(app, 'nag', true),
  };
}

/**
 * Builds the app and its one stack. Nothing is synthesized yet: call `app.synth()` (or use
 * `Template.fromStack(stack)` in tests). Throws a `ConfigurationError` for a configuration that must not deploy.
 */
export function buildApp(options: BuildAppOptions = {}): BuiltApp {
  const app = new App({
    context: cdkJsonContext(),
    ...(options.context ? { postCliContext: { ...options.context } } : {}),
    ...(options.outdir ? { outdir: options.outdir } : {}),
    analyticsReporting: false,
  });
  const config = readConfig(app, options.env);
  const stack = new ServerlessJobsStack(app, `ServerlessJobs-${config.stage}`, {
    description: `serverless-jobs (${config.stage}): typed background jobs on SQS and Lambda`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    stage: config.stage,
    version: config.version,
    emailFrom: config.emailFrom,
    jobs: options.jobs ?? Object.values(catalog),
    queueSettings: options.queueSettings,
    datadog: config.datadog,
    datadogMonitoring: config.datadogMonitoring,
    alarmTopicArn: config.alarmTopicArn,
    alarmEmail: config.alarmEmail,
    logRetentionDays: config.logRetentionDays,
    retainData: config.retainData,
    monitoring: options.monitoring ?? datadogMonitoringFactory(),
  });
  if (config.emailFrom === PLACEHOLDER_EMAIL_FROM) {
    Annotations.of(stack).addWarningV2(
      'serverless-jobs:email-from-placeholder',
      `send-email will send from ${PLACEHOLDER_EMAIL_FROM}: deploy with --context emailFrom=<an address verified in SES>.`,
    );
  }
  if (config.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, config };
}
