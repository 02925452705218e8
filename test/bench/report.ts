/**
 * What every benchmark returns, and how it is printed: Markdown tables (so the output can go into the
 * README as it is), the targets with met / NOT MET, and notes saying what exactly was measured.
 */

/** One printed table. */
export interface Table {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** A target from issue 6 and whether this run met it. */
export interface Target {
  readonly what: string;
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

/** The result of one benchmark. */
export interface BenchReport {
  /** Short id (`leak`, `overhead`, `delivery`, `cold-start`). */
  readonly name: string;
  /** Heading of the printed table. */
  readonly title: string;
  /** One sentence: what was run, how many times, against which baseline. */
  readonly method: string;
  readonly tables: readonly Table[];
  readonly targets: readonly Target[];
  readonly notes: readonly string[];
  /** Raw measurements, written to the JSON results. */
  readonly data: unknown;
}

/** Options every benchmark takes. */
export interface BenchOptions {
  /** The tiny size `npm test` runs. */
  readonly quick: boolean;
  /** Progress lines go here (stderr). */
  readonly log: (line: string) => void;
}

/** A benchmark module's entry point. */
export type Bench = (options: BenchOptions) => Promise<BenchReport>;

function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** Renders one table as Markdown, columns padded for the terminal. */
export function renderTable(table: Table): string {
  const widths = table.columns.map((column, i) => Math.max(column.length, ...table.rows.map((row) => cell(row[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((text, i) => cell(text).padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(table.columns), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...table.rows.map(line)].join('\n');
}

/** Renders a whole report: heading, method, tables, targets, notes. */
export function renderReport(report: BenchReport): string {
  const parts = [`### ${report.title}`, '', report.method, ''];
  for (const table of report.tables) parts.push(renderTable(table), '');
  if (report.targets.length > 0) {
    parts.push(
      renderTable({
        columns: ['target', 'wanted', 'measured', 'met'],
        rows: report.targets.map((t) => [t.what, t.target, t.measured, t.met ? 'yes' : 'NOT MET']),
      }),
      '',
    );
  }
  for (const note of report.notes) parts.push(`- ${note}`);
  if (report.notes.length > 0) parts.push('');
  return parts.join('\n');
}

/** Formats a number with a fixed count of significant digits, no exponent, thousands separated. */
export function num(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** A whole count with thousands separators. */
export function int(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A ratio like `2.1 x`. */
export function ratio(value: number): string {
  return `${num(value, value >= 100 ? 3 : 2)} x`;
}

/** Bytes as B / KB / MB (1 KB = 1,024 B). */
export function bytes(value: number): string {
  const sign = value < 0 ? '-' : '';
  const abs = Math.abs(value);
  if (abs < 1024) return `${sign}${num(abs)} B`;
  if (abs < 1024 * 1024) return `${sign}${num(abs / 1024)} KB`;
  return `${sign}${num(abs / 1024 / 1024)} MB`;
}

/** A signed per-invocation figure, e.g. `+0.42 B`. */
export function signed(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  return `${value >= 0 ? '+' : ''}${num(value)} ${unit}`.trim();
}

/** Microseconds from nanoseconds. */
export function us(nanoseconds: number): string {
  return `${num(nanoseconds / 1000)} us`;
}

/** A percentage. */
export function percent(fraction: number): string {
  return `${num(fraction * 100, fraction >= 0.995 && fraction < 1 ? 4 : 3)} %`;
}
