/**
 * The dashboard page: a header saying where the data comes from and whether it answers, tabs for the views,
 * and a Server-Sent Events stream (`/api/events`) whose snapshots redraw the views.
 */
import type { Snapshot, SourceStatus } from '../model.ts';
import { renderActivity } from './activity-view.ts';
import { renderDeadLetters } from './dead-letters-view.ts';
import { clock, el, replace } from './dom.ts';
import { renderQueues } from './queues-view.ts';
import { renderSchedules } from './schedules-view.ts';
import { renderWorkers } from './workers-view.ts';

const VIEWS = [
  { id: 'queues', label: 'Queues' },
  { id: 'dead-letters', label: 'Dead letters' },
  { id: 'schedules', label: 'Schedules' },
  { id: 'workers', label: 'Workers' },
  { id: 'activity', label: 'Recent activity' },
] as const;
type ViewId = (typeof VIEWS)[number]['id'];

const app = document.getElementById('app') ?? document.body;
const where = el('p', { class: 'where' }, 'connecting...');
const status = el('p', { class: 'status', id: 'source-status' });
const panels = new Map<ViewId, HTMLElement>(VIEWS.map((view) => [view.id, el('section', { class: 'view', id: `view-${view.id}` })]));
const tabs = new Map<ViewId, HTMLAnchorElement>(VIEWS.map((view) => [view.id, el('a', { href: `#${view.id}`, class: 'tab' }, view.label)]));

function panel(id: ViewId): HTMLElement {
  const found = panels.get(id);
  if (!found) throw new Error(`no view ${id}`);
  return found;
}

function show(): void {
  const wanted = location.hash.slice(1);
  const id = VIEWS.find((view) => view.id === wanted && !tabs.get(view.id)?.hidden)?.id ?? 'queues';
  for (const view of VIEWS) {
    panel(view.id).hidden = view.id !== id;
    tabs.get(view.id)?.classList.toggle('active', view.id === id);
  }
}

function render(snapshot: Snapshot): void {
  replace(
    where,
    `${snapshot.target}${snapshot.readOnly ? ' (read-only: start with --allow-actions to act on dead letters)' : ''} - updated ${clock(snapshot.at)} UTC`,
  );
  renderQueues(panel('queues'), snapshot.queues);
  renderDeadLetters(panel('dead-letters'), snapshot.deadLetters, snapshot.readOnly);
  renderWorkers(panel('workers'), snapshot.workers);
  const schedulesTab = tabs.get('schedules');
  if (schedulesTab) schedulesTab.hidden = snapshot.schedules === undefined;
  if (snapshot.schedules !== undefined)
    renderSchedules(panel('schedules'), snapshot.schedules, snapshot.readOnly, snapshot.schedulesProblem);
  const activityTab = tabs.get('activity');
  if (activityTab) activityTab.hidden = snapshot.activity === undefined;
  if (snapshot.activity !== undefined) renderActivity(panel('activity'), snapshot.activity);
  document.body.dataset.updated = String(snapshot.at);
  show();
}

function renderStatus(value: SourceStatus): void {
  status.hidden = value.ok;
  status.className = value.ok ? 'status' : 'status problem';
  replace(
    status,
    value.ok
      ? ''
      : `${value.problem ?? 'the data source does not answer'}${value.lastGoodAt ? ` Last update ${clock(value.lastGoodAt)} UTC.` : ''}`,
  );
}

function connect(): void {
  const events = new EventSource('/api/events');
  events.addEventListener('snapshot', (event) => render(JSON.parse((event as MessageEvent<string>).data) as Snapshot));
  events.addEventListener('status', (event) => renderStatus(JSON.parse((event as MessageEvent<string>).data) as SourceStatus));
  events.addEventListener('error', () =>
    renderStatus({ ok: false, problem: 'the dashboard server does not answer (stopped?); retrying...', lastGoodAt: undefined }),
  );
}

tabs.get('schedules')?.setAttribute('hidden', '');
replace(app, el('header', {}, el('h1', {}, 'serverless-jobs'), where, el('nav', {}, ...tabs.values())), status, ...panels.values());
window.addEventListener('hashchange', show);
show();
connect();
