/**
 * The CDK app entry `cdk synth` / `cdk deploy` run (cdk.json: `npx tsx infra/main.ts`).
 * A configuration error is printed as one clear message, without a stack trace, and fails the synth.
 */
import { ConfigurationError } from '../functions/runtime/errors.ts';
import { buildApp } from './app.ts';

try {
  const { app } = buildApp();
  app.synth();
} catch (error) {
  if (error instanceof ConfigurationError) {
    process.stderr.write(`serverless-jobs: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
