import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { ScheduleDefinitionError } from '../../functions/scheduling/job-schedules.ts';
import { oneTimeScheduleName, periodicScheduleName, scheduleGroupName } from '../../functions/scheduling/names.ts';
import { defineJob } from '../../functions/runtime/job.ts';

const schema = z.object({ report: z.string() });
const handler = async (): Promise<void> => undefined;

describe('schedules declared on a job', () => {
  it('are checked at definition and keep their Scheduler name, zone and parsed payload', () => {
    const job = defineJob({
      type: 'build-report',
      schema,
      handler,
      schedules: [{ name: 'daily', expression: 'cron(0 8 * * ? *)', timeZone: 'Europe/Berlin', payload: { report: 'sales' } }],
    });
    expect(job.schedules).toMatchObject([
      { name: 'daily', scheduleName: 'p.build-report.daily', timeZone: 'Europe/Berlin', payload: { report: 'sales' }, stages: undefined },
    ]);
  });

  it('default to UTC and to none', () => {
    expect(defineJob({ type: 'build-report', schema, handler }).schedules).toEqual([]);
    const job = defineJob({
      type: 'build-report',
      schema,
      handler,
      schedules: [{ name: 'often', expression: 'rate(5 minutes)', payload: { report: 'x' } }],
    });
    expect(job.schedules[0]?.timeZone).toBe('UTC');
  });

  it.each([
    [
      'a bad expression',
      { expression: 'cron(0 8 * * *)' },
      /schedule "nightly": schedule expression "cron\(0 8 \* \* \*\)": cron needs six fields/,
    ],
    ['an unknown time zone', { timeZone: 'Europe/Atlantis' }, /schedule "nightly": unknown time zone "Europe\/Atlantis"/],
    ['an invalid payload', { payload: { report: 42 } }, /schedule "nightly": invalid payload: report: expected string/],
    ['a one-time expression', { expression: 'at(2027-01-01T00:00:00)' }, /needs cron\(\.\.\.\) or rate\(\.\.\.\)/],
    ['a name that is not kebab-case', { name: 'Nightly' }, /schedule "Nightly".*kebab-case/],
  ])('refuse to load with %s, naming the job and the schedule', (_, override, message) => {
    const schedule = { name: 'nightly', expression: 'cron(0 2 * * ? *)', payload: { report: 'x' }, ...override };
    const define = (): unknown => defineJob({ type: 'build-report', schema, handler, schedules: [schedule as never] });
    expect(define).toThrow(ScheduleDefinitionError);
    expect(define).toThrow(/^job "build-report", /);
    expect(define).toThrow(message);
  });

  it('refuse two schedules of the same name', () => {
    const schedule = { name: 'nightly', expression: 'cron(0 2 * * ? *)', payload: { report: 'x' } };
    expect(() => defineJob({ type: 'build-report', schema, handler, schedules: [schedule, schedule] })).toThrow(
      /two schedules have this name/,
    );
  });
});

describe('scheduler names', () => {
  it('give each stage its group', () => {
    expect(scheduleGroupName('prod')).toBe('serverless-jobs-prod');
  });

  it('refuse a periodic schedule name longer than the Scheduler allows', () => {
    expect(() => periodicScheduleName('a'.repeat(40), 'b'.repeat(30))).toThrow(/64 characters/);
  });

  it('name a one-time schedule from its job id, hashing ids the Scheduler cannot take', () => {
    expect(oneTimeScheduleName('order-42')).toBe('j.order-42');
    const hashed = oneTimeScheduleName('order 42/ä');
    expect(hashed).toMatch(/^h\.[0-9a-f]{48}$/);
    expect(oneTimeScheduleName('order 42/ä')).toBe(hashed);
    expect(oneTimeScheduleName('x'.repeat(100))).toMatch(/^h\./);
  });
});
