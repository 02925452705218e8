/**
 * One alerting path, read on the synthesized template: with Datadog monitoring on, Datadog pages and no
 * CloudWatch alarm duplicates a monitor; without it, every alarm notifies an SNS topic (the stack's own, or
 * the one given). A template with an alarm that notifies nobody does not synthesize.
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { queueNames } from '../../functions/jobs/catalog.ts';
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import { ALARM_SYMPTOMS } from '../../infra/alarms.ts';
import { DATADOG_MONITOR_TYPE } from '../../infra/monitoring/cfn.ts';
import { buildApp } from '../../infra/app.ts';
import { DATADOG_SECRET_ARN, FAST_CONTEXT, synth } from './synth.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };

function resources(template: Template, type: string): Resource[] {
  return Object.values(template.findResources(type)) as Resource[];
}

/** The app built but not yet synthesized, so a test can add to it first. */
function unsynthesized() {
  return buildApp({ env: {}, context: FAST_CONTEXT });
}

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:on-call';

describe('with Datadog monitoring on', () => {
  const { template, stack } = synth({ context: { datadogMonitoring: 'true', datadogApiKeySecretArn: DATADOG_SECRET_ARN } });

  it('creates no CloudWatch alarm and no alarm topic', () => {
    expect(resources(template, 'AWS::CloudWatch::Alarm')).toEqual([]);
    expect(resources(template, 'AWS::SNS::Topic')).toEqual([]);
    expect(stack.alarmTopic).toBeUndefined();
  });

  it('has a Datadog monitor for every symptom the CloudWatch alarms would watch, on every queue', () => {
    const tags = resources(template, DATADOG_MONITOR_TYPE).map((m) => m.Properties.Tags as string[]);
    for (const queue of queueNames) {
      for (const symptom of ALARM_SYMPTOMS) {
        expect(tags.some((t) => t.includes(`queue:${queue}`) && t.includes(`monitor:${symptom}`))).toBe(true);
      }
    }
  });

  it('refuses an alarm topic or address, which nothing would notify', () => {
    expect(() => synth({ context: { datadogMonitoring: 'true', alarmEmail: 'oncall@example.org' } })).toThrow(
      /alarmTopicArn and alarmEmail are for the CloudWatch alarms, which Datadog monitoring replaces/,
    );
  });

  it('warns when the monitors mention no one', () => {
    const messages = stack.node.metadata.map((entry) => String(entry.data));
    expect(messages.join('\n')).toContain('the Datadog monitors mention no one');
  });
});

describe('without Datadog monitoring', () => {
  it('creates an encrypted, TLS-only alarm topic that every alarm notifies', () => {
    const { template } = synth();
    const [topic] = Object.entries(template.findResources('AWS::SNS::Topic'));
    expect(topic?.[1].Properties).toMatchObject({ TopicName: 'serverless-jobs-dev-alarms', KmsMasterKeyId: expect.anything() });
    const alarms = resources(template, 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(queueNames.length * ALARM_SYMPTOMS.length);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic?.[0] }]);
    const policy = resources(template, 'AWS::SNS::TopicPolicy')[0];
    expect(JSON.stringify(policy?.Properties)).toContain('"aws:SecureTransport":"false"');
  });

  it('lets CloudWatch use the topic key, so alarm notifications can be delivered', () => {
    const { template } = synth();
    const key = resources(template, 'AWS::KMS::Key').find((k) => JSON.stringify(k.Properties).includes('cloudwatch.amazonaws.com'));
    expect(key?.Properties.EnableKeyRotation).toBe(true);
    const policy = key?.Properties.KeyPolicy as { Statement: { Principal: unknown; Action: unknown }[] } | undefined;
    const statement = policy?.Statement.find((s) => JSON.stringify(s.Principal) === '{"Service":"cloudwatch.amazonaws.com"}');
    expect(statement?.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
  });

  it('subscribes the alarmEmail address to the topic', () => {
    const { template } = synth({ context: { alarmEmail: 'oncall@example.org' } });
    const subscriptions = resources(template, 'AWS::SNS::Subscription').map((r) => r.Properties);
    expect(subscriptions).toEqual([expect.objectContaining({ Protocol: 'email', Endpoint: 'oncall@example.org' })]);
  });

  it('refuses an alarmEmail that is not an address', () => {
    expect(() => synth({ context: { alarmEmail: 'oncall' } })).toThrow(ConfigurationError);
  });

  it('sends every alarm to the alarmTopicArn it is given, and creates no topic', () => {
    const { template } = synth({ context: { alarmTopicArn: TOPIC_ARN } });
    expect(resources(template, 'AWS::SNS::Topic')).toEqual([]);
    for (const alarm of resources(template, 'AWS::CloudWatch::Alarm')) expect(alarm.Properties.AlarmActions).toEqual([TOPIC_ARN]);
  });
});

describe('an alarm that notifies nobody', () => {
  it('fails the synth, naming the alarm and what to set', () => {
    const { stack } = unsynthesized();
    const queue = stack.jobQueues[0]!;
    const forgotten = new cloudwatch.Alarm(stack, 'Forgotten', {
      alarmName: 'forgotten-alarm',
      metric: queue.worker.metricDuration(),
      threshold: 1,
      evaluationPeriods: 1,
    });
    expect(forgotten.alarmArn).toBeDefined();
    expect(() => Template.fromStack(stack)).toThrow(
      /alarm ServerlessJobs-dev\/Forgotten\/Resource \(forgotten-alarm\) notifies nobody: .*--context alarmEmail=<address>/,
    );
  });

  it('fails the synth when its actions are disabled', () => {
    const { stack } = unsynthesized();
    const muted = new cloudwatch.CfnAlarm(stack, 'Muted', {
      alarmName: 'muted-alarm',
      actionsEnabled: false,
      alarmActions: [TOPIC_ARN],
      comparisonOperator: 'GreaterThanThreshold',
      evaluationPeriods: 1,
      threshold: 1,
      metricName: 'Errors',
      namespace: 'AWS/Lambda',
      period: 60,
      statistic: 'Sum',
    });
    expect(muted.actionsEnabled).toBe(false);
    expect(() => Template.fromStack(stack)).toThrow(/muted-alarm\) notifies nobody/);
  });
});

function retention(context: Record<string, unknown> = {}): unknown[] {
  return resources(synth({ context }).template, 'AWS::Logs::LogGroup').map((g) => g.Properties.RetentionInDays);
}

describe('log retention', () => {
  it('keeps worker logs a year on prod and 30 days on other stages', () => {
    expect(new Set(retention({ stage: 'prod' }))).toEqual(new Set([365]));
    expect(new Set(retention({ stage: 'staging' }))).toEqual(new Set([30]));
  });

  it('takes the stage setting from context logRetentionDays', () => {
    expect(new Set(retention({ logRetentionDays: '90' }))).toEqual(new Set([90]));
  });

  it('refuses a value CloudWatch Logs does not offer', () => {
    expect(() => retention({ logRetentionDays: '100' })).toThrow(/logRetentionDays must be a CloudWatch Logs retention value/);
    expect(() => retention({ logRetentionDays: 'a year' })).toThrow(/context "logRetentionDays" must be a whole number/);
  });
});

describe('the idempotency table', () => {
  it('has an explicit SSE specification (AWS managed key)', () => {
    const [table] = resources(synth().template, 'AWS::DynamoDB::Table');
    expect(table?.Properties.SSESpecification).toEqual({ SSEEnabled: true });
  });
});
