/**
 * `jobs schedules`: the stage's periodic schedules with their next three run times in their time zone, and the
 * pending one-time jobs (job id, type, when). `jobs cancel <jobId>`: deletes a pending one-time job.
 * Both read the Scheduler of the target (the local endpoint by default, AWS with `--stage`).
 */
import { GetScheduleCommand, paginateListSchedules, type GetScheduleCommandOutput } from '@aws-sdk/client-scheduler';
import { cancelDelivery, createSchedulerSettingsResolver } from '../../client/delayed.ts';
import { compileSchedule } from '../../scheduling/next-runs.ts';
import { isOneTimeScheduleName, PERIODIC_PREFIX } from '../../scheduling/names.ts';
import { UsageError } from '../errors.ts';
import { println, type CliIo, type ParsedValues } from '../io.ts';
import { schedulerTarget } from '../scheduler-target.ts';
import type { Target } from '../target.ts';

/** One schedule as `jobs schedules` shows it. */
export interface ListedSchedule {
  readonly name: string;
  readonly kind: 'periodic' | 'one-time';
  readonly expression: string;
  readonly timeZone: string;
  readonly jobType: string | undefined;
  readonly jobId: string | undefined;
  /** Periodic: the next three runs; one-time: when it fires. ISO 8601 in UTC. */
  readonly nextRuns: readonly string[];
}

/** Wall-clock time of an instant in a zone, `2026-12-07 09:00 Europe/Berlin`. */
function inZone(instant: Date, timeZone: string): string {
  const text = new Intl.DateTimeFormat('sv-SE', { timeZone, dateStyle: 'short', timeStyle: 'short' }).format(instant);
  return `${text} ${timeZone}`;
}

function describe(schedule: GetScheduleCommandOutput, now: Date): ListedSchedule {
  const name = schedule.Name ?? '';
  const timeZone = schedule.ScheduleExpressionTimezone ?? 'UTC';
  const expression = schedule.ScheduleExpression ?? '';
  let body: { type?: unknown; jobId?: unknown } = {};
  try {
    body = JSON.parse(schedule.Target?.Input ?? '{}') as typeof body;
  } catch {
    // not a job message: shown without type and id
  }
  let nextRuns: string[] = [];
  try {
    const compiled = compileSchedule(expression, { timeZone, startDate: schedule.StartDate ?? schedule.CreationDate ?? now });
    nextRuns = compiled.nextRuns(expression.startsWith('at(') ? new Date(0) : now, 3).map((date) => date.toISOString());
  } catch {
    // an expression this project does not read: shown without run times
  }
  return {
    name,
    kind: isOneTimeScheduleName(name) ? 'one-time' : 'periodic',
    expression,
    timeZone,
    jobType: typeof body.type === 'string' ? body.type : undefined,
    jobId: typeof body.jobId === 'string' && !body.jobId.includes('<aws.scheduler.') ? body.jobId : undefined,
    nextRuns,
  };
}

/** Runs `schedules`. */
export async function schedulesCommand(target: Target, positionals: readonly string[], values: ParsedValues, io: CliIo): Promise<number> {
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const scheduler = schedulerTarget(target, io.env);
  try {
    const now = new Date();
    const listed: ListedSchedule[] = [];
    for await (const page of paginateListSchedules({ client: scheduler.client }, { GroupName: scheduler.groupName })) {
      for (const summary of page.Schedules ?? []) {
        const schedule = await scheduler.client.send(new GetScheduleCommand({ Name: summary.Name, GroupName: scheduler.groupName }));
        listed.push(describe(schedule, now));
      }
    }
    if (values.json === true) {
      println(io.stdout, JSON.stringify({ group: scheduler.groupName, schedules: listed }));
      return 0;
    }
    const periodic = listed.filter((entry) => entry.kind === 'periodic' && entry.name.startsWith(PERIODIC_PREFIX));
    const oneTime = listed.filter((entry) => entry.kind === 'one-time');
    println(io.stdout, `periodic schedules in ${scheduler.groupName}: ${periodic.length}`);
    for (const entry of periodic) {
      const runs = entry.nextRuns.map((run) => inZone(new Date(run), entry.timeZone)).join(', ');
      println(io.stdout, `  ${entry.name}  ${entry.expression}  next: ${runs || '-'}`);
    }
    println(io.stdout, `pending one-time jobs: ${oneTime.length}`);
    for (const entry of oneTime) {
      const when = entry.nextRuns[0] ?? entry.expression;
      println(io.stdout, `  ${entry.jobId ?? entry.name}  ${entry.jobType ?? '?'}  at ${when}`);
    }
    return 0;
  } finally {
    scheduler.client.destroy();
  }
}

/** Runs `cancel <jobId>`: exit 0 when a pending job was cancelled, 1 when there was none. */
export async function cancelCommand(target: Target, positionals: readonly string[], values: ParsedValues, io: CliIo): Promise<number> {
  const [jobId, ...extra] = positionals;
  if (!jobId) throw new UsageError('cancel needs a job id: jobs cancel <jobId>');
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const scheduler = schedulerTarget(target, io.env);
  try {
    const settings = createSchedulerSettingsResolver({ roleArn: 'unused-by-cancel', ...scheduler.settings }, io.env)();
    const cancelled = await cancelDelivery(scheduler.client, settings, jobId);
    if (values.json === true) println(io.stdout, JSON.stringify({ jobId, cancelled }));
    else
      println(
        io.stdout,
        cancelled
          ? `cancelled job ${jobId}`
          : `no pending delayed job ${jobId} in ${scheduler.groupName} (already sent, cancelled, or never delayed)`,
      );
    return cancelled ? 0 : 1;
  } finally {
    scheduler.client.destroy();
  }
}
