import { describe, expect, it } from 'vitest';
import { ScheduleExpressionError } from '../../functions/scheduling/expression.ts';
import { compileSchedule } from '../../functions/scheduling/next-runs.ts';

const iso = (dates: readonly Date[]): string[] => dates.map((date) => date.toISOString());

describe('next run times', () => {
  it('runs a weekday-morning cron on weekdays only (day-of-week 2-6 is MON-FRI)', () => {
    const schedule = compileSchedule('cron(0 8 ? * 2-6 *)');
    // 2026-12-04 is a Friday.
    expect(iso(schedule.nextRuns(new Date('2026-12-04T09:00:00Z'), 3))).toEqual([
      '2026-12-07T08:00:00.000Z',
      '2026-12-08T08:00:00.000Z',
      '2026-12-09T08:00:00.000Z',
    ]);
  });

  it('steps minutes from an offset the way EventBridge writes it (0/15)', () => {
    const schedule = compileSchedule('cron(0/15 10 * * ? *)');
    expect(iso(schedule.nextRuns(new Date('2026-12-07T10:20:00Z'), 3))).toEqual([
      '2026-12-07T10:30:00.000Z',
      '2026-12-07T10:45:00.000Z',
      '2026-12-08T10:00:00.000Z',
    ]);
  });

  it('finds the last day of the month and the third Friday', () => {
    expect(iso(compileSchedule('cron(0 12 L * ? *)').nextRuns(new Date('2027-01-31T13:00:00Z'), 2))).toEqual([
      '2027-02-28T12:00:00.000Z',
      '2027-03-31T12:00:00.000Z',
    ]);
    expect(iso(compileSchedule('cron(0 12 ? * 6#3 *)').nextRuns(new Date('2026-12-07T00:00:00Z'), 1))).toEqual([
      '2026-12-18T12:00:00.000Z',
    ]);
  });

  it('stops at the last year the expression allows', () => {
    expect(iso(compileSchedule('cron(0 0 1 1 ? 2027)').nextRuns(new Date('2026-06-01T00:00:00Z'), 3))).toEqual([
      '2027-01-01T00:00:00.000Z',
    ]);
  });

  it('reads a cron in its time zone', () => {
    const schedule = compileSchedule('cron(0 9 * * ? *)', { timeZone: 'America/New_York' });
    expect(schedule.next(new Date('2026-12-07T00:00:00Z'))?.toISOString()).toBe('2026-12-07T14:00:00.000Z');
    const tokyo = compileSchedule('cron(0 9 * * ? *)', { timeZone: 'Asia/Tokyo' });
    expect(tokyo.next(new Date('2026-12-07T00:00:00Z'))?.toISOString()).toBe('2026-12-08T00:00:00.000Z');
  });

  it('keeps a local-time cron at the same wall-clock hour across the spring change', () => {
    // Europe/Berlin moves from UTC+1 to UTC+2 on 2026-03-29.
    const schedule = compileSchedule('cron(0 8 * * ? *)', { timeZone: 'Europe/Berlin' });
    expect(iso(schedule.nextRuns(new Date('2026-03-27T12:00:00Z'), 3))).toEqual([
      '2026-03-28T07:00:00.000Z',
      '2026-03-29T06:00:00.000Z',
      '2026-03-30T06:00:00.000Z',
    ]);
  });

  it('skips a time that the spring change removes, as EventBridge Scheduler does', () => {
    // 02:30 does not exist in Berlin on 2026-03-29 (02:00 jumps to 03:00).
    const schedule = compileSchedule('cron(30 2 * * ? *)', { timeZone: 'Europe/Berlin' });
    expect(iso(schedule.nextRuns(new Date('2026-03-28T00:00:00Z'), 2))).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
  });

  it('runs a time that the autumn change repeats once, at its first pass', () => {
    // 02:00-02:59 happens twice in Berlin on 2026-10-25 (03:00 CEST goes back to 02:00 CET).
    const schedule = compileSchedule('cron(0/30 2 * * ? *)', { timeZone: 'Europe/Berlin' });
    expect(iso(schedule.nextRuns(new Date('2026-10-25T00:00:00Z'), 3))).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:00:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('counts a rate from the schedule start in fixed durations (a day is 24 hours across a clock change)', () => {
    const start = new Date('2026-03-28T08:00:00Z');
    const schedule = compileSchedule('rate(1 day)', { timeZone: 'Europe/Berlin', startDate: start });
    expect(iso(schedule.nextRuns(new Date('2026-03-28T07:00:00Z'), 3))).toEqual([
      '2026-03-28T08:00:00.000Z',
      '2026-03-29T08:00:00.000Z',
      '2026-03-30T08:00:00.000Z',
    ]);
    expect(compileSchedule('rate(5 minutes)', { startDate: start }).next(new Date('2026-03-28T08:07:00Z'))?.toISOString()).toBe(
      '2026-03-28T08:10:00.000Z',
    );
  });

  it('runs an at() once, at its wall-clock time in its zone', () => {
    const schedule = compileSchedule('at(2027-01-31T08:00:00)', { timeZone: 'Europe/Berlin' });
    expect(iso(schedule.nextRuns(new Date('2027-01-01T00:00:00Z'), 3))).toEqual(['2027-01-31T07:00:00.000Z']);
    expect(schedule.next(new Date('2027-02-01T00:00:00Z'))).toBeUndefined();
  });

  it('refuses an expression croner cannot run either', () => {
    expect(() => compileSchedule('cron(0 8 ? * 7#6 *)')).toThrow(ScheduleExpressionError);
  });
});
