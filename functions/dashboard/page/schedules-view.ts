/** The Schedules view (shown only when the project has scheduling): periodic schedules and pending one-time jobs. */
import type { ScheduleView } from '../model.ts';
import { el, replace, row, table } from './dom.ts';

/** Renders the Schedules view into `root`. */
export function renderSchedules(root: HTMLElement, schedules: readonly ScheduleView[], _readOnly: boolean): void {
  const rows = schedules.map((schedule) =>
    row([schedule.name, schedule.kind, schedule.expression, schedule.job, schedule.nextRuns.join(', ')]),
  );
  replace(
    root,
    el('h2', {}, 'Schedules'),
    rows.length === 0
      ? el('p', { class: 'hint' }, 'No schedules.')
      : table(['name', 'kind', 'expression', 'state', 'next runs (UTC)'], rows),
  );
}
