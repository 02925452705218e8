/**
 * When a schedule runs: the arithmetic is croner's (cron fields, time zones), the rules are EventBridge
 * Scheduler's:
 * - cron in a time zone: a wall-clock time that does not exist (the spring change) is skipped; a time that
 *   happens twice (the autumn change) runs once, at its first pass;
 * - rate: a fixed duration (a day is 24 hours, whatever the clocks do), counted from the schedule's start;
 * - at: once, at that wall-clock time in the schedule's time zone.
 * Compile once (module scope, per schedule), ask many times.
 */
import { Cron } from 'croner';
import {
  checkTimeZone,
  DEFAULT_TIME_ZONE,
  parseScheduleExpression,
  ScheduleExpressionError,
  type ScheduleExpression,
} from './expression.ts';

/** A compiled schedule: ask it for the runs after an instant. */
export interface CompiledSchedule {
  readonly expression: ScheduleExpression;
  readonly timeZone: string;
  /** The first run strictly after `after`, or undefined when there is none. */
  next(after: Date): Date | undefined;
  /** The next `count` runs strictly after `after`. */
  nextRuns(after: Date, count: number): Date[];
}

/** Options of {@link compileSchedule}. */
export interface CompileOptions {
  /** IANA time zone the expression is read in. Default UTC. */
  readonly timeZone?: string;
  /** Rate schedules: the first run (the schedule's StartDate, or when it was created). Default: the epoch. */
  readonly startDate?: Date;
}

/** Guards a cron that matches nothing in the Scheduler's years from looping for ever. */
const MAX_SKIPS = 1_000;
const THREE_HOURS_MS = 3 * 3_600_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock milliseconds (the local time read as if it were UTC) of an instant in a zone. */
function wallClockMs(instant: Date, timeZone: string): number {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(instant)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return Date.UTC(parts.year ?? 0, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
}

/** True when `instant` is the second pass through a wall-clock time the autumn change repeats. */
function isRepeatedPass(instant: Date, timeZone: string): boolean {
  const offsetNow = wallClockMs(instant, timeZone) - instant.getTime();
  const before = new Date(instant.getTime() - THREE_HOURS_MS);
  const offsetBefore = wallClockMs(before, timeZone) - before.getTime();
  const shift = offsetBefore - offsetNow;
  if (shift <= 0) return false;
  return wallClockMs(new Date(instant.getTime() - shift), timeZone) === wallClockMs(instant, timeZone);
}

/** The croner pattern (seconds first, Quartz day-of-week numbering) of EventBridge cron fields. */
function cronerPattern(expression: Extract<ScheduleExpression, { kind: 'cron' }>): string {
  const { minutes, hours, dayOfMonth, month, dayOfWeek, year } = expression.fields;
  const weekday = dayOfWeek.toUpperCase() === 'L' ? '7' : dayOfWeek;
  return ['0', minutes, hours, dayOfMonth, month, weekday, year].join(' ').toUpperCase();
}

function compileCron(expression: Extract<ScheduleExpression, { kind: 'cron' }>, timeZone: string): (after: Date) => Date | undefined {
  let cron: Cron;
  try {
    cron = new Cron(cronerPattern(expression), {
      timezone: timeZone,
      mode: '7-part',
      alternativeWeekdays: true,
      sloppyRanges: true,
      paused: true,
    });
  } catch (error) {
    throw new ScheduleExpressionError(expression.text, (error as Error).message.replace(/^CronPattern: /, ''));
  }
  return (after) => {
    let cursor = after;
    for (let skips = 0; skips < MAX_SKIPS; skips += 1) {
      const candidate = cron.nextRun(cursor);
      if (!candidate) return undefined;
      // croner moves a time the spring change skips to the first valid instant; the Scheduler skips it.
      if (cron.match(candidate) && !isRepeatedPass(candidate, timeZone)) return candidate;
      cursor = candidate;
    }
    return undefined;
  };
}

/** The instant of an `at(...)` expression's wall-clock time in `timeZone`. */
export function atInstant(expression: Extract<ScheduleExpression, { kind: 'at' }>, timeZone: string = DEFAULT_TIME_ZONE): Date {
  const once = new Cron(expression.localDateTime, { timezone: checkTimeZone(timeZone), paused: true }).getOnce();
  if (!once) throw new ScheduleExpressionError(expression.text, `${expression.localDateTime} does not exist in ${timeZone}`);
  return once;
}

/**
 * Compiles an expression (text or parsed) in a time zone. Throws {@link ScheduleExpressionError} or
 * `TimeZoneError` when either is invalid.
 */
export function compileSchedule(expression: string | ScheduleExpression, options: CompileOptions = {}): CompiledSchedule {
  const parsed = typeof expression === 'string' ? parseScheduleExpression(expression) : expression;
  const timeZone = checkTimeZone(options.timeZone ?? DEFAULT_TIME_ZONE);
  let next: (after: Date) => Date | undefined;
  if (parsed.kind === 'cron') {
    next = compileCron(parsed, timeZone);
  } else if (parsed.kind === 'rate') {
    const start = (options.startDate ?? new Date(0)).getTime();
    const period = parsed.periodMs;
    next = (after) => {
      if (after.getTime() < start) return new Date(start);
      return new Date(start + (Math.floor((after.getTime() - start) / period) + 1) * period);
    };
  } else {
    const instant = atInstant(parsed, timeZone);
    next = (after) => (instant.getTime() > after.getTime() ? instant : undefined);
  }
  return {
    expression: parsed,
    timeZone,
    next,
    nextRuns(after, count) {
      const runs: Date[] = [];
      let cursor: Date | undefined = after;
      while (runs.length < count && cursor) {
        cursor = next(cursor);
        if (cursor) runs.push(cursor);
      }
      return runs;
    },
  };
}
