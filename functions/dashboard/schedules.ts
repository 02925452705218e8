/**
 * The Schedules view's data: the periodic schedules the job catalog declares for a stage (the code is what
 * the stack deploys), with their next runs computed as EventBridge Scheduler would (scheduling/next-runs.ts).
 * No AWS call. One-time jobs (a delayed enqueue through the Scheduler) are not listed: the client has no
 * delay/cancel through the Scheduler yet.
 */
import { catalog } from '../jobs/catalog.ts';
import { schedulesForStage } from '../scheduling/job-schedules.ts';
import { compileSchedule } from '../scheduling/next-runs.ts';
import type { ScheduleView } from './model.ts';

/** How many next runs each schedule shows. */
const NEXT_RUNS = 3;

/** The stage's periodic schedules with their next runs after `now`. */
export function periodicSchedules(stage: string, now: Date = new Date()): ScheduleView[] {
  return Object.values(catalog).flatMap((job) =>
    schedulesForStage(job.schedules, stage).map((schedule): ScheduleView => {
      const compiled = compileSchedule(schedule.expression, { timeZone: schedule.timeZone });
      return {
        name: schedule.scheduleName,
        kind: 'periodic',
        expression: `${schedule.expression.text}${schedule.timeZone === 'UTC' ? '' : ` (${schedule.timeZone})`}`,
        nextRuns: compiled.nextRuns(now, NEXT_RUNS).map((run) => run.toISOString().replace('T', ' ').slice(0, 16)),
        job: `${job.type} on queue ${job.queue}`,
        cancellable: false,
      };
    }),
  );
}
