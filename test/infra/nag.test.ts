/**
 * Synth-time validation over the whole app: cdk-nag 3's AwsSolutions pack and aws-cdk-lib's CloudFormation
 * validation both run, and the app passes them with no unacknowledged finding, in its plain configuration and
 * with every option switched on.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.ts';
import { REPO_ROOT } from '../../infra/bundling.ts';
import { DATADOG_SECRET_ARN, FAST_CONTEXT, synth, validationViolations } from './synth.ts';

const WITH_NAG = { nag: true } as const;

function tempOutdir(): string {
  return mkdtempSync(path.join(tmpdir(), 'serverless-jobs-cdk-'));
}

/** Findings that would fail a deploy review: anything from a plugin other than our own stack annotations. */
function findings(outdir: string) {
  return validationViolations(outdir).filter((violation) => violation.plugin !== 'Construct Annotations');
}

describe('cdk-nag AwsSolutions and CloudFormation validation', () => {
  it('find nothing in the default app', () => {
    const { outdir } = synth({ context: WITH_NAG });
    expect(findings(outdir)).toEqual([]);
  });

  it('find nothing with Datadog, the Node library, KMS, FIFO, an alarm topic and prod retention', () => {
    const { outdir } = synth({
      context: {
        ...WITH_NAG,
        stage: 'prod',
        datadogApiKeySecretArn: DATADOG_SECRET_ARN,
        datadogNodeLibrary: true,
        alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:on-call',
      },
      queueSettings: { webhooks: { fifo: true, contentBasedDeduplication: true, encryption: 'kms' }, default: { encryption: 'kms' } },
    });
    expect(findings(outdir)).toEqual([]);
  });

  it('fail the synth when a resource breaks an AwsSolutions rule', () => {
    const { app, stack } = buildApp({ env: {}, context: { ...FAST_CONTEXT, ...WITH_NAG }, outdir: tempOutdir() });
    const plain = new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(plain.encryptionMasterKey).toBeUndefined();
    expect(() => app.synth()).toThrow(/The SQS Queue does not have server-side encryption enabled/);
  });

  it('fail the synth when a resource breaks the CloudFormation schema, even without cdk-nag', () => {
    const { app, stack } = buildApp({ env: {}, context: { ...FAST_CONTEXT, nag: false }, outdir: tempOutdir() });
    const broken = new iam.CfnRole(stack, 'BrokenRole', { assumeRolePolicyDocument: { Version: '2012-10-17' }, maxSessionDuration: 60 });
    expect(broken.maxSessionDuration).toBe(60);
    expect(() => app.synth()).toThrow(/MaxSessionDuration: 60 is less than the minimum of 3600/);
  });

  it('are switched on in cdk.json: CloudFormation validation findings are errors, the CLI makes no network calls', () => {
    const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
      app: string;
      notices: boolean;
      context: Record<string, unknown>;
    };
    expect(cdkJson.context['@aws-cdk/core:validateAgainstDefaultRules']).toBe(true);
    expect(cdkJson.notices).toBe(false);
    expect(cdkJson.context['cli-telemetry']).toBe(false);
    expect(cdkJson.app).toBe('npx tsx infra/main.ts');
  });
});
