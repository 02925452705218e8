/**
 * EventBridge Scheduler's expression dialect, checked by us before AWS sees it:
 * - `cron(minutes hours day-of-month month day-of-week year)`: six fields; exactly one of day-of-month and
 *   day-of-week is `?`; day-of-week 1-7 is SUN-SAT; `L`, `W` (day-of-month) and `L`, `#` (day-of-week);
 * - `rate(value unit)`: a positive whole number and `minute`/`hour`/`day` (singular for 1, plural otherwise);
 * - `at(yyyy-mm-ddThh:mm:ss)`: one time, wall clock of the schedule's time zone.
 * Time zones are IANA names the runtime knows. Run-time arithmetic is in `next-runs.ts`.
 */

/** An expression that EventBridge Scheduler would refuse (or that we refuse for the same reason). */
export class ScheduleExpressionError extends Error {
  override readonly name: string = 'ScheduleExpressionError';
  /** The expression as given. */
  readonly expression: string;
  constructor(expression: string, problem: string) {
    super(`schedule expression "${expression}": ${problem}`);
    this.expression = expression;
  }
}

/** A time zone that is not an IANA name the runtime knows. */
export class TimeZoneError extends Error {
  override readonly name: string = 'TimeZoneError';
  /** The time zone as given. */
  readonly timeZone: string;
  constructor(timeZone: string) {
    super(`unknown time zone "${timeZone}": use an IANA name such as UTC, Europe/Berlin or America/New_York`);
    this.timeZone = timeZone;
  }
}

/** The six fields of a cron expression, as written. */
export interface CronFields {
  readonly minutes: string;
  readonly hours: string;
  readonly dayOfMonth: string;
  readonly month: string;
  readonly dayOfWeek: string;
  readonly year: string;
}

/** A parsed schedule expression. */
export type ScheduleExpression =
  | { readonly kind: 'cron'; readonly text: string; readonly fields: CronFields }
  | { readonly kind: 'rate'; readonly text: string; readonly value: number; readonly unit: RateUnit; readonly periodMs: number }
  | { readonly kind: 'at'; readonly text: string; readonly localDateTime: string };

/** The units of a rate expression. */
export type RateUnit = 'minute' | 'hour' | 'day';

/** The default time zone of a schedule (EventBridge Scheduler's too). */
export const DEFAULT_TIME_ZONE = 'UTC';

const UNIT_MS: Readonly<Record<RateUnit, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Items allowed besides numbers, ranges and steps. */
  readonly special?: RegExp;
}

const RULES: Readonly<Record<keyof CronFields, FieldRule>> = {
  minutes: { name: 'minutes', min: 0, max: 59 },
  hours: { name: 'hours', min: 0, max: 23 },
  dayOfMonth: { name: 'day-of-month', min: 1, max: 31, special: /^(?:L|LW|(?:[1-9]|[12]\d|3[01])W)$/ },
  month: { name: 'month', min: 1, max: 12, names: MONTHS },
  dayOfWeek: { name: 'day-of-week', min: 1, max: 7, names: DAYS, special: /^(?:L|(?:[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(?:L|#[1-5]))$/ },
  year: { name: 'year', min: 1970, max: 2199 },
};

function value(rule: FieldRule, token: string, expression: string): number {
  const named = rule.names?.indexOf(token) ?? -1;
  if (named >= 0) return named + 1;
  if (!/^\d+$/.test(token)) throw new ScheduleExpressionError(expression, `${rule.name}: "${token}" is not a number or a name`);
  const number = Number(token);
  if (number < rule.min || number > rule.max) {
    throw new ScheduleExpressionError(expression, `${rule.name}: ${number} is outside ${rule.min}-${rule.max}`);
  }
  return number;
}

function checkItem(rule: FieldRule, item: string, expression: string): void {
  if (item === '*' || rule.special?.test(item)) return;
  const [range = '', step, extra] = item.split('/');
  if (extra !== undefined || range === '') throw new ScheduleExpressionError(expression, `${rule.name}: "${item}" is not valid`);
  if (step !== undefined && (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > rule.max)) {
    throw new ScheduleExpressionError(expression, `${rule.name}: step "${step}" must be a whole number from 1 to ${rule.max}`);
  }
  if (range === '*') return;
  const [from = '', to, more] = range.split('-');
  if (more !== undefined) throw new ScheduleExpressionError(expression, `${rule.name}: "${item}" is not valid`);
  const start = value(rule, from, expression);
  if (to !== undefined && value(rule, to, expression) < start) {
    throw new ScheduleExpressionError(expression, `${rule.name}: range "${range}" goes backwards`);
  }
}

function checkField(key: keyof CronFields, field: string, expression: string): void {
  const rule = RULES[key];
  if (field === '?') {
    if (key !== 'dayOfMonth' && key !== 'dayOfWeek') throw new ScheduleExpressionError(expression, `${rule.name} cannot be "?"`);
    return;
  }
  for (const item of field.toUpperCase().split(',')) checkItem(rule, item, expression);
}

function parseCron(text: string, body: string): ScheduleExpression {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) {
    throw new ScheduleExpressionError(
      text,
      `cron needs six fields (minutes hours day-of-month month day-of-week year), got ${parts.length}`,
    );
  }
  const [minutes = '', hours = '', dayOfMonth = '', month = '', dayOfWeek = '', year = ''] = parts;
  const fields: CronFields = { minutes, hours, dayOfMonth, month, dayOfWeek, year };
  for (const key of Object.keys(RULES) as (keyof CronFields)[]) checkField(key, fields[key], text);
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new ScheduleExpressionError(
      text,
      'exactly one of day-of-month and day-of-week must be "?" (e.g. cron(0 8 * * ? *) or cron(0 8 ? * MON-FRI *))',
    );
  }
  return { kind: 'cron', text, fields };
}

function parseRate(text: string, body: string): ScheduleExpression {
  const match = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body.trim());
  if (!match) throw new ScheduleExpressionError(text, 'rate needs "value unit", e.g. rate(5 minutes), rate(1 hour), rate(2 days)');
  const amount = Number(match[1]);
  const word = match[2] ?? '';
  const unit = (word.endsWith('s') ? word.slice(0, -1) : word) as RateUnit;
  if (!Number.isSafeInteger(amount) || amount < 1)
    throw new ScheduleExpressionError(text, 'the rate value must be a positive whole number');
  if ((amount === 1) !== !word.endsWith('s')) {
    throw new ScheduleExpressionError(text, `write "${amount} ${amount === 1 ? unit : `${unit}s`}" (singular for 1, plural otherwise)`);
  }
  return { kind: 'rate', text, value: amount, unit, periodMs: amount * UNIT_MS[unit] };
}

function parseAt(text: string, body: string): ScheduleExpression {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
  if (!match) throw new ScheduleExpressionError(text, 'at needs a local date and time yyyy-mm-ddThh:mm:ss, e.g. at(2027-01-31T08:00:00)');
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  const probe = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw new ScheduleExpressionError(text, `${body} is not a calendar date and time`);
  }
  return { kind: 'at', text, localDateTime: body };
}

/** Parses and checks an expression; throws {@link ScheduleExpressionError} with what is wrong. */
export function parseScheduleExpression(text: string): ScheduleExpression {
  const match = /^(cron|rate|at)\((.*)\)$/s.exec(typeof text === 'string' ? text.trim() : '');
  if (!match) throw new ScheduleExpressionError(String(text), 'must be cron(...), rate(...) or at(...)');
  const [, kind, body = ''] = match;
  if (kind === 'cron') return parseCron(text, body);
  if (kind === 'rate') return parseRate(text, body);
  return parseAt(text, body);
}

/** The canonical IANA names the runtime lists, read on first need. */
let listedTimeZones: ReadonlySet<string> | undefined;

/**
 * UTC and the listed names are known without an `Intl.DateTimeFormat`: creating one for a zone loads the time zone
 * data, at every cold start (job definitions check their schedules' zones when the worker loads; the README's
 * benchmark section has the cost). Aliases the list leaves out (`US/Eastern`) and other spellings are left to
 * `Intl.DateTimeFormat`, which decides as before.
 */
function isKnownTimeZone(timeZone: string): boolean {
  if (timeZone === DEFAULT_TIME_ZONE) return true;
  listedTimeZones ??= new Set(Intl.supportedValuesOf('timeZone'));
  if (listedTimeZones.has(timeZone)) return true;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone !== '';
  } catch {
    return false;
  }
}

/** Returns `timeZone` when the runtime knows it as an IANA zone; throws {@link TimeZoneError} otherwise. */
export function checkTimeZone(timeZone: string): string {
  if (!isKnownTimeZone(timeZone)) throw new TimeZoneError(timeZone);
  return timeZone;
}

/** The `at(...)` expression of an instant, in UTC (seconds kept; the Scheduler fires within that minute). */
export function atExpression(instant: Date): string {
  return `at(${instant.toISOString().slice(0, 19)})`;
}
