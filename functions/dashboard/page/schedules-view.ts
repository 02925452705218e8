/** The Schedules view: the catalog's periodic schedules with their next runs, and the pending one-time jobs (cancel). */
import type { ScheduleView } from '../model.ts';
import { postAction } from './api.ts';
import { el, replace, row, table } from './dom.ts';

const result = el('p', { class: 'result' });

async function cancel(name: string): Promise<void> {
  replace(result, `cancelling ${name}...`);
  const answer = await postAction('cancel', { schedule: name });
  result.className = answer.ok ? 'result ok' : 'result problem';
  replace(result, answer.message);
}

/** Renders the Schedules view into `root`. */
export function renderSchedules(
  root: HTMLElement,
  schedules: readonly ScheduleView[],
  readOnly: boolean,
  problem: string | undefined,
): void {
  const rows = schedules.map((schedule) =>
    row(
      [
        schedule.name,
        schedule.kind,
        schedule.expression,
        schedule.job,
        schedule.nextRuns.join(', '),
        schedule.cancellable
          ? el('button', { class: 'cancel', disabled: readOnly, onclick: () => void cancel(schedule.name) }, 'Cancel')
          : '',
      ],
      { class: `schedule ${schedule.kind}`, dataset: { schedule: schedule.name } },
    ),
  );
  replace(
    root,
    el('h2', {}, 'Schedules'),
    problem ? el('p', { class: 'problem' }, problem) : undefined,
    rows.length === 0
      ? el(
          'p',
          { class: 'hint' },
          'No periodic schedule (declare one with `schedules: [...]` in a job definition) and no pending one-time job.',
        )
      : table(['name', 'kind', 'expression', 'job / target', 'next runs (UTC)', ''], rows),
    result,
    el(
      'p',
      { class: 'hint' },
      "Periodic: as the job catalog declares them for this stage, next runs as EventBridge Scheduler computes them. One-time: delays beyond 15 minutes, read from the stage's Scheduler (locally, the Scheduler endpoint of `npm start`).",
    ),
  );
}
