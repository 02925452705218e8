/**
 * Pending one-time jobs of a stage: the `at(...)` schedules the client creates for delays beyond SQS's 15
 * minutes (functions/client/delayed.ts), read from EventBridge Scheduler (ListSchedules in the stage's group
 * per one-time prefix, then GetSchedule for each, at most {@link MAX_LISTED}), and cancelled by deleting the
 * schedule. Read at most once a minute by default. The same class serves a deployed stage and the local
 * environment (`npm start`'s Scheduler endpoint): only the client and the group differ.
 */
import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { ONE_TIME_PREFIXES, isOneTimeScheduleName } from '../scheduling/names.ts';
import type { ActionResult, ScheduleView } from './model.ts';
import type { DashboardSource } from './source.ts';

/** Pending one-time schedules shown. */
export const MAX_LISTED = 20;

/** A name that is not a one-time schedule of the client. */
export class NotOneTimeScheduleError extends Error {
  override readonly name: string = 'NotOneTimeScheduleError';
}

/** The pending one-time jobs, or why the Scheduler could not be read (the Schedules view's problem line). */
export interface OneTimeRead {
  readonly views: readonly ScheduleView[];
  readonly problem: string | undefined;
}

/** What a source without a Scheduler to read shows: no one-time job, no problem. */
export const NO_ONE_TIME: OneTimeRead = { views: [], problem: undefined };

/** The source's cancel action for `oneTime`, or none (the page's Cancel is then refused) when there is no Scheduler. */
export function cancelAction(oneTime: OneTimeSchedules | undefined): Pick<DashboardSource, 'cancelSchedule'> {
  return oneTime ? { cancelSchedule: (name) => oneTime.cancel(name) } : {};
}

/** Reads and cancels the stage's pending one-time jobs. */
export class OneTimeSchedules {
  private readonly client: SchedulerClient;
  private readonly groupName: string;
  private cached: { at: number; views: ScheduleView[] } | undefined;
  private readonly everyMs: number;

  constructor(client: SchedulerClient, groupName: string, everyMs = 60_000) {
    this.client = client;
    this.groupName = groupName;
    this.everyMs = everyMs;
  }

  /**
   * The pending one-time jobs, or, when the Scheduler does not answer, none and a problem line saying what
   * failed and what to do (a failure is not cached: the next snapshot asks again).
   */
  async read(): Promise<OneTimeRead> {
    try {
      return { views: await this.list(), problem: undefined };
    } catch (error) {
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return {
        views: [],
        problem: `EventBridge Scheduler did not answer (${text}); pending one-time jobs are not shown. Check that the Scheduler endpoint is reachable and the credentials allow scheduler:ListSchedules and scheduler:GetSchedule in group ${this.groupName}`,
      };
    }
  }

  /** The pending one-time jobs, soonest first (cached for `everyMs`). Rejects when the Scheduler fails. */
  async list(): Promise<ScheduleView[]> {
    if (this.cached && Date.now() - this.cached.at < this.everyMs) return this.cached.views;
    const names: string[] = [];
    for (const prefix of ONE_TIME_PREFIXES) {
      let nextToken: string | undefined;
      do {
        const page = await this.client.send(
          new ListSchedulesCommand({ GroupName: this.groupName, NamePrefix: prefix, NextToken: nextToken }),
        );
        for (const schedule of page.Schedules ?? []) if (schedule.Name && names.length < MAX_LISTED) names.push(schedule.Name);
        nextToken = names.length < MAX_LISTED ? page.NextToken : undefined;
      } while (nextToken);
    }
    const views = await Promise.all(
      names.map(async (name): Promise<ScheduleView | undefined> => {
        try {
          const schedule = await this.client.send(new GetScheduleCommand({ Name: name, GroupName: this.groupName }));
          const at = /^at\((.+)\)$/.exec(schedule.ScheduleExpression ?? '')?.[1];
          return {
            name,
            kind: 'one-time',
            expression: `${schedule.ScheduleExpression ?? ''}${schedule.ScheduleExpressionTimezone ? ` (${schedule.ScheduleExpressionTimezone})` : ''}`,
            nextRuns: at ? [at.replace('T', ' ').slice(0, 16)] : [],
            job: schedule.Target?.Arn?.split(':').at(-1) ?? '',
            cancellable: true,
          };
        } catch (error) {
          if (error instanceof ResourceNotFoundException) return undefined; // delivered or cancelled meanwhile
          throw error;
        }
      }),
    );
    const pending = views
      .filter((view): view is ScheduleView => view !== undefined)
      .toSorted((a, b) => (a.nextRuns[0] ?? '').localeCompare(b.nextRuns[0] ?? ''));
    this.cached = { at: Date.now(), views: pending };
    return pending;
  }

  /** Cancels one pending one-time job by deleting its schedule. */
  async cancel(name: string): Promise<ActionResult> {
    if (!isOneTimeScheduleName(name))
      throw new NotOneTimeScheduleError(`"${name}" is not a one-time job's schedule (${ONE_TIME_PREFIXES.join(' or ')}...)`);
    this.cached = undefined;
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.groupName }));
      return { ok: true, message: `cancelled ${name}: the job will not be sent` };
    } catch (error) {
      if (error instanceof ResourceNotFoundException)
        return { ok: false, message: `${name} is no longer pending (sent or cancelled already)` };
      throw error;
    }
  }
}
