/**
 * The CloudFormation template the local environment runs: the CDK app (infra/app.ts) synthesized in-process
 * with stage `local`, no bundling and no cdk-nag, into a temporary directory removed afterwards. Datadog-off
 * and placeholder-sender warnings are acknowledged (the local listener and the outbox stand in); the template
 * is the one `cdk synth` writes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The stage the local environment synthesizes (queue names `serverless-jobs-local-<queue>`). */
export const LOCAL_STAGE = 'local';

/** Synth warnings that do not apply to a local run (Datadog off: the local listener stands in; the placeholder sender). */
const LOCAL_ACKNOWLEDGED_WARNINGS = ['serverless-jobs:datadog-off', 'serverless-jobs:email-from-placeholder'];

/** What to synthesize: extra CDK context and per-queue setting overrides (infra/queue-settings.ts). */
export interface SynthOptions {
  readonly context?: Readonly<Record<string, unknown>>;
  readonly queueSettings?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** Synthesizes the CDK app as the module comment says; returns the stack's template. */
export async function synthesizeLocalTemplate(source: SynthOptions = {}): Promise<unknown> {
  const [{ buildApp }, { Annotations }] = await Promise.all([import('../../infra/app.ts'), import('aws-cdk-lib')]);
  const outdir = mkdtempSync(join(tmpdir(), 'serverless-jobs-local-cdk-'));
  const validation = process.env.CDK_VALIDATION;
  try {
    const { app, stack } = buildApp({
      context: { stage: LOCAL_STAGE, nag: false, 'aws:cdk:bundling-stacks': [], ...source.context },
      outdir,
      ...(source.queueSettings ? { queueSettings: source.queueSettings } : {}),
    });
    // Locally the DogStatsD listener stands in for the extension, and emails go to the outbox.
    for (const id of LOCAL_ACKNOWLEDGED_WARNINGS) Annotations.of(stack).acknowledgeWarning(id, 'not relevant to the local environment');
    // The built-in CloudFormation schema validation (2-4 s of the local start) is skipped: it checks the template for
    // deployment, and `cdk synth` and the infra tests still run it. The template itself is the same.
    process.env.CDK_VALIDATION = 'false';
    return app.synth().getStackByName(stack.stackName).template;
  } finally {
    if (validation === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = validation;
    rmSync(outdir, { recursive: true, force: true });
  }
}
