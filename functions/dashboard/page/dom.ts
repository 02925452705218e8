/**
 * Building the page's elements. Text goes in as text nodes only (`textContent` semantics): nothing that
 * comes from the server, from a message above all, is ever parsed as HTML. There is no innerHTML here.
 */

/** A child: an element, or text (written as a text node). */
export type Child = Node | string | number | undefined | null | false;

/** Attributes and properties of {@link el}. */
export interface Props {
  readonly class?: string;
  readonly id?: string;
  readonly title?: string;
  readonly type?: string;
  readonly value?: string;
  readonly placeholder?: string;
  readonly checked?: boolean;
  readonly disabled?: boolean;
  readonly hidden?: boolean;
  readonly href?: string;
  readonly dataset?: Readonly<Record<string, string>>;
  readonly onclick?: (event: Event) => void;
  readonly oninput?: (event: Event) => void;
  readonly onchange?: (event: Event) => void;
}

/** Creates an element with properties and children (strings become text nodes). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.class) element.className = props.class;
  if (props.id) element.id = props.id;
  if (props.title) element.title = props.title;
  if (props.hidden) element.hidden = true;
  if (props.dataset) for (const [key, value] of Object.entries(props.dataset)) element.dataset[key] = value;
  if (element instanceof HTMLInputElement || element instanceof HTMLButtonElement || element instanceof HTMLSelectElement) {
    if (props.disabled !== undefined) element.disabled = props.disabled;
    if (props.value !== undefined) element.value = props.value;
  }
  if (element instanceof HTMLOptionElement && props.value !== undefined) element.value = props.value;
  if (element instanceof HTMLInputElement) {
    if (props.type) element.type = props.type;
    if (props.placeholder) element.placeholder = props.placeholder;
    if (props.checked !== undefined) element.checked = props.checked;
  }
  if (element instanceof HTMLButtonElement) element.type = 'button';
  if (element instanceof HTMLAnchorElement && props.href) element.href = props.href;
  if (props.onclick) element.addEventListener('click', props.onclick);
  if (props.oninput) element.addEventListener('input', props.oninput);
  if (props.onchange) element.addEventListener('change', props.onchange);
  append(element, ...children);
  return element;
}

/** Appends children; strings and numbers as text nodes. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces an element's children. */
export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** A table with a header row and body rows. */
export function table(headers: readonly string[], rows: readonly HTMLTableRowElement[], className = 'grid'): HTMLTableElement {
  return el(
    'table',
    { class: className },
    el('thead', {}, el('tr', {}, ...headers.map((header) => el('th', {}, header)))),
    el('tbody', {}, ...rows),
  );
}

/** A table row of cells (strings as text). */
export function row(cells: readonly Child[], props: Props = {}): HTMLTableRowElement {
  return el('tr', props, ...cells.map((cell) => el('td', {}, cell)));
}

/** Milliseconds in words (`12 ms`, `1.20 s`), `-` when unknown. */
export function ms(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(value < 10 ? 1 : 0)} ms`;
}

/** A time of day (HH:MM:SS, UTC) from ms since the epoch or an ISO string. */
export function clock(value: number | string | undefined): string {
  if (value === undefined) return '-';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().replace('T', ' ').slice(0, 19);
}
