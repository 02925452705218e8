/**
 * Test helpers: build the app in-process (bundling skipped unless asked) and read what synthesis wrote.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, type BuildAppOptions, type BuiltApp } from '../../infra/app.ts';

/** A complete (made-up) Secrets Manager ARN for the Datadog API key. */
export const DATADOG_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:serverless-jobs/datadog-api-key-AbC123';

/** The context every test starts from: no bundling, no cdk-nag (the nag test turns it on). */
export const FAST_CONTEXT = { 'aws:cdk:bundling-stacks': [], nag: false, emailFrom: 'jobs@example.org' } as const;

/** A built app plus its synthesized template and assembly directory. */
export interface Synthesized extends BuiltApp {
  readonly template: Template;
  readonly outdir: string;
}

/** Builds and synthesizes the app into a fresh temporary directory; environment variables are not read. */
export function synth(options: BuildAppOptions = {}): Synthesized {
  const outdir = options.outdir ?? mkdtempSync(path.join(tmpdir(), 'serverless-jobs-cdk-'));
  const built = buildApp({ env: {}, ...options, outdir, context: { ...FAST_CONTEXT, ...options.context } });
  const template = Template.fromStack(built.stack);
  return { ...built, template, outdir };
}

/** One violation in CDK's validation report. */
export interface ReportedViolation {
  readonly plugin: string;
  readonly rule: string;
  readonly severity: string;
  readonly paths: readonly string[];
}

/** Every violation CDK's policy validation report lists (cdk-nag, CloudFormation Validate, annotations). */
export function validationViolations(outdir: string): ReportedViolation[] {
  const file = path.join(outdir, 'validation-report.json');
  if (!existsSync(file)) return [];
  const report = JSON.parse(readFileSync(file, 'utf8')) as {
    pluginReports: {
      pluginName: string;
      violations: {
        ruleName: string;
        severity?: string;
        violatingConstructs?: { constructPath: string }[];
        violatingResources?: { constructPath?: string; resourceLogicalId?: string }[];
      }[];
    }[];
  };
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.map((violation) => ({
      plugin: plugin.pluginName,
      rule: violation.ruleName,
      severity: violation.severity ?? 'unknown',
      paths: [
        ...(violation.violatingConstructs ?? []).map((c) => c.constructPath),
        ...(violation.violatingResources ?? []).map((r) => r.constructPath ?? r.resourceLogicalId ?? '?'),
      ],
    })),
  );
}
