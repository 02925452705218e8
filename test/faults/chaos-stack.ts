/**
 * The stack of the fault-injection run: the real CDK app (infra/app.ts) synthesized in-process, as the local
 * environment does, but for the chaos job catalog and with short queue settings. The synth-time rules of
 * infra/queue-settings.ts (maxAttempts within maxReceiveCount, job timeout within the worker timeout, FIFO
 * without a batching window...) are checked against the chaos jobs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_STAGE } from '../../functions/local/local-synth.ts';
import { NOT_RUN_RECEIVE_HEADROOM, type QueueSettings } from '../../infra/queue-settings.ts';
import { CHAOS_ORDERED_QUEUE, CHAOS_RETRY, CHAOS_TASK_QUEUE, chaosJobs } from './chaos-jobs.ts';

/** Worker (Lambda) timeout of both chaos queues, in seconds. The derived visibility timeout is 6 x this. */
export const CHAOS_WORKER_TIMEOUT_SECONDS = 5;
/** Receives before SQS's own redrive would move a message, as the stack derives it: maxAttempts + the headroom. */
export const CHAOS_MAX_RECEIVE_COUNT = CHAOS_RETRY.maxAttempts + NOT_RUN_RECEIVE_HEADROOM;

/** The queue settings of the run: `default` standard, `webhooks` FIFO; short timeouts. */
export const CHAOS_QUEUE_SETTINGS: Readonly<Record<string, Partial<QueueSettings>>> = {
  [CHAOS_TASK_QUEUE]: { maxReceiveCount: CHAOS_MAX_RECEIVE_COUNT, timeoutSeconds: CHAOS_WORKER_TIMEOUT_SECONDS, workerConcurrency: 10 },
  [CHAOS_ORDERED_QUEUE]: { fifo: true, maxReceiveCount: CHAOS_MAX_RECEIVE_COUNT, timeoutSeconds: CHAOS_WORKER_TIMEOUT_SECONDS },
};

/** Synthesizes the chaos stack and returns its template (no bundling, no cdk-nag, a temporary assembly directory). */
export async function synthesizeChaosTemplate(
  queueSettings: Readonly<Record<string, Partial<QueueSettings>>> = CHAOS_QUEUE_SETTINGS,
): Promise<unknown> {
  const outdir = mkdtempSync(join(tmpdir(), 'fault-injection-cdk-'));
  const validation = process.env.CDK_VALIDATION;
  try {
    const [{ buildApp }, { Annotations }] = await Promise.all([import('../../infra/app.ts'), import('aws-cdk-lib')]);
    const { app, stack } = buildApp({
      context: { stage: LOCAL_STAGE, nag: false, 'aws:cdk:bundling-stacks': [] },
      outdir,
      jobs: chaosJobs(() => {
        throw new Error('the chaos jobs run only in the sandboxes');
      }),
      queueSettings,
    });
    for (const id of ['serverless-jobs:datadog-off', 'serverless-jobs:email-from-placeholder']) {
      Annotations.of(stack).acknowledgeWarning(id, 'not relevant to the fault-injection run');
    }
    // As the local environment does: skip CloudFormation schema validation (the infra tests run it).
    process.env.CDK_VALIDATION = 'false';
    return app.synth().getStackByName(stack.stackName).template;
  } finally {
    if (validation === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = validation;
    rmSync(outdir, { recursive: true, force: true });
  }
}
