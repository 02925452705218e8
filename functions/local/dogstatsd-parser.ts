/**
 * A pure parser of DogStatsD datagrams that applies the Datadog Lambda extension's own rules, so a local run
 * shows which lines production loses.
 *
 * It follows the `dogstatsd` crate of DataDog/serverless-components at revision
 * d0c7f44191445e20d309734675d5e8b91d2a5d51 ({@link PARSER_REVISION}), which extension layer 99 runs
 * (functions/datadog-extension.ts ties the layer and the revision; a test fails when they disagree):
 * - `dogstatsd.rs`: a datagram is read into an 8,192-byte buffer (`DEFAULT_BUFFER_SIZE`; longer ones are cut);
 *   a buffer that is not UTF-8 is dropped whole; the text is split on `\n`; empty lines, service checks (`_sc|`),
 *   events (`_e{`) and `aws.lambda.enhanced.invocations*` are skipped; the namespace is prefixed with a dot.
 * - `metric.rs` `parse`: `name:values|type`, then `|`-separated fields in any order: `#tags` (the last section
 *   wins), `T<seconds>` (an f64, rounded; empty or malformed fails the line), `@<rate>` (an f64, else the line
 *   fails; otherwise ignored), `c:<container>`; empty and unknown fields are skipped. Name and values are not
 *   empty; the first `:`-separated value is kept (Rust's f64); types `c`, `g`, `d` (`h`, `s`, `ms` are dropped
 *   with a debug log only). Tags: split on `,`, empty parts skipped, `key` alone without `:`, adjacent
 *   duplicates removed, more than 100 (`constants.rs` `MAX_TAGS`) fail the line, then sorted.
 * Datadog's intake then renames names that break its naming rules (docs.datadoghq.com/metrics/custom_metrics):
 * accepted here with a note.
 */
import { EXTENSION_BUFFER_BYTES, EXTENSION_MAX_TAGS } from '../datadog-extension.ts';

/** The serverless-components revision whose DogStatsD parser this module follows. */
export const PARSER_REVISION = 'd0c7f44191445e20d309734675d5e8b91d2a5d51';
/** Datadog's longest metric name (longer names are cut by the intake). */
export const DATADOG_MAX_NAME_LENGTH = 200;

/** The metric kinds the extension keeps: `c`, `g` and `d` (`MetricValue` in metric.rs). */
export type MetricKind = 'count' | 'gauge' | 'distribution';

/** One line the extension accepts, as it would record it. */
export interface ParsedMetric {
  /** The name (with the namespace prefix when one is configured, as `prepend_namespace` does). */
  readonly name: string;
  /** The first value of the line (`first_value`). */
  readonly value: number;
  readonly kind: MetricKind;
  /** The sample rate written on the line; the extension ignores it (values are not scaled). */
  readonly sampleRate: number | undefined;
  /** Tags as the extension keeps them: adjacent duplicates removed, sorted; `key` alone when the value is empty. */
  readonly tags: readonly string[];
  /** The `|T` timestamp in whole seconds (rounded); the extension uses "now" without one. */
  readonly timestamp: number | undefined;
  /** The `|c:` container id, when given. */
  readonly containerId: string | undefined;
  readonly line: string;
  /** What the extension or Datadog changes or ignores on this accepted line. */
  readonly notes: readonly string[];
}

/** Why the extension drops a line. */
export type DropCode =
  | 'format'
  | 'invalid_value'
  | 'invalid_type'
  | 'unsupported_type'
  | 'too_many_tags'
  | 'invalid_timestamp'
  | 'invalid_sample_rate'
  | 'service_check'
  | 'event'
  | 'filtered'
  | 'invalid_utf8'
  | 'beyond_buffer'
  | 'cut_by_buffer';

/** A line the extension would drop, and why. */
export interface RejectedLine {
  readonly line: string;
  readonly code: DropCode;
  /** A sentence saying what the extension does with it. */
  readonly reason: string;
}

/** The result of {@link parseLine}. */
export type LineResult = { readonly ok: true; readonly metric: ParsedMetric } | { readonly ok: false; readonly rejected: RejectedLine };

/** The result of {@link parseDatagram}. */
export interface ParsedDatagram {
  /** Lines the extension records. */
  readonly metrics: ParsedMetric[];
  /** Lines the extension drops (including lines lost past the buffer). */
  readonly rejected: RejectedLine[];
  /** True when the datagram was longer than the extension's buffer and was cut. */
  readonly truncated: boolean;
  /** Size of the datagram as sent, in bytes. */
  readonly bytes: number;
}

/** Options of {@link parseLine} and {@link parseDatagram}. */
export interface ParseOptions {
  /** The extension's metric namespace (`DD_STATSD_METRIC_NAMESPACE`), prefixed with a dot as `prepend_namespace` does. */
  readonly namespace?: string;
  /** The receive buffer size; default {@link EXTENSION_BUFFER_BYTES}. */
  readonly bufferBytes?: number;
}

// Rust's `f64::from_str`: optional sign, then inf/infinity/nan (any case) or a decimal with an optional exponent.
const RUST_F64 = /^[+-]?(?:inf|infinity|nan|(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)$/i;
const DATADOG_NAME = /^[A-Za-z][A-Za-z0-9_.]*$/;
const FORMAT = 'not name:value|type[|field...]: the extension drops it';
const KINDS: Readonly<Record<string, MetricKind>> = { c: 'count', g: 'gauge', d: 'distribution' };
const UNSUPPORTED: Readonly<Record<string, string>> = { h: 'histogram', s: 'set', ms: 'timer' };

/** The reason of a line whose `what` is not a number to Rust's `f64::from_str`. */
const notF64 = (what: string, text: string): string =>
  `${what} "${text}" is not a number to Rust's f64 parser: the extension drops the line`;

function parseRustF64(text: string): number | undefined {
  if (!RUST_F64.test(text)) return undefined;
  const lower = text.toLowerCase().replace(/^\+/, '');
  if (lower.endsWith('nan')) return Number.NaN;
  if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}

/** `f64::round() as i64`: halves away from zero, NaN to 0, saturating at the i64 range. */
function roundToI64(value: number): number {
  if (Number.isNaN(value)) return 0;
  return Math.max(-(2 ** 63), Math.min(2 ** 63 - 1, Math.sign(value) * Math.round(Math.abs(value))));
}

/** `SortedTags::parse` (its 100-tag limit is checked by the caller): split on `,`, skip empty parts, dedup adjacent pairs, sort. */
function parseTags(section: string): string[] {
  const pairs: [string, string][] = [];
  for (const part of section.split(',')) {
    if (part === '') continue;
    const colon = part.indexOf(':');
    const pair: [string, string] = colon === -1 ? [part, ''] : [part.slice(0, colon), part.slice(colon + 1)];
    const previous = pairs.at(-1);
    if (previous?.[0] !== pair[0] || previous[1] !== pair[1]) pairs.push(pair);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([key, value]) => (value === '' ? key : `${key}:${value}`));
}

function nameNotes(name: string): string[] {
  const notes: string[] = [];
  if (!DATADOG_NAME.test(name)) {
    notes.push(
      `name "${name}" breaks Datadog's naming rules (start with a letter; ASCII letters, digits, "_" and "." only): Datadog renames it`,
    );
  }
  if (name.length > DATADOG_MAX_NAME_LENGTH)
    notes.push(`name is ${name.length} characters, more than Datadog's ${DATADOG_MAX_NAME_LENGTH}: Datadog cuts it`);
  return notes;
}

interface OptionalFields {
  tags: string[];
  tagSections: number;
  timestamp?: number;
  sampleRate?: number;
  containerId?: string;
  readonly notes: string[];
}

/** The fields after the type, in any order, as `parse` reads them; a {@link RejectedLine} reason when one fails the line. */
function readFields(fields: readonly string[]): OptionalFields | { code: DropCode; reason: string } {
  const read: OptionalFields = { tags: [], tagSections: 0, notes: [] };
  for (const field of fields) {
    if (field === '') continue;
    if (field.startsWith('#')) {
      const tags = parseTags(field.slice(1));
      if (tags.length > EXTENSION_MAX_TAGS) {
        return {
          code: 'too_many_tags',
          reason: `${tags.length} tags, more than the extension's ${EXTENSION_MAX_TAGS} (MAX_TAGS): it drops the line`,
        };
      }
      read.tags = tags;
      read.tagSections += 1;
    } else if (field.startsWith('T')) {
      const seconds = parseRustF64(field.slice(1));
      if (seconds === undefined) return { code: 'invalid_timestamp', reason: notF64('timestamp', field) };
      read.timestamp = roundToI64(seconds);
      if (read.timestamp !== seconds) read.notes.push(`timestamp ${field.slice(1)} is rounded to ${read.timestamp} s`);
    } else if (field.startsWith('@')) {
      const rate = parseRustF64(field.slice(1));
      if (rate === undefined) return { code: 'invalid_sample_rate', reason: notF64('sample rate', field) };
      read.sampleRate = rate;
      if (rate !== 1) read.notes.push(`sample rate ${field} is ignored by the extension: the value is not scaled`);
    } else if (field.startsWith('c:')) {
      read.containerId = field.slice(2);
    } else {
      read.notes.push(`field "|${field}" is not one the extension reads: it ignores it`);
    }
  }
  if (read.tagSections > 1) read.notes.push(`${read.tagSections} tag sections (|#): the extension keeps only the last`);
  return read;
}

function reject(line: string, code: DropCode, reason: string): LineResult {
  return { ok: false, rejected: { line, code, reason } };
}

/** Parses one DogStatsD line as `metric::parse` does, after the line filters of `insert_metrics` (dogstatsd.rs). */
export function parseLine(line: string, options: ParseOptions = {}): LineResult {
  if (line.startsWith('_sc|')) return reject(line, 'service_check', 'a service check: the extension skips it');
  if (line.startsWith('_e{')) return reject(line, 'event', 'an event: the extension skips it');
  if (line.startsWith('aws.lambda.enhanced.invocations')) {
    return reject(line, 'filtered', 'the extension skips aws.lambda.enhanced.invocations* (reserved for the Lambda layer)');
  }
  const [nameAndValues = '', type, ...fields] = line.split('|');
  const colon = nameAndValues.indexOf(':');
  const name = nameAndValues.slice(0, colon);
  const values = nameAndValues.slice(colon + 1);
  if (colon === -1 || name === '' || values === '' || type === undefined || type === '') return reject(line, 'format', FORMAT);
  const valueTexts = values.split(':');
  const first = valueTexts[0] ?? '';
  const value = parseRustF64(first);
  if (value === undefined) return reject(line, 'invalid_value', notF64('value', first));
  const kind = KINDS[type];
  if (kind === undefined) {
    const unsupported = UNSUPPORTED[type];
    if (unsupported !== undefined)
      return reject(
        line,
        'unsupported_type',
        `type "${type}" (${unsupported}) is unsupported: the extension drops it silently (debug log only)`,
      );
    return reject(line, 'invalid_type', `type "${type}" is not a DogStatsD metric type the extension knows (c, g, d): it drops the line`);
  }
  const read = readFields(fields);
  if ('code' in read) return reject(line, read.code, read.reason);
  const notes: string[] = [];
  if (valueTexts.length > 1) notes.push(`${valueTexts.length} values on one line: the extension keeps only the first (${first})`);
  if (!Number.isFinite(value)) notes.push(`value ${first} is not finite`);
  notes.push(...read.notes);
  const fullName = options.namespace ? `${options.namespace}.${name}` : name;
  notes.push(...nameNotes(fullName));
  const { tags, timestamp, sampleRate, containerId } = read;
  return { ok: true, metric: { name: fullName, value, kind, sampleRate, tags, timestamp, containerId, line, notes } };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function splitLines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/** The lines of a cut datagram past the buffer: the line the cut runs through, and those wholly past it. */
function linesPastTheCut(bytes: Buffer, kept: string[], bufferBytes: number, options: ParseOptions): ParsedDatagram {
  const metrics: ParsedMetric[] = [];
  const rejected: RejectedLine[] = [];
  const size = `the datagram is ${bytes.length} bytes, more than the extension's ${bufferBytes}-byte buffer`;
  const restLines = bytes.subarray(bufferBytes).toString('utf8').split('\n');
  const cutInsideLine = bytes[bufferBytes - 1] !== 0x0a && bytes[bufferBytes] !== 0x0a;
  const cutLine = cutInsideLine ? kept.pop() : undefined;
  const tail = restLines.shift() ?? '';
  if (cutLine !== undefined) {
    const fullLine = cutLine + tail;
    const partial = parseLine(cutLine, options);
    if (partial.ok) {
      const note = `cut at the ${bufferBytes}-byte buffer: the extension records this partial line (sent as "${fullLine}")`;
      metrics.push({ ...partial.metric, notes: [...partial.metric.notes, note] });
      rejected.push({ line: fullLine, code: 'cut_by_buffer', reason: `${size}: this line is cut and recorded as "${cutLine}"` });
    } else {
      rejected.push({
        line: fullLine,
        code: 'cut_by_buffer',
        reason: `${size}: this line is cut and the rest fails to parse (${partial.rejected.reason})`,
      });
    }
  } else if (tail !== '') {
    restLines.unshift(tail);
  }
  for (const line of splitLines(restLines.join('\n'))) rejected.push({ line, code: 'beyond_buffer', reason: `${size}: this line is lost` });
  return { metrics, rejected, truncated: true, bytes: bytes.length };
}

/**
 * Parses one datagram as the extension's `process_packet` / `insert_metrics` do (the header's dogstatsd.rs
 * rules), each line through {@link parseLine}. A datagram longer than the buffer is `truncated`: lines wholly
 * past the cut are `beyond_buffer`, the line the cut runs through is `cut_by_buffer` (its first part may still
 * be recorded, with a wrong value or fewer tags; such a metric carries a note).
 */
export function parseDatagram(datagram: Buffer | string, options: ParseOptions = {}): ParsedDatagram {
  const bufferBytes = options.bufferBytes ?? EXTENSION_BUFFER_BYTES;
  const bytes = typeof datagram === 'string' ? Buffer.from(datagram, 'utf8') : datagram;
  const truncated = bytes.length > bufferBytes;
  let text: string;
  try {
    text = UTF8.decode(truncated ? bytes.subarray(0, bufferBytes) : bytes);
  } catch {
    const reason = truncated
      ? `the ${bufferBytes}-byte cut splits a UTF-8 character: the extension drops the whole datagram (non-UTF-8 packet)`
      : 'the datagram is not valid UTF-8: the extension drops the whole datagram (non-UTF-8 packet)';
    const rejected = splitLines(bytes.toString('utf8')).map((line): RejectedLine => ({ line, code: 'invalid_utf8', reason }));
    return { metrics: [], rejected, truncated, bytes: bytes.length };
  }
  const lines = splitLines(text);
  // First: it takes the line the cut runs through out of `lines`.
  const past = truncated ? linesPastTheCut(bytes, lines, bufferBytes, options) : undefined;
  const metrics: ParsedMetric[] = [];
  const rejected: RejectedLine[] = [];
  for (const line of lines) {
    const result = parseLine(line, options);
    if (result.ok) metrics.push(result.metric);
    else rejected.push(result.rejected);
  }
  metrics.push(...(past?.metrics ?? []));
  rejected.push(...(past?.rejected ?? []));
  return { metrics, rejected, truncated, bytes: bytes.length };
}
