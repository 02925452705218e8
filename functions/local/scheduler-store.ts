/**
 * The local EventBridge Scheduler's state and rules, without HTTP: schedule groups and schedules in memory,
 * the checks AWS makes for the cases that happen (a name that exists, one that does not, a malformed
 * expression, a time in the past), and which occurrences are due at a given time. Times come from an
 * injectable clock, so tests do not wait for minutes to pass.
 */
import * as z from 'zod/mini';
import { payloadIssues } from '../runtime/payload-issues.ts';
import { parseScheduleExpression, type ScheduleExpression } from '../scheduling/expression.ts';
import { compileSchedule, type CompiledSchedule } from '../scheduling/next-runs.ts';

/** An error in AWS's shape: the error type (`x-amzn-ErrorType`), its HTTP status and a message. */
export class SchedulerApiError extends Error {
  override readonly name: string = 'SchedulerApiError';
  readonly code: 'ConflictException' | 'ResourceNotFoundException' | 'ValidationException';
  readonly status: number;
  constructor(code: SchedulerApiError['code'], message: string) {
    super(message);
    this.code = code;
    this.status = code === 'ConflictException' ? 409 : code === 'ResourceNotFoundException' ? 404 : 400;
  }
}

/** Where the time comes from. */
export interface SchedulerClock {
  now(): Date;
}

/** The system clock. */
export const SYSTEM_CLOCK: SchedulerClock = { now: () => new Date() };

/** A field CreateSchedule requires: a string that is not empty. */
const requiredText = z.string().check(z.minLength(1));

/** CreateSchedule's request (the body, and the name from the path): the fields the store reads, typed as the Scheduler's API reference says. */
const createScheduleRequest = z.object({
  Name: z.string(),
  GroupName: z.optional(z.string()),
  ScheduleExpression: requiredText,
  ScheduleExpressionTimezone: z.optional(z.string()),
  Target: z.object({
    Arn: requiredText,
    RoleArn: requiredText,
    Input: z.optional(z.string()),
    SqsParameters: z.optional(z.object({ MessageGroupId: z.optional(z.string()) })),
    RetryPolicy: z.optional(z.object({ MaximumEventAgeInSeconds: z.optional(z.number()), MaximumRetryAttempts: z.optional(z.number()) })),
    DeadLetterConfig: z.optional(z.object({ Arn: z.optional(z.string()) })),
  }),
  FlexibleTimeWindow: z.object({ Mode: z.enum(['OFF', 'FLEXIBLE']), MaximumWindowInMinutes: z.optional(z.number()) }),
  ActionAfterCompletion: z.optional(z.string()),
  State: z.optional(z.string()),
  Description: z.optional(z.string()),
  StartDate: z.optional(z.number()), // epoch seconds
});

/** The target of a schedule, as CreateSchedule takes it (the fields the project uses). */
type ScheduleTarget = z.infer<typeof createScheduleRequest>['Target'];

/** One stored schedule. */
export interface StoredSchedule {
  readonly name: string;
  readonly groupName: string;
  readonly arn: string;
  readonly expression: ScheduleExpression;
  readonly timeZone: string;
  readonly target: ScheduleTarget;
  readonly state: 'ENABLED' | 'DISABLED';
  readonly actionAfterCompletion: 'NONE' | 'DELETE';
  readonly description: string | undefined;
  readonly createdAt: Date;
  readonly compiled: CompiledSchedule;
  /** The next occurrence not yet fired; undefined when there is none left. */
  nextRun: Date | undefined;
}

/** One occurrence due for delivery. */
export interface DueOccurrence {
  readonly schedule: StoredSchedule;
  /** The time it was scheduled for. */
  readonly scheduledTime: Date;
}

const NAME_PATTERN = /^[0-9A-Za-z_.-]{1,64}$/;
/** The group every account has. */
const DEFAULT_GROUP = 'default';
/** Occurrences older than this are dropped, not delivered (the Scheduler's longest MaximumEventAge). */
const MAX_EVENT_AGE_MS = 86_400_000;

function checkName(kind: string, name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new SchedulerApiError(
      'ValidationException',
      `${kind} name must be 1-64 characters of [0-9a-zA-Z-_.], got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/** Schedules and groups of one local account. */
export class SchedulerStore {
  private readonly groups = new Map<string, Date>();
  private readonly schedules = new Map<string, StoredSchedule>();
  private readonly arnPrefix: string;

  constructor(
    private readonly clock: SchedulerClock,
    region: string,
    accountId: string,
  ) {
    this.arnPrefix = `arn:aws:scheduler:${region}:${accountId}`;
    this.groups.set(DEFAULT_GROUP, clock.now());
  }

  groupArn(name: string): string {
    return `${this.arnPrefix}:schedule-group/${name}`;
  }

  /** CreateScheduleGroup. */
  createGroup(name: string): string {
    checkName('Schedule group', name);
    if (this.groups.has(name)) throw new SchedulerApiError('ConflictException', `Schedule group ${name} already exists.`);
    this.groups.set(name, this.clock.now());
    return this.groupArn(name);
  }

  /** GetScheduleGroup: its creation time. */
  getGroup(name: string): Date {
    const created = this.groups.get(name);
    if (!created) throw new SchedulerApiError('ResourceNotFoundException', `Schedule group ${name} does not exist.`);
    return created;
  }

  /** CreateSchedule: checks `given` (a request body with the path's Name, or a template's schedule); the new schedule's ARN. */
  create(given: unknown): string {
    const parsed = z.safeParse(createScheduleRequest, given);
    if (!parsed.success) {
      const problems = payloadIssues(parsed.error.issues).map((issue) => `${issue.path || 'body'}: ${issue.message}`);
      throw new SchedulerApiError('ValidationException', `invalid CreateSchedule request: ${problems.join('; ')}`);
    }
    const request = parsed.data;
    const name = checkName('Schedule', request.Name);
    const groupName = request.GroupName ?? DEFAULT_GROUP;
    this.getGroup(groupName);
    const key = `${groupName}/${name}`;
    if (this.schedules.has(key)) throw new SchedulerApiError('ConflictException', `Schedule ${name} already exists.`);
    const now = this.clock.now();
    let compiled: CompiledSchedule;
    try {
      const expression = parseScheduleExpression(request.ScheduleExpression);
      const startDate = request.StartDate === undefined ? now : new Date(request.StartDate * 1000);
      compiled = compileSchedule(expression, { timeZone: request.ScheduleExpressionTimezone ?? 'UTC', startDate });
    } catch (error) {
      throw new SchedulerApiError(
        'ValidationException',
        `Invalid Schedule Expression ${request.ScheduleExpression}. ${(error as Error).message}`,
      );
    }
    if (compiled.expression.kind === 'at' && compiled.next(new Date(now.getTime() - 60_000)) === undefined) {
      throw new SchedulerApiError(
        'ValidationException',
        `The schedule expression ${request.ScheduleExpression} is in the past (now ${now.toISOString()} in ${compiled.timeZone}).`,
      );
    }
    // rate: first run now; at: within the minute it names; cron: the next matching minute.
    const kind = compiled.expression.kind;
    const after = new Date(now.getTime() - (kind === 'rate' ? 1 : kind === 'at' ? 60_000 : 0));
    const stored: StoredSchedule = {
      name,
      groupName,
      arn: `${this.arnPrefix}:schedule/${groupName}/${name}`,
      expression: compiled.expression,
      timeZone: compiled.timeZone,
      target: request.Target,
      state: request.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
      actionAfterCompletion: request.ActionAfterCompletion === 'DELETE' ? 'DELETE' : 'NONE',
      description: request.Description,
      createdAt: now,
      compiled,
      nextRun: compiled.next(after),
    };
    this.schedules.set(key, stored);
    return stored.arn;
  }

  /** GetSchedule. */
  get(name: string, groupName = DEFAULT_GROUP): StoredSchedule {
    const found = this.schedules.get(`${groupName}/${name}`);
    if (!found) throw new SchedulerApiError('ResourceNotFoundException', `Schedule ${name} does not exist.`);
    return found;
  }

  /** DeleteSchedule. */
  delete(name: string, groupName = DEFAULT_GROUP): void {
    this.get(name, groupName);
    this.schedules.delete(`${groupName}/${name}`);
  }

  /** ListSchedules, in name order. */
  list(filter: { groupName?: string | undefined; namePrefix?: string | undefined; state?: string | undefined }): StoredSchedule[] {
    return [...this.schedules.values()]
      .filter((schedule) => filter.groupName === undefined || schedule.groupName === filter.groupName)
      .filter((schedule) => filter.namePrefix === undefined || schedule.name.startsWith(filter.namePrefix))
      .filter((schedule) => filter.state === undefined || schedule.state === filter.state)
      .toSorted((a, b) => (a.groupName === b.groupName ? a.name.localeCompare(b.name) : a.groupName.localeCompare(b.groupName)));
  }

  /**
   * Takes the occurrences due at the clock's time (oldest first), moving each schedule past them; a one-time
   * schedule with ActionAfterCompletion DELETE is removed once fired. Occurrences older than a day are dropped.
   */
  takeDue(): DueOccurrence[] {
    const now = this.clock.now();
    const due: DueOccurrence[] = [];
    for (const [key, schedule] of this.schedules) {
      if (schedule.state !== 'ENABLED') continue;
      while (schedule.nextRun !== undefined && schedule.nextRun.getTime() <= now.getTime()) {
        if (now.getTime() - schedule.nextRun.getTime() <= MAX_EVENT_AGE_MS) due.push({ schedule, scheduledTime: schedule.nextRun });
        schedule.nextRun = schedule.compiled.next(schedule.nextRun);
      }
      if (schedule.nextRun === undefined && schedule.actionAfterCompletion === 'DELETE') this.schedules.delete(key);
    }
    return due.toSorted((a, b) => a.scheduledTime.getTime() - b.scheduledTime.getTime());
  }
}
