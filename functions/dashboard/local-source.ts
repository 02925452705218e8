/**
 * The dashboard's data source for the local environment (`npm start`): queues and dead letters through the
 * CLI's functions on the environment's SQS endpoint (so the counts are those of `jobs queues`), workers'
 * invocation counts from their event sources (those of the live view) and their sandboxes from the sandbox
 * pools (per sandbox: invocations, heap; the process's open descriptors), charts
 * from the DogStatsD listener, the latest invocations, and the pending one-time jobs of the environment's
 * EventBridge Scheduler endpoint (one-time-schedules.ts, the same reader and Cancel as a stage's).
 */
import { LOCAL_STAGE } from '../client/queue-names.ts';
import { scheduleGroupName } from '../scheduling/names.ts';
import { resolveTarget } from '../cli/target.ts';
import type { LocalEnvironment } from '../local/environment.ts';
import type { InvocationReport } from '../local/event-source.ts';
import { DeadLetterStore } from './dead-letters.ts';
import { LocalHistory } from './local-history.ts';
import { SandboxHistory } from './sandbox-history.ts';
import type { LocalWorkerView, Snapshot } from './model.ts';
import { OneTimeSchedules, cancelAction } from './one-time-schedules.ts';
import { QueueLocations } from './queue-locations.ts';
import { periodicSchedules } from './schedules.ts';
import type { DashboardSource } from './source.ts';

/** The parts of the local environment the dashboard reads. */
export type LocalParts = Pick<LocalEnvironment, 'sqs' | 'client' | 'listener' | 'workers' | 'workerStats' | 'scheduler'>;

/** Options of {@link createLocalSource}. */
export interface LocalSourceOptions {
  /** Milliseconds between snapshots. Default 1,000. */
  readonly refreshMs?: number;
  /** Milliseconds between reads of the local Scheduler's one-time jobs. Default 2,000 (no AWS bill locally). */
  readonly oneTimeEveryMs?: number;
}

/** The local data source, plus the hook the environment's invocation reports go to. */
export interface LocalSource extends DashboardSource {
  /** Records an invocation for Recent activity (wire it to the environment's `onInvocation`). */
  invocation(report: InvocationReport): void;
}

/** Reads the running local environment. */
export function createLocalSource(env: LocalParts, options: LocalSourceOptions = {}): LocalSource {
  const target = resolveTarget({ stage: LOCAL_STAGE, endpoint: env.sqs.endpoint }, {}, env.client);
  const locations = new QueueLocations(target);
  const deadLetters = new DeadLetterStore(locations);
  const history = new LocalHistory(env.listener);
  const sandboxes = new SandboxHistory();
  const scheduler = env.scheduler.createClient();
  const oneTime = new OneTimeSchedules(scheduler, scheduleGroupName(LOCAL_STAGE), options.oneTimeEveryMs ?? 2000);

  /** Samples every pool (heap per sandbox, open descriptors) and builds the Workers view. */
  const workers = async (): Promise<LocalWorkerView[]> => {
    const stats = new Map(env.workerStats().map((entry) => [entry.functionName, entry]));
    const pools = await Promise.all(env.workers.map((worker) => worker.snapshot()));
    const at = Date.now();
    return env.workers.map((worker, index) => {
      const pool = pools[index];
      if (pool) sandboxes.record(pool, at);
      const stat = stats.get(worker.functionName);
      return {
        functionName: worker.functionName,
        queue: stat?.queue ?? worker.queue.name,
        sandboxes: pool?.sandboxes.length ?? worker.sandboxes(),
        concurrency: worker.concurrency,
        // The event source's counts, as npm start's live view shows: Lambda's, where an init error is an
        // invocation and a cold start (the pool counts only sandboxes that started).
        invocations: stat?.invocations ?? 0,
        coldStarts: stat?.coldStarts ?? 0,
        failed: stat?.failed ?? 0,
        lastError: stat?.lastError,
        sandboxSeries: sandboxes.views(worker.functionName),
      };
    });
  };

  return {
    kind: 'local',
    target: target.target,
    refreshMs: options.refreshMs ?? 1000,
    async snapshot(readOnly): Promise<Snapshot> {
      const rows = await locations.rows();
      const [lists, pending] = await Promise.all([deadLetters.listAll(rows), oneTime.read()]);
      const { duration, latency } = history.percentiles();
      return {
        at: Date.now(),
        source: 'local',
        stage: LOCAL_STAGE,
        target: target.target,
        readOnly,
        queues: {
          rows,
          outcomes: history.outcomeSeries(),
          outcomesLabel: 'jobs.processed per outcome, per 10 s (the metrics the workers sent to the local DogStatsD listener)',
          duration,
          latency,
          percentilesLabel: 'jobs.duration and jobs.queue_latency over the last 15 minutes',
        },
        deadLetters: lists,
        workers: { kind: 'local', workers: await workers() },
        activity: history.recent(),
        schedules: [...periodicSchedules(LOCAL_STAGE), ...pending.views],
        schedulesProblem: pending.problem,
      };
    },
    body: (queue, messageId) => deadLetters.body(queue, messageId),
    redrive: (queue, selection) => deadLetters.redrive(queue, selection),
    deleteMessages: (queue, messageIds) => deadLetters.deleteMessages(queue, messageIds),
    purge: (queue) => deadLetters.purge(queue),
    ...cancelAction(oneTime),
    invocation: (report) => history.invocation(report),
    async close() {
      history.close();
      scheduler.destroy();
    },
  };
}
