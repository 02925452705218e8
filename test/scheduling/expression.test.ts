import { describe, expect, it } from 'vitest';
import {
  atExpression,
  checkTimeZone,
  parseScheduleExpression,
  ScheduleExpressionError,
  TimeZoneError,
} from '../../functions/scheduling/expression.ts';

describe('EventBridge Scheduler expressions', () => {
  it.each([
    'cron(0 8 * * ? *)',
    'cron(0 8 ? * MON-FRI *)',
    'cron(0/15 9-17 ? * 2-6 *)',
    'cron(30 2 L * ? 2027)',
    'cron(0 12 15W * ? *)',
    'cron(0 12 ? * 6#3 *)',
    'cron(0 12 ? * FRIL *)',
    'cron(0 0 1 JAN,JUL ? 2026-2030)',
    'rate(1 minute)',
    'rate(5 minutes)',
    'rate(1 hour)',
    'rate(2 days)',
    'at(2027-01-31T08:00:00)',
  ])('accepts %s', (text) => {
    expect(parseScheduleExpression(text).text).toBe(text);
  });

  it('reads the six cron fields by name', () => {
    const parsed = parseScheduleExpression('cron(0/15 9-17 ? * MON-FRI *)');
    expect(parsed).toMatchObject({
      kind: 'cron',
      fields: { minutes: '0/15', hours: '9-17', dayOfMonth: '?', month: '*', dayOfWeek: 'MON-FRI', year: '*' },
    });
  });

  it('turns a rate into its period', () => {
    expect(parseScheduleExpression('rate(5 minutes)')).toMatchObject({ kind: 'rate', value: 5, unit: 'minute', periodMs: 300_000 });
    expect(parseScheduleExpression('rate(2 days)')).toMatchObject({ unit: 'day', periodMs: 172_800_000 });
  });

  it.each([
    ['five-field Unix cron', 'cron(0 8 * * *)', /six fields/],
    ['both day fields set', 'cron(0 8 1 * MON *)', /exactly one of day-of-month and day-of-week/],
    ['neither day field set', 'cron(0 8 * * * *)', /exactly one of day-of-month and day-of-week/],
    ['both day fields "?"', 'cron(0 8 ? * ? *)', /exactly one/],
    ['a minute of 60', 'cron(60 8 * * ? *)', /minutes: 60 is outside 0-59/],
    ['a Unix Sunday 0', 'cron(0 8 ? * 0 *)', /day-of-week: 0 is outside 1-7/],
    ['a year before 1970', 'cron(0 8 * * ? 1969)', /year: 1969 is outside 1970-2199/],
    ['"?" in the hours', 'cron(0 ? * * ? *)', /hours cannot be "\?"/],
    ['a backwards range', 'cron(0 17-9 * * ? *)', /goes backwards/],
    ['a step of zero', 'cron(0/0 8 * * ? *)', /step/],
    ['an unknown month name', 'cron(0 8 1 FOO ? *)', /month: "FOO"/],
    ['"W" in the day of week', 'cron(0 8 ? * 2W *)', /day-of-week/],
    ['a rate of zero', 'rate(0 minutes)', /positive/],
    ['a plural rate of one', 'rate(1 minutes)', /singular for 1/],
    ['a singular rate of five', 'rate(5 minute)', /plural/],
    ['a rate in seconds', 'rate(30 seconds)', /rate needs/],
    ['an at without seconds', 'at(2027-01-31T08:00)', /yyyy-mm-ddThh:mm:ss/],
    ['an at on 31 February', 'at(2027-02-31T08:00:00)', /not a calendar date/],
    ['an at with a zone suffix', 'at(2027-01-31T08:00:00Z)', /yyyy-mm-ddThh:mm:ss/],
    ['a bare Unix cron', '0 8 * * *', /must be cron\(\.\.\.\), rate\(\.\.\.\) or at\(\.\.\.\)/],
  ])('refuses %s with what is wrong', (_, text, message) => {
    expect(() => parseScheduleExpression(text)).toThrow(ScheduleExpressionError);
    expect(() => parseScheduleExpression(text)).toThrow(message);
  });

  it('knows IANA time zones and refuses others', () => {
    expect(checkTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(checkTimeZone('UTC')).toBe('UTC');
    expect(() => checkTimeZone('Mars/Olympus_Mons')).toThrow(TimeZoneError);
  });

  it('knows the time zone aliases that the runtime does not list', () => {
    expect(checkTimeZone('Etc/UTC')).toBe('Etc/UTC');
    expect(checkTimeZone('US/Eastern')).toBe('US/Eastern');
  });

  it('writes an instant as an at() expression in UTC', () => {
    expect(atExpression(new Date('2027-01-31T08:00:05.250Z'))).toBe('at(2027-01-31T08:00:05)');
  });
});
