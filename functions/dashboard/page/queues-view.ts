/** The Queues view: per queue visible / in flight / delayed / DLQ, jobs per outcome over 15 minutes, p50/p95. */
import type { QueuesView } from '../model.ts';
import { chart } from './charts.ts';
import { el, ms, replace, row, table } from './dom.ts';

const dash = (value: number | undefined): string | number => value ?? '-';

/** Renders the Queues view into `root`. */
export function renderQueues(root: HTMLElement, view: QueuesView): void {
  const rows = view.rows.map((queue) =>
    row(
      [
        queue.queue,
        queue.name ?? 'missing',
        dash(queue.depth?.visible),
        dash(queue.depth?.inFlight),
        dash(queue.depth?.delayed),
        dash(queue.deadLetter?.visible),
        dash(queue.deadLetter?.inFlight),
        queue.problem ?? '',
      ],
      { dataset: { queue: queue.queue } },
    ),
  );
  replace(
    root,
    el('h2', {}, 'Queues'),
    table(['queue', 'name', 'visible', 'in flight', 'delayed', 'DLQ', 'DLQ in flight', 'problem'], rows),
    el(
      'div',
      { class: 'figures' },
      el('span', {}, `duration p50 ${ms(view.duration.p50)}  p95 ${ms(view.duration.p95)}`),
      el('span', {}, `queue latency p50 ${ms(view.latency.p50)}  p95 ${ms(view.latency.p95)}`),
      el('span', { class: 'hint' }, view.percentilesLabel),
    ),
    chart('outcomes', view.outcomes, { title: 'Jobs per outcome, last 15 minutes', width: 760 }),
    el('p', { class: 'hint' }, view.outcomesLabel),
  );
}
