import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { queueNames } from '../../functions/jobs/catalog.ts';
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import { buildApp } from '../../infra/app.ts';
import { jobQueueLogicalIds } from '../../infra/job-queue.ts';
import { DATADOG_DASHBOARD_TYPE, DATADOG_MONITOR_TYPE } from '../../infra/monitoring/cfn.ts';
import { addDatadogMonitoring, DatadogMonitoring } from '../../infra/monitoring/construct.ts';
import { buildMonitoring } from '../../infra/monitoring/definitions.ts';
import { targetFromCatalog } from '../../infra/monitoring/target.ts';

interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

/** Property names of the registry schemas (datadog-monitors-monitor.json, datadog-dashboards-dashboard.json). */
const MONITOR_SCHEMA_PROPERTIES = [
  'Creator',
  'Id',
  'Message',
  'Name',
  'Tags',
  'Priority',
  'Options',
  'Query',
  'Type',
  'Multi',
  'Created',
  'Deleted',
  'Modified',
  'RestrictedRoles',
  'CloudformationOptions',
];
const MONITOR_SCHEMA_OPTIONS = [
  'EnableLogsSample',
  'EnableSamples',
  'EscalationMessage',
  'EvaluationDelay',
  'GroupRetentionDuration',
  'IncludeTags',
  'Locked',
  'MinLocationFailed',
  'NewHostDelay',
  'NoDataTimeframe',
  'NotifyAudit',
  'NotifyBy',
  'NotifyNoData',
  'NotificationPresetName',
  'OnMissingData',
  'RenotifyInterval',
  'RequireFullWindow',
  'SchedulingOptions',
  'SyntheticsCheckID',
  'Thresholds',
  'ThresholdWindows',
  'TimeoutH',
  'RenotifyOccurrences',
  'RenotifyStatuses',
  'MinFailureDuration',
  'NewGroupDelay',
  'Variables',
];
const SCHEMA_THRESHOLDS = ['Critical', 'CriticalRecovery', 'OK', 'Warning', 'WarningRecovery'];

function datadogResources(stack: Stack, type: string): Resource[] {
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> };
  return Object.values(template.Resources).filter((r) => r.Type === type);
}

/** The real stack, built in-process without bundling the worker. */
function realStack(context: Record<string, unknown>) {
  return buildApp({ context: { 'aws:cdk:bundling-stacks': [], nag: false, emailFrom: 'jobs@example.org', ...context } });
}

const DD_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:datadog-api-key-AbCdEf';

describe('DatadogMonitoring in a bare stack', () => {
  const stack = new Stack(new App(), 'Bare');
  const target = targetFromCatalog({ env: 'test' });
  const construct = new DatadogMonitoring(stack, 'Monitoring', { target });
  const expected = buildMonitoring(target);

  it('adds one Datadog::Dashboards::Dashboard whose DashboardDefinition is the dashboard as a JSON string', () => {
    const dashboards = datadogResources(stack, DATADOG_DASHBOARD_TYPE);
    expect(dashboards).toHaveLength(1);
    expect(Object.keys(dashboards[0]!.Properties)).toEqual(['DashboardDefinition']);
    expect(JSON.parse(dashboards[0]!.Properties.DashboardDefinition as string)).toEqual(expected.dashboard);
  });

  it("adds one Datadog::Monitors::Monitor per monitor, with the registry type's property names", () => {
    const monitors = datadogResources(stack, DATADOG_MONITOR_TYPE);
    expect(monitors).toHaveLength(expected.monitors.length);
    expect(construct.monitors.size).toBe(expected.monitors.length);
    for (const m of monitors) {
      for (const key of Object.keys(m.Properties)) expect(MONITOR_SCHEMA_PROPERTIES).toContain(key);
      const options = m.Properties.Options as Record<string, unknown>;
      for (const key of Object.keys(options)) expect(MONITOR_SCHEMA_OPTIONS).toContain(key);
      for (const key of Object.keys(options.Thresholds as object)) expect(SCHEMA_THRESHOLDS).toContain(key);
    }
  });

  it("carries each monitor's query, name, message, tags, priority and options over unchanged", () => {
    const spec = expected.monitors.find((m) => m.key === 'default-dlq-not-empty')!.definition;
    const matching = Template.fromStack(stack).findResources(DATADOG_MONITOR_TYPE, {
      Properties: {
        Type: 'query alert',
        Query: spec.query,
        Name: spec.name,
        Message: spec.message,
        Tags: spec.tags,
        Priority: 2,
        Options: { Thresholds: { Critical: 0 }, NotifyNoData: false, RequireFullWindow: false, EvaluationDelay: 900, IncludeTags: true },
      },
    });
    expect(Object.keys(matching)).toHaveLength(1);
  });

  it('refuses to synthesize definitions with a bad option, with the reason', () => {
    expect(
      () => new DatadogMonitoring(new Stack(new App(), 'Bad'), 'M', { target, options: { thresholds: { deadRatio: { critical: 2 } } } }),
    ).toThrow(ConfigurationError);
  });
});

function scopeWith(context: Record<string, unknown>): Stack {
  return new Stack(new App({ context }), 'S');
}

/** A queue record as the stack exposes it; the worker is a stand-in with only a name. */
function queueRecord(stack: Stack, named: boolean) {
  const queue = new sqs.Queue(stack, 'Q', named ? { queueName: 'Jobs-Default' } : {});
  const deadLetterQueue = new sqs.Queue(stack, 'D', { queueName: 'jobs-default-dlq' });
  const worker = Object.assign(new Construct(stack, 'W'), { functionName: 'jobs-default-worker' });
  return { queueName: 'default', jobTypes: ['send-email'], queue, deadLetterQueue, worker };
}

describe('addDatadogMonitoring', () => {
  it('adds nothing without the datadogMonitoring context', () => {
    const stack = scopeWith({});
    expect(addDatadogMonitoring(stack, { service: 's', env: 'e', queues: [queueRecord(stack, true)] })).toBeUndefined();
    expect(datadogResources(stack, DATADOG_MONITOR_TYPE)).toEqual([]);
  });

  it('refuses a context value that is not true or false', () => {
    const stack = scopeWith({ datadogMonitoring: 'yes' });
    expect(() => addDatadogMonitoring(stack, { service: 's', env: 'e', queues: [queueRecord(stack, true)] })).toThrow(
      'context datadogMonitoring must be true or false, got "yes"',
    );
  });

  it('uses the explicit names of the queues, lower-cased, as queuename tag values', () => {
    const stack = scopeWith({ datadogMonitoring: 'true' });
    const added = addDatadogMonitoring(stack, { service: 's', env: 'e', queues: [queueRecord(stack, true)] });
    expect(added?.definitions.target.queues[0]).toMatchObject({ sqsQueueName: 'jobs-default', sqsDeadLetterQueueName: 'jobs-default-dlq' });
  });

  it('warns when a queue name is generated by CloudFormation (Datadog lower-cases tags, CloudFormation names are mixed case)', () => {
    const stack = scopeWith({ datadogMonitoring: true });
    addDatadogMonitoring(stack, { service: 's', env: 'e', queues: [queueRecord(stack, false)] });
    expect(
      Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('SQS name of queue "default" is generated by CloudFormation')),
    ).toHaveLength(1);
  });

  it('takes notification handles and the runbook URL from context', () => {
    const stack = scopeWith({
      datadogMonitoring: 'true',
      datadogMonitoringNotify: '@slack-jobs, @pagerduty-jobs',
      datadogRunbookUrl: 'https://example.com/README.md',
    });
    const added = addDatadogMonitoring(stack, { service: 's', env: 'e', queues: [queueRecord(stack, true)] });
    expect(added?.definitions.options.notify).toEqual(['@slack-jobs', '@pagerduty-jobs']);
    expect(added?.definitions.monitors[0]?.definition.message).toContain('https://example.com/README.md#runbook-');
  });
});

describe('the serverless-jobs stack', () => {
  it('synthesizes without any Datadog resource by default', () => {
    const { stack } = realStack({});
    expect(datadogResources(stack, DATADOG_DASHBOARD_TYPE)).toEqual([]);
    expect(datadogResources(stack, DATADOG_MONITOR_TYPE)).toEqual([]);
  });

  it("contains the dashboard and every queue's monitors with --context datadogMonitoring=true", () => {
    const { stack } = realStack({ datadogMonitoring: 'true', datadogApiKeySecretArn: DD_SECRET, stage: 'prod' });
    expect(datadogResources(stack, DATADOG_DASHBOARD_TYPE)).toHaveLength(1);
    const queries = datadogResources(stack, DATADOG_MONITOR_TYPE).map((m) => m.Properties.Query);
    for (const queue of queueNames) {
      expect(queries).toContain(
        `max(last_5m):max:aws.sqs.approximate_number_of_messages_visible{queuename:serverless-jobs-prod-${queue}-dlq} > 0`,
      );
    }
    // Names are plain strings in the template: the monitors do not wait for the queues to exist.
    for (const query of queries) expect(typeof query).toBe('string');
  });

  it("alerts on the oldest message at the same threshold as each queue's CloudWatch alarm without Datadog monitoring", () => {
    const { stack } = realStack({ datadogMonitoring: 'true', datadogApiKeySecretArn: DD_SECRET });
    const template = Template.fromStack(realStack({ datadogApiKeySecretArn: DD_SECRET }).stack);
    const monitors = datadogResources(stack, DATADOG_MONITOR_TYPE);
    for (const queue of queueNames) {
      const [alarm] = Object.values(
        template.findResources('AWS::CloudWatch::Alarm', {
          Properties: {
            MetricName: 'ApproximateAgeOfOldestMessage',
            Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [jobQueueLogicalIds(queue).queue, 'QueueName'] } }],
          },
        }),
      ) as Resource[];
      const monitor = monitors.find((m) =>
        (m.Properties.Query as string).includes(`approximate_age_of_oldest_message{queuename:serverless-jobs-dev-${queue}}`),
      )!;
      expect((monitor.Properties.Options as { Thresholds: { Critical: number } }).Thresholds.Critical).toBe(alarm?.Properties.Threshold);
    }
  });

  it('filters on the DD_SERVICE and DD_ENV the workers really send', () => {
    const { stack } = realStack({ datadogMonitoring: 'true', datadogApiKeySecretArn: DD_SECRET, stage: 'staging' });
    const construct = stack.node.findChild('DatadogMonitoring') as DatadogMonitoring;
    expect(construct.definitions.target).toMatchObject({ service: 'serverless-jobs', env: 'staging' });
    expect(construct.definitions.target.queues.map((q) => q.functionName)).toEqual(
      queueNames.map((q) => `serverless-jobs-staging-${q}-worker`),
    );
  });

  it('warns that the jobs.* monitors will see no data when the Datadog extension is off', () => {
    const { stack } = realStack({ datadogMonitoring: 'true' });
    expect(
      Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('datadogMonitoring is on but the Datadog extension is off')),
    ).toHaveLength(1);
  });

  it("passes the app's synth-time validations (cdk-nag, CloudFormation validation) with monitoring on", () => {
    const { app } = buildApp({
      context: {
        'aws:cdk:bundling-stacks': [],
        emailFrom: 'jobs@example.org',
        datadogMonitoring: 'true',
        datadogApiKeySecretArn: DD_SECRET,
      },
    });
    expect(() => app.synth()).not.toThrow();
  });
});
