/**
 * The Dead letters view, per queue: job type, reason, error, receive count, failed at, newest first,
 * filtered by job type and reason; a body on request (pretty-printed, as text); redrive the selected or all
 * matching, delete the selected, purge after typing the queue's name. The elements of each queue's section
 * are made once and kept, so a refresh keeps the selection, the filter and what is typed.
 */
import type { DeadLetterListView, DeadLetterRowView } from '../model.ts';
import { fetchBody, postAction, prettyBody } from './api.ts';
import { clock, el, replace, row, table } from './dom.ts';

interface Section {
  readonly root: HTMLElement;
  readonly typeFilter: HTMLSelectElement;
  readonly reasonFilter: HTMLSelectElement;
  readonly list: HTMLElement;
  readonly result: HTMLElement;
  readonly body: HTMLElement;
  readonly purgeInput: HTMLInputElement;
  readonly purgeButton: HTMLButtonElement;
  readonly actionButtons: HTMLButtonElement[];
  readonly selected: Set<string>;
  view: DeadLetterListView | undefined;
  readOnly: boolean;
}

const sections = new Map<string, Section>();
const NONE = '(none)';

function options(select: HTMLSelectElement, label: string, values: readonly string[]): void {
  const current = select.value;
  replace(select, el('option', { value: '' }, `every ${label}`), ...values.map((value) => el('option', { value }, value)));
  select.value = values.includes(current) ? current : '';
}

function matches(section: Section, entry: DeadLetterRowView): boolean {
  const type = section.typeFilter.value;
  const reason = section.reasonFilter.value;
  return (!type || (entry.jobType ?? NONE) === type) && (!reason || (entry.reason ?? NONE) === reason);
}

function filterOf(section: Section): { jobType?: string; reason?: string } {
  return {
    ...(section.typeFilter.value ? { jobType: section.typeFilter.value } : {}),
    ...(section.reasonFilter.value ? { reason: section.reasonFilter.value } : {}),
  };
}

async function act(section: Section, queue: string, name: 'redrive' | 'delete' | 'purge', body: unknown): Promise<void> {
  replace(section.result, `${name}: working...`);
  const result = await postAction(name, body);
  section.result.className = result.ok ? 'result ok' : 'result problem';
  replace(section.result, result.message);
  if (result.ok) section.selected.clear();
}

async function showBody(section: Section, queue: string, messageId: string): Promise<void> {
  replace(section.body, el('p', { class: 'hint' }, `reading the body of ${messageId}...`));
  const { ok, text } = await fetchBody(queue, messageId);
  replace(
    section.body,
    el('h4', {}, `body of ${messageId}`),
    ok ? el('pre', { class: 'message-body' }, prettyBody(text)) : el('p', { class: 'problem' }, text),
  );
}

function createSection(queue: string): Section {
  const typeFilter = el('select', { class: 'filter-type' });
  const reasonFilter = el('select', { class: 'filter-reason' });
  const purgeInput = el('input', { class: 'purge-confirm', placeholder: `type ${queue} to purge` });
  const purgeButton = el('button', { class: 'purge', disabled: true }, 'Purge DLQ');
  const section: Section = {
    root: el('section', { class: 'dead-letters', dataset: { queue } }),
    typeFilter,
    reasonFilter,
    list: el('div', { class: 'list' }),
    result: el('p', { class: 'result' }),
    body: el('div', { class: 'body' }),
    purgeInput,
    purgeButton,
    actionButtons: [],
    selected: new Set(),
    view: undefined,
    readOnly: true,
  };
  const refresh = (): void => renderList(section);
  typeFilter.addEventListener('change', refresh);
  reasonFilter.addEventListener('change', refresh);
  purgeInput.addEventListener('input', () => {
    purgeButton.disabled = section.readOnly || purgeInput.value !== queue;
  });
  purgeButton.addEventListener('click', () => {
    if (purgeInput.value !== queue) return;
    void act(section, queue, 'purge', { queue, confirm: purgeInput.value }).then(() => {
      purgeInput.value = '';
      purgeButton.disabled = true;
    });
  });
  const button = (label: string, className: string, onclick: () => void): HTMLButtonElement => {
    const created = el('button', { class: className, onclick }, label);
    section.actionButtons.push(created);
    return created;
  };
  const redriveSelected = button('Redrive selected', 'redrive-selected', () => {
    if (section.selected.size > 0) void act(section, queue, 'redrive', { queue, messageIds: [...section.selected] });
  });
  const redriveMatching = button('Redrive all matching', 'redrive-matching', () => {
    // "(none)" (no job type or reason attribute) is no server filter: those go as the listed messages that match.
    if (section.typeFilter.value === NONE || section.reasonFilter.value === NONE) {
      const listed = (section.view?.rows ?? []).filter((entry) => matches(section, entry)).map((entry) => entry.messageId);
      if (listed.length > 0) void act(section, queue, 'redrive', { queue, messageIds: listed });
    } else void act(section, queue, 'redrive', { queue, filter: filterOf(section) });
  });
  const deleteSelected = button('Delete selected', 'delete-selected', () => {
    if (section.selected.size > 0) void act(section, queue, 'delete', { queue, messageIds: [...section.selected] });
  });
  replace(
    section.root,
    el('h3', {}, `${queue}`),
    el('div', { class: 'toolbar' }, typeFilter, reasonFilter, redriveSelected, redriveMatching, deleteSelected, purgeInput, purgeButton),
    section.result,
    section.list,
    section.body,
  );
  return section;
}

function renderList(section: Section): void {
  const view = section.view;
  if (!view) return;
  const queue = view.queue;
  const ids = new Set(view.rows.map((entry) => entry.messageId));
  for (const id of section.selected) if (!ids.has(id)) section.selected.delete(id);
  const visible = view.rows.filter((entry) => matches(section, entry));
  const rows = visible.map((entry) => {
    const box = el('input', { type: 'checkbox', class: 'select', checked: section.selected.has(entry.messageId) });
    box.addEventListener('change', () => (box.checked ? section.selected.add(entry.messageId) : section.selected.delete(entry.messageId)));
    const show = el('button', { class: 'show-body', onclick: () => void showBody(section, queue, entry.messageId) }, 'body');
    return row(
      [
        box,
        entry.jobType ?? '?',
        entry.reason ?? '(redrive policy)',
        entry.error ?? '',
        entry.receiveCount ?? '-',
        clock(entry.failedAt ?? entry.sentAt),
        entry.messageId,
        show,
      ],
      { class: 'dead-letter', dataset: { messageId: entry.messageId } },
    );
  });
  replace(
    section.list,
    el(
      'p',
      { class: 'hint' },
      `${view.deadLetterName}: ${view.rows.length} listed${view.truncated ? ' (more in the DLQ)' : ''}, ${visible.length} match; read at ${clock(view.listedAt)}`,
    ),
    rows.length === 0
      ? el('p', { class: 'hint' }, 'No dead letters.')
      : table(['', 'job type', 'reason', 'error', 'receives', 'failed at (UTC)', 'message id', ''], rows),
  );
}

/** Renders every DLQ's section into `root` (sections are kept across calls). */
export function renderDeadLetters(root: HTMLElement, lists: readonly DeadLetterListView[], readOnly: boolean): void {
  if (root.childElementCount === 0) root.appendChild(el('h2', {}, 'Dead letters'));
  for (const list of lists) {
    let section = sections.get(list.queue);
    if (!section) {
      section = createSection(list.queue);
      sections.set(list.queue, section);
      root.appendChild(section.root);
    }
    section.readOnly = readOnly;
    for (const button of section.actionButtons) {
      button.disabled = readOnly;
      button.title = readOnly ? 'read-only: start the dashboard with --allow-actions' : '';
    }
    section.purgeButton.disabled = readOnly || section.purgeInput.value !== list.queue;
    if (section.view?.listedAt === list.listedAt) continue;
    section.view = list;
    const distinct = (pick: (entry: DeadLetterRowView) => string | undefined): string[] =>
      [...new Set(list.rows.map((entry) => pick(entry) ?? NONE))].toSorted();
    options(
      section.typeFilter,
      'job type',
      distinct((entry) => entry.jobType),
    );
    options(
      section.reasonFilter,
      'reason',
      distinct((entry) => entry.reason),
    );
    renderList(section);
  }
}
