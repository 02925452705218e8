import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import { buildMonitoring } from '../../infra/monitoring/definitions.ts';
import { DEFAULT_THRESHOLDS, resolveMonitoringOptions, type MonitoringOptions } from '../../infra/monitoring/options.ts';
import { targetFromCatalog, validateTarget, type MonitoringTarget } from '../../infra/monitoring/target.ts';

describe('monitoring options', () => {
  it('default every threshold, a 60-minute silence window, no handles and README.md as runbook', () => {
    expect(resolveMonitoringOptions()).toEqual({
      thresholds: DEFAULT_THRESHOLDS,
      jobTypeThresholds: {},
      workerSilenceMinutes: 60,
      notify: [],
      runbookUrl: 'README.md',
      monitorTags: [],
      dashboardTitle: undefined,
    });
  });

  it('put an overridden threshold into the query and the options', () => {
    const built = buildMonitoring(targetFromCatalog(), { thresholds: { queueLatencyP95Ms: { critical: 120_000, warning: 30_000 } } });
    const latency = built.monitors.find((m) => m.kind === 'queue-latency')!;
    expect(latency.query.threshold).toBe(120_000);
    expect(latency.definition.query).toMatch(/ > 120000$/);
    expect(latency.definition.options.thresholds).toEqual({ critical: 120_000, warning: 30_000 });
  });

  it('apply a job type override to that job type only', () => {
    const built = buildMonitoring(targetFromCatalog(), { jobTypeThresholds: { 'deliver-webhook': { retryRatio: { critical: 0.5 } } } });
    const retry = (jobType: string) =>
      built.monitors.find((m) => m.kind === 'retry-ratio' && m.jobType === jobType)!.definition.options.thresholds;
    expect(retry('deliver-webhook')).toEqual({ critical: 0.5 });
    expect(retry('send-email')).toEqual(DEFAULT_THRESHOLDS.retryRatio);
  });

  it('append notification handles and extra tags to every monitor, and the runbook URL to every link', () => {
    const built = buildMonitoring(targetFromCatalog(), {
      notify: ['@slack-jobs', '@pagerduty-jobs'],
      monitorTags: ['team:platform'],
      runbookUrl: 'https://github.com/acme/serverless-jobs/blob/main/README.md',
    });
    for (const m of built.monitors) {
      expect(m.definition.message.endsWith('\n\n@slack-jobs @pagerduty-jobs')).toBe(true);
      expect(m.definition.message).toContain(`https://github.com/acme/serverless-jobs/blob/main/README.md#runbook-${m.kind}`);
      expect(m.definition.tags).toContain('team:platform');
    }
  });

  it.each<[string, MonitoringOptions, RegExp]>([
    [
      'a warning at or above the alert',
      { thresholds: { deadRatio: { critical: 0.05, warning: 0.05 } } },
      /deadRatio\.warning \(0\.05\) must be below critical/,
    ],
    [
      'a ratio of 1 or more',
      { thresholds: { retryRatio: { critical: 1 } } },
      /retryRatio\.critical is a share of records and must be below 1/,
    ],
    ['a negative threshold', { thresholds: { lambdaErrors: { critical: -1 } } }, /lambdaErrors\.critical must be a number >= 0/],
    [
      'a threshold that is not a number',
      { thresholds: { lambdaErrors: { critical: Number.NaN } } },
      /lambdaErrors\.critical must be a number/,
    ],
    [
      'an unknown threshold',
      { thresholds: { dlqDepth: { critical: 1 } } as unknown as MonitoringOptions['thresholds'] },
      /unknown threshold "dlqDepth"/,
    ],
    [
      'a job type override of a per-queue threshold',
      { jobTypeThresholds: { 'send-email': { lambdaErrors: { critical: 1 } } as never } },
      /may override deadRatio and retryRatio only/,
    ],
    [
      'a DLQ age alert past the 14-day retention',
      { thresholds: { dlqOldestMessageAgeSeconds: { critical: 14 * 86_400 } } },
      /14-day maximum retention/,
    ],
    [
      'a silence window shorter than 30 minutes',
      { workerSilenceMinutes: 10 },
      /workerSilenceMinutes must be a whole number of minutes from 30 to 1440/,
    ],
    ['a silence window that is not whole minutes', { workerSilenceMinutes: 45.5 }, /workerSilenceMinutes/],
    ['a handle without @', { notify: ['slack-jobs'] }, /notification handle "slack-jobs"/],
    ['a runbook URL with an anchor', { runbookUrl: 'https://x/README.md#runbook' }, /without an anchor/],
    ['an upper-case monitor tag', { monitorTags: ['Team:Platform'] }, /monitor tag "Team:Platform"/],
  ])('reject %s with a clear message', (_, options, message) => {
    expect(() => resolveMonitoringOptions(options)).toThrow(ConfigurationError);
    expect(() => resolveMonitoringOptions(options)).toThrow(message);
  });

  it('reject an override for a job type no queue carries', () => {
    expect(() => buildMonitoring(targetFromCatalog(), { jobTypeThresholds: { 'send-mail': { deadRatio: { critical: 0.1 } } } })).toThrow(
      /jobTypeThresholds names "send-mail", which no queue carries \(known: send-email, deliver-webhook\)/,
    );
  });
});

describe('the monitoring target', () => {
  const base = targetFromCatalog();
  const withQueue = (patch: Partial<MonitoringTarget['queues'][number]>): MonitoringTarget => ({
    ...base,
    queues: [{ ...base.queues[0]!, ...patch }],
  });

  it('names the AWS resources like the stack does, lower-cased', () => {
    expect(targetFromCatalog({ env: 'Prod' }).queues[0]).toMatchObject({
      sqsQueueName: 'serverless-jobs-prod-default',
      sqsDeadLetterQueueName: 'serverless-jobs-prod-default-dlq',
      functionName: 'serverless-jobs-prod-default-worker',
    });
  });

  it.each<[string, MonitoringTarget, RegExp]>([
    ['no queue', { ...base, queues: [] }, /has no queue/],
    ['a queue without job types', withQueue({ jobTypes: [] }), /queue "default" has no job type/],
    [
      'a name Datadog cannot keep as a tag value',
      withQueue({ sqsQueueName: 'My Queue' }),
      /SQS name of queue "default" "My Queue" cannot be used as a Datadog tag value/,
    ],
    ['a negative retry window', withQueue({ retryWindowSeconds: -1 }), /retryWindowSeconds/],
    ['a queue listed twice', { ...base, queues: [base.queues[0]!, base.queues[0]!] }, /listed twice/],
  ])('refuses %s', (_, target, message) => {
    expect(() => validateTarget(target)).toThrow(message);
  });
});
