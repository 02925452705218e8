/**
 * The stack of the fault-injection run: the real CDK app (infra/app.ts) synthesized in-process, as the local
 * environment does, but for the chaos job catalog and with short queue settings. The synth-time rules of
 * infra/queue-settings.ts (maxAttempts within maxReceiveCount, job timeout within the worker timeout, FIFO
 * without a batching window...) are checked against the chaos jobs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalEnvironment, type LocalEnvironment, type LocalEnvironmentOptions } from '../../functions/local/environment.ts';
import { LOCAL_STAGE } from '../../functions/local/local-synth.ts';
import { minimumVisibilityTimeoutSeconds, NOT_RUN_RECEIVE_HEADROOM, type QueueSettings } from '../../infra/queue-settings.ts';
import { CHAOS_ORDERED_QUEUE, CHAOS_RETRY, CHAOS_TASK_QUEUE, chaosJobs } from './chaos-jobs.ts';
import { JOURNAL_ENV } from './journal.ts';

/** Worker (Lambda) timeout of both chaos queues, in seconds. The derived visibility timeout is 6 x this. */
export const CHAOS_WORKER_TIMEOUT_SECONDS = 5;
/** The visibility timeout the stack derives for that worker timeout, in ms: a crashed batch comes back no sooner. */
export const CHAOS_VISIBILITY_TIMEOUT_MS = minimumVisibilityTimeoutSeconds(CHAOS_WORKER_TIMEOUT_SECONDS, 0) * 1000;
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

/** The chaos worker's handler module, loaded by every sandbox of a fault run. */
const CHAOS_WORKER = fileURLToPath(new URL('./chaos-worker.ts', import.meta.url));

/** Options of {@link startChaosEnvironment}: the local environment's, less what every fault run sets alike. */
export interface ChaosEnvironmentOptions
  extends Omit<LocalEnvironmentOptions, 'sqsPort' | 'dogstatsdPort' | 'localDir' | 'applyToProcessEnv' | 'source' | 'entryFor'> {
  /** The chaos stack's template ({@link synthesizeChaosTemplate}). */
  readonly template: unknown;
  /** Local state (outbox, DynamoDB stand-in's files). */
  readonly localDir: string;
  /** Where the chaos jobs journal their attempts and side effects. */
  readonly journalPath: string;
}

/**
 * Starts the embedded local environment of a fault run: free ports, nothing set on this process, the chaos worker in
 * every sandbox with its journal, a 1 s safety margin and WARN logs (the worker's one line per retried record);
 * `sandboxEnv` adds to those.
 */
export function startChaosEnvironment(options: ChaosEnvironmentOptions): Promise<LocalEnvironment> {
  const { template, localDir, journalPath, sandboxEnv, ...rest } = options;
  return startLocalEnvironment({
    sqsPort: 0,
    dogstatsdPort: 0,
    localDir,
    applyToProcessEnv: false,
    source: { template },
    entryFor: () => CHAOS_WORKER,
    sandboxEnv: { [JOURNAL_ENV]: journalPath, WORKER_SAFETY_MARGIN_MS: '1000', POWERTOOLS_LOG_LEVEL: 'WARN', ...sandboxEnv },
    ...rest,
  });
}
