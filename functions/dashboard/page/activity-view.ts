/** Recent activity (local): the latest invocations with their record counts and outcomes. */
import type { ActivityView } from '../model.ts';
import { clock, el, ms, replace, row, table } from './dom.ts';

/** Renders Recent activity into `root`. */
export function renderActivity(root: HTMLElement, activity: readonly ActivityView[]): void {
  const rows = activity.map((entry) =>
    row(
      [
        clock(entry.at),
        entry.functionName,
        entry.status,
        `${entry.records} record${entry.records === 1 ? '' : 's'}`,
        entry.failed > 0 ? `${entry.failed} to retry` : '',
        `${entry.deleted} deleted`,
        ms(entry.durationMs),
        entry.coldStart ? 'cold start' : '',
        entry.error ?? '',
      ],
      { class: `status-${entry.status}` },
    ),
  );
  replace(
    root,
    el('h2', {}, 'Recent activity'),
    rows.length === 0
      ? el('p', { class: 'hint' }, 'No invocation yet: enqueue a job (npm run jobs -- enqueue <type> <json>).')
      : table(['at (UTC)', 'function', 'status', 'records', 'retry', 'deleted', 'duration', 'cold', 'error'], rows),
  );
}
