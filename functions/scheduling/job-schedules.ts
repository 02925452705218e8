/**
 * Periodic schedules declared next to a job (`defineJob({ ..., schedules: [...] })`), checked once when the
 * job's module loads: the expression in EventBridge Scheduler's dialect, the time zone, the payload against
 * the job's schema, the name. A bad one refuses to load (and so to synthesize), naming the job and the schedule.
 * The expression is checked by the dialect's parser alone, not compiled: every worker loads the job catalog and never
 * asks for next runs, so croner (31 KB of the worker's start-up bundle) stays with what computes them.
 */
import type * as z from 'zod/mini';
import { safeParse } from 'zod/mini';
import { ConfigurationError } from '../runtime/errors.ts';
import { payloadIssues } from '../runtime/payload-issues.ts';
import { checkTimeZone, DEFAULT_TIME_ZONE, parseScheduleExpression, type ScheduleExpression } from './expression.ts';
import { periodicScheduleName } from './names.ts';

/** One periodic schedule, as a job definition declares it. */
export interface ScheduleOptions<Payload = unknown> {
  /** Unique within the job: lower-case kebab-case, at most 40 characters (`daily-digest`). */
  readonly name: string;
  /** `cron(0 8 ? * MON-FRI *)` or `rate(5 minutes)`, EventBridge Scheduler's syntax. */
  readonly expression: string;
  /** IANA time zone the cron expression is read in. Default UTC. */
  readonly timeZone?: string;
  /** The payload every occurrence carries, checked against the job's schema at load. */
  readonly payload: Payload;
  /** Only these stages get the schedule (a demo schedule for `local`, say). Default: every stage. */
  readonly stages?: readonly string[];
  /** What the schedule is for (the Scheduler's description). */
  readonly description?: string;
}

/** A checked periodic schedule of a job. */
export interface JobSchedule {
  /** The name in the job definition. */
  readonly name: string;
  /** The Scheduler's name for it (`p.<type>.<name>`). */
  readonly scheduleName: string;
  readonly expression: ScheduleExpression;
  readonly timeZone: string;
  /** The payload after the job's schema parsed it. */
  readonly payload: unknown;
  /** undefined = every stage. */
  readonly stages: readonly string[] | undefined;
  readonly description: string | undefined;
}

/** A schedule of a job that cannot load: bad expression, unknown time zone, invalid payload or name. */
export class ScheduleDefinitionError extends ConfigurationError {
  override readonly name: string = 'ScheduleDefinitionError';
  /** The job type. */
  readonly jobType: string;
  /** The schedule's name in the job definition. */
  readonly scheduleName: string;
  constructor(jobType: string, scheduleName: string, problem: string) {
    super(`job "${jobType}", schedule "${scheduleName}": ${problem}`);
    this.jobType = jobType;
    this.scheduleName = scheduleName;
  }
}

function checkOne(jobType: string, schema: z.ZodMiniType, options: ScheduleOptions): JobSchedule {
  const fail = (problem: string): never => {
    throw new ScheduleDefinitionError(jobType, String(options.name), problem);
  };
  let scheduleName = '';
  try {
    scheduleName = periodicScheduleName(jobType, options.name);
  } catch (error) {
    fail((error as Error).message);
  }
  const timeZone = options.timeZone ?? DEFAULT_TIME_ZONE;
  let expression: ScheduleExpression | undefined;
  try {
    expression = parseScheduleExpression(options.expression);
    checkTimeZone(timeZone);
  } catch (error) {
    fail((error as Error).message);
  }
  if (!expression || expression.kind === 'at')
    fail('a periodic schedule needs cron(...) or rate(...); use enqueue with runAt for one time');
  const parsed = safeParse(schema, options.payload);
  if (!parsed.success) {
    fail(
      `invalid payload: ${payloadIssues(parsed.error.issues)
        .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
        .join('; ')}`,
    );
  }
  for (const stage of options.stages ?? []) if (typeof stage !== 'string' || stage === '') fail('stages must be stage names');
  return {
    name: options.name,
    scheduleName,
    expression: expression as ScheduleExpression,
    timeZone,
    payload: parsed.data,
    stages: options.stages ? [...options.stages] : undefined,
    description: options.description,
  };
}

/** Checks a job's schedules; throws {@link ScheduleDefinitionError} for the first bad one. */
export function checkJobSchedules(
  jobType: string,
  schema: z.ZodMiniType,
  schedules: readonly ScheduleOptions[] = [],
): readonly JobSchedule[] {
  const seen = new Set<string>();
  return schedules.map((options) => {
    if (seen.has(options.name)) throw new ScheduleDefinitionError(jobType, options.name, 'two schedules have this name');
    seen.add(options.name);
    return checkOne(jobType, schema, options);
  });
}

/** The schedules of a job that a stage gets. */
export function schedulesForStage(schedules: readonly JobSchedule[], stage: string): readonly JobSchedule[] {
  return schedules.filter((schedule) => schedule.stages === undefined || schedule.stages.includes(stage));
}
