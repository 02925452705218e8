/**
 * The accounting table the fault-injection run prints: plain text, two columns, right-aligned figures.
 */

/** A row: a label and its figure; a row without a figure is a section heading. */
export type TableRow = readonly [label: string, value?: string | number];

/** Formats a whole number with thousands separators. */
export function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** The value at quantile `q` (0-1) of `values` (nearest rank); NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
}

/** Renders the rows under a title. */
export function renderTable(title: string, rows: readonly TableRow[]): string {
  const cells = rows.map(([label, value]) => [label, value === undefined ? '' : typeof value === 'number' ? count(value) : value] as const);
  const labelWidth = Math.max(title.length, ...cells.map(([label]) => label.length));
  const valueWidth = Math.max(0, ...cells.map(([, value]) => value.length));
  const rule = '-'.repeat(labelWidth + valueWidth + 3);
  const lines = [title, rule];
  for (const [label, value] of cells) lines.push(value === '' ? label : `${label.padEnd(labelWidth)}   ${value.padStart(valueWidth)}`);
  lines.push(rule);
  return lines.join('\n');
}
