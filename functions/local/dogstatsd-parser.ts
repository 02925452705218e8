/**
 * A pure parser of DogStatsD datagrams that applies the Datadog Lambda extension's own rules, so a local
 * run shows which lines production would lose.
 *
 * The rules mirror the `dogstatsd` crate of DataDog/libdatadog, which the Lambda extension (bottlecap) uses:
 * - `dogstatsd/src/dogstatsd.rs`: each datagram is read into an 8,192-byte buffer (`BUFFER_SIZE`), anything
 *   longer is cut; the buffer is decoded with `std::str::from_utf8(..).expect(..)` (invalid UTF-8 panics);
 *   the text is split on `\n`; empty lines, service checks (`_sc|`), events (`_e{`) and
 *   `aws.lambda.enhanced.invocations*` are skipped; every other line goes to `metric::parse`, and a line that
 *   fails is dropped with an error log (a debug log only for the unsupported types `h`, `s`, `ms`).
 * - `dogstatsd/src/metric.rs` (`parse`, `first_value`, `SortedTags::parse`): one regular expression,
 *   `^name:values|type(|@rate)?(|#tags)?(|c:container)?(|Ttimestamp)?$` — the optional fields only in that
 *   order, any other field (`|card:`, `|e:`, ...) makes the whole line fail; types `c` (count), `g` (gauge) and
 *   `d` (distribution); only the first of several `:`-separated values is kept (`first_value`); the sample rate
 *   is captured and then ignored (values are not scaled); tags are split on `,`, empty parts skipped, a tag
 *   without `:` becomes a key with an empty value, adjacent duplicates are removed (`Vec::dedup`), and more
 *   than 32 tags (`constants::MAX_TAGS`) fail the line; an unparsable `|T` timestamp falls back to "now".
 *
 * Metric names: the extension accepts any name without `:`; Datadog's intake then renames names that do not
 * start with a letter, contain characters other than ASCII letters, digits, `_` and `.`, or exceed 200
 * characters (docs.datadoghq.com/metrics/custom_metrics, "Naming custom metrics"). Those are accepted here
 * with a note, not rejected.
 */
import { MAX_DATAGRAM_BYTES, MAX_TAGS_PER_LINE } from '../runtime/metric-limits.ts';

/** The extension's receive buffer (`BUFFER_SIZE` in libdatadog `dogstatsd/src/dogstatsd.rs`): 8,192 bytes. */
export const EXTENSION_BUFFER_BYTES: number = MAX_DATAGRAM_BYTES;
/** The extension's tag limit (`constants::MAX_TAGS` in libdatadog `dogstatsd/src/constants.rs`): 32. */
export const EXTENSION_MAX_TAGS: number = MAX_TAGS_PER_LINE;
/** Datadog's longest metric name (longer names are cut by the intake). */
export const DATADOG_MAX_NAME_LENGTH = 200;

/** The metric kinds the extension keeps: `c`, `g` and `d` (libdatadog `metric.rs`, `MetricValue`). */
export type MetricKind = 'count' | 'gauge' | 'distribution';

/** One line the extension accepts, as it would record it. */
export interface ParsedMetric {
  /** The name (with the namespace prefix when one is configured, as `prepend_namespace` does). */
  readonly name: string;
  /** The first value of the line (`first_value`). */
  readonly value: number;
  /** The kind the extension records. */
  readonly kind: MetricKind;
  /** The sample rate written on the line; the extension ignores it (values are not scaled). */
  readonly sampleRate: number | undefined;
  /** Tags as the extension keeps them: adjacent duplicates removed, sorted; `key` alone when the value is empty. */
  readonly tags: readonly string[];
  /** The `|T` timestamp in seconds when it parsed; the extension uses "now" otherwise. */
  readonly timestamp: number | undefined;
  /** The `|c:` container id, when given. */
  readonly containerId: string | undefined;
  /** The line as received. */
  readonly line: string;
  /** What the extension or Datadog changes or ignores on this accepted line (extra values, sample rate, name rules). */
  readonly notes: readonly string[];
}

/** Why the extension drops a line. */
export type DropCode =
  | 'format'
  | 'invalid_value'
  | 'invalid_type'
  | 'unsupported_type'
  | 'too_many_tags'
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

// libdatadog metric.rs METRIC_REGEX. Rust's `\d` is Unicode-aware, hence `\p{Nd}` with the `u` flag.
const METRIC_LINE =
  /^(?<name>[^:]+):(?<values>[^|]+)\|(?<type>[a-zA-Z]+)(?:\|@(?<rate>[\p{Nd}.]+))?(?:\|#(?<tags>[^|]+))?(?:\|c:(?<container>[^|]+))?(?:\|T(?<timestamp>[^|]+))?$/u;
// Rust's `f64::from_str`: optional sign, then inf/infinity/nan (any case) or a decimal with an optional exponent.
const RUST_F64 = /^[+-]?(?:inf|infinity|nan|(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)$/i;
// Rust's `i64::from_str`.
const RUST_I64 = /^[+-]?\d+$/;
const DATADOG_NAME = /^[A-Za-z][A-Za-z0-9_.]*$/;

function reject(line: string, code: DropCode, reason: string): LineResult {
  return { ok: false, rejected: { line, code, reason } };
}

function parseRustF64(text: string): number | undefined {
  if (!RUST_F64.test(text)) return undefined;
  const lower = text.toLowerCase().replace(/^\+/, '');
  if (lower === 'inf' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (lower.endsWith('nan')) return Number.NaN;
  return Number(text);
}

function parseTimestamp(text: string): number | undefined {
  if (!RUST_I64.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** `SortedTags::parse`: split on `,`, skip empty parts, dedup adjacent pairs, at most 32, then sort. */
function parseTags(section: string): { tags: string[] } | { error: string } {
  const pairs: [string, string][] = [];
  for (const part of section.split(',')) {
    if (part === '') continue;
    const colon = part.indexOf(':');
    const pair: [string, string] = colon === -1 ? [part, ''] : [part.slice(0, colon), part.slice(colon + 1)];
    const previous = pairs.at(-1);
    if (previous !== undefined && previous[0] === pair[0] && previous[1] === pair[1]) continue;
    pairs.push(pair);
  }
  if (pairs.length > EXTENSION_MAX_TAGS) {
    return { error: `${pairs.length} tags, more than the extension's ${EXTENSION_MAX_TAGS} (MAX_TAGS): the line is dropped` };
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return { tags: pairs.map(([key, value]) => (value === '' ? key : `${key}:${value}`)) };
}

function nameNotes(name: string): string[] {
  const notes: string[] = [];
  if (!DATADOG_NAME.test(name)) {
    notes.push(
      `name "${name}" breaks Datadog's naming rules (start with a letter; ASCII letters, digits, "_" and "." only): Datadog renames it`,
    );
  }
  if (name.length > DATADOG_MAX_NAME_LENGTH) {
    notes.push(`name is ${name.length} characters, more than Datadog's ${DATADOG_MAX_NAME_LENGTH}: Datadog cuts it`);
  }
  return notes;
}

/**
 * Parses one DogStatsD line as the extension's `metric::parse` does (libdatadog `dogstatsd/src/metric.rs`),
 * after the line filters of `DogStatsD::insert_metrics` (`dogstatsd/src/dogstatsd.rs`).
 */
export function parseLine(line: string, options: ParseOptions = {}): LineResult {
  if (line.startsWith('_sc|')) return reject(line, 'service_check', 'a service check: the extension skips it');
  if (line.startsWith('_e{')) return reject(line, 'event', 'an event: the extension skips it');
  if (line.startsWith('aws.lambda.enhanced.invocations')) {
    return reject(line, 'filtered', 'the extension skips aws.lambda.enhanced.invocations* (reserved for the Lambda layer)');
  }
  const match = METRIC_LINE.exec(line);
  const groups = match?.groups;
  if (groups === undefined) {
    return reject(
      line,
      'format',
      'not name:value|type[|@rate][|#tags][|c:container][|Ttimestamp] with the optional fields in that order (any other field fails the line): the extension drops it',
    );
  }
  const { name = '', values = '', type = '', rate, tags: tagSection, container, timestamp: timestampText } = groups;
  const notes: string[] = [];

  let tags: string[] = [];
  if (tagSection !== undefined) {
    const parsed = parseTags(tagSection);
    if ('error' in parsed) return reject(line, 'too_many_tags', parsed.error);
    tags = parsed.tags;
  }

  const valueTexts = values.split(':');
  const first = valueTexts[0] ?? '';
  const value = parseRustF64(first);
  if (value === undefined)
    return reject(line, 'invalid_value', `value "${first}" is not a number to Rust's f64 parser: the extension drops the line`);
  if (valueTexts.length > 1) notes.push(`${valueTexts.length} values on one line: the extension keeps only the first (${first})`);
  if (!Number.isFinite(value)) notes.push(`value ${first} is not finite`);

  let kind: MetricKind;
  switch (type) {
    case 'c':
      kind = 'count';
      break;
    case 'g':
      kind = 'gauge';
      break;
    case 'd':
      kind = 'distribution';
      break;
    case 'h':
    case 's':
    case 'ms':
      return reject(
        line,
        'unsupported_type',
        `type "${type}" (${type === 'h' ? 'histogram' : type === 's' ? 'set' : 'timer'}) is unsupported: the extension drops it silently (debug log only)`,
      );
    default:
      return reject(line, 'invalid_type', `type "${type}" is not a DogStatsD metric type the extension knows (c, g, d): it drops the line`);
  }

  let sampleRate: number | undefined;
  if (rate !== undefined) {
    sampleRate = Number(rate);
    if (!Number.isFinite(sampleRate)) sampleRate = undefined;
    if (sampleRate !== 1) notes.push(`sample rate @${rate} is ignored by the extension: the value is not scaled`);
  }

  let timestamp: number | undefined;
  if (timestampText !== undefined) {
    timestamp = parseTimestamp(timestampText);
    if (timestamp === undefined) notes.push(`timestamp "T${timestampText}" does not parse: the extension uses the current time`);
  }

  const fullName = options.namespace ? `${options.namespace}.${name}` : name;
  notes.push(...nameNotes(fullName));
  return {
    ok: true,
    metric: { name: fullName, value, kind, sampleRate, tags, timestamp, containerId: container, line, notes },
  };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function splitLines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

/**
 * Parses one datagram as the extension does (libdatadog `dogstatsd/src/dogstatsd.rs`, `consume_statsd` and
 * `insert_metrics`): cut to the 8,192-byte buffer, decoded as UTF-8, split on `\n`, each line through
 * {@link parseLine}.
 *
 * A datagram longer than the buffer is `truncated`: lines wholly past the cut are reported as `beyond_buffer`,
 * and the line the cut runs through as `cut_by_buffer` (the extension parses its first part, which may still
 * be accepted with a wrong value or fewer tags; such a metric carries a note). A datagram that is not valid
 * UTF-8 after the cut makes the extension's `from_utf8(..).expect(..)` panic: all its lines are `invalid_utf8`.
 */
export function parseDatagram(datagram: Buffer | string, options: ParseOptions = {}): ParsedDatagram {
  const bufferBytes = options.bufferBytes ?? EXTENSION_BUFFER_BYTES;
  const bytes = typeof datagram === 'string' ? Buffer.from(datagram, 'utf8') : datagram;
  const truncated = bytes.length > bufferBytes;
  const kept = truncated ? bytes.subarray(0, bufferBytes) : bytes;
  const metrics: ParsedMetric[] = [];
  const rejected: RejectedLine[] = [];

  let text: string;
  try {
    text = UTF8.decode(kept);
  } catch {
    const whole = bytes.toString('utf8');
    for (const line of splitLines(whole)) {
      rejected.push({
        line,
        code: 'invalid_utf8',
        reason: truncated
          ? `the ${bufferBytes}-byte cut splits a UTF-8 character: the extension's from_utf8(..).expect(..) panics and the whole datagram is lost`
          : "the datagram is not valid UTF-8: the extension's from_utf8(..).expect(..) panics and the whole datagram is lost",
      });
    }
    return { metrics, rejected, truncated, bytes: bytes.length };
  }

  const lines = splitLines(text);
  let cutLine: string | undefined;
  if (truncated) {
    const cutInsideLine = kept.at(-1) !== 0x0a && bytes[bufferBytes] !== 0x0a;
    if (cutInsideLine) cutLine = lines.pop();
  }
  for (const line of lines) {
    const result = parseLine(line, options);
    if (result.ok) metrics.push(result.metric);
    else rejected.push(result.rejected);
  }
  if (truncated) {
    const rest = bytes.subarray(bufferBytes).toString('utf8');
    const restLines = rest.split('\n');
    const tail = restLines.shift() ?? '';
    if (cutLine !== undefined) {
      const fullLine = cutLine + tail;
      const partial = parseLine(cutLine, options);
      if (partial.ok) {
        metrics.push({
          ...partial.metric,
          notes: [
            ...partial.metric.notes,
            `cut at the ${bufferBytes}-byte buffer: the extension records this partial line (sent as "${fullLine}")`,
          ],
        });
        rejected.push({
          line: fullLine,
          code: 'cut_by_buffer',
          reason: `the datagram is ${bytes.length} bytes, more than the extension's ${bufferBytes}-byte buffer: this line is cut and recorded as "${cutLine}"`,
        });
      } else {
        rejected.push({
          line: fullLine,
          code: 'cut_by_buffer',
          reason: `the datagram is ${bytes.length} bytes, more than the extension's ${bufferBytes}-byte buffer: this line is cut and the rest fails to parse (${partial.rejected.reason})`,
        });
      }
    } else if (tail !== '') {
      restLines.unshift(tail);
    }
    for (const line of restLines) {
      if (line === '') continue;
      rejected.push({
        line,
        code: 'beyond_buffer',
        reason: `the datagram is ${bytes.length} bytes, more than the extension's ${bufferBytes}-byte buffer: this line is lost`,
      });
    }
  }
  return { metrics, rejected, truncated, bytes: bytes.length };
}
