/**
 * A small grammar check of Datadog metric query strings: enough to catch a typo, a missing brace or
 * an unknown function before a deploy does, and to list the metrics and tag keys a query uses.
 *
 * Accepted (a subset of Datadog's syntax, the subset this module writes):
 * - metric query: `agg:metric.name{tag:value,!tag:value,tag,*} by {tag,tag}.as_count().rollup(sum, 60).fill(zero)`,
 *   `agg` one of avg, sum, min, max, count, pNN (p50, p95, p99, p99.9);
 * - arithmetic between queries and numbers: `+ - * /`, parentheses, unary minus;
 * - functions: `abs(...)`, `per_second(...)`, `forecast(q, 'linear', 1, history='1w')`, ... (see {@link FUNCTIONS});
 * - formulas (dashboard): the same, over query names (`dead / processed`);
 * - monitor queries: `avg(last_5m):<expr> > 3`, `change(avg(last_30m),last_1h):<expr> > 20`,
 *   `pct_change(...)`, and `max(next_1w):forecast(<expr>, 'linear', 1) >= 0.9`.
 * Not accepted: boolean tag filters (`AND`, `OR`, `IN`), events/logs/APM queries.
 */

/** A query string that does not follow the grammar. */
export class QuerySyntaxError extends Error {
  override readonly name: string = 'QuerySyntaxError';
  /** 0-based offset in {@link query}. */
  readonly position: number;
  readonly query: string;
  constructor(message: string, query: string, position: number) {
    super(`${message} at column ${position + 1} of "${query}"`);
    this.query = query;
    this.position = position;
  }
}

/** One `key:value` (or bare `key`, or `*`) item of a `{...}` filter. */
export interface TagFilter {
  /** `*` for the wildcard scope. */
  readonly key: string;
  readonly value: string | undefined;
  readonly negated: boolean;
}

/** A method call after a metric query: `.as_count()`, `.rollup(sum, 60)`. */
export interface QueryMethod {
  readonly name: string;
  readonly args: readonly string[];
}

/** One `agg:metric{...} by {...}` term. */
export interface MetricQueryNode {
  readonly aggregator: string;
  readonly metric: string;
  readonly filters: readonly TagFilter[];
  readonly groupBy: readonly string[];
  readonly methods: readonly QueryMethod[];
}

/** What a parsed expression uses. */
export interface ParsedExpression {
  readonly metrics: readonly MetricQueryNode[];
  /** Names of the functions called (`forecast`, `abs`, ...). */
  readonly functions: readonly string[];
  /** Formula mode: the query names referenced. */
  readonly references: readonly string[];
}

/** The form of a monitor query. */
export type MonitorQueryForm = 'threshold' | 'change' | 'pct_change' | 'forecast';

/** A parsed monitor query. */
export interface ParsedMonitorQuery extends ParsedExpression {
  readonly form: MonitorQueryForm;
  /** `avg`, `sum`, `min`, `max`. */
  readonly timeAggregation: string;
  /** `last_5m`, `next_1w`. */
  readonly window: string;
  /** `change`/`pct_change`: the comparison shift (`last_1h`). */
  readonly shift: string | undefined;
  readonly comparator: Comparator;
  readonly threshold: number;
}

/** A monitor comparator. */
export type Comparator = '>' | '>=' | '<' | '<=';

/** Space aggregators: avg, sum, min, max, count, and percentiles of distributions (p50, p99.9). */
const SPACE_AGGREGATOR = /^(?:avg|sum|min|max|count|p(?:[1-9]?\d)(?:\.\d{1,2})?)$/;
/** Monitor time aggregations. */
const TIME_AGGREGATIONS = new Set(['avg', 'sum', 'min', 'max']);
/** `last_5m`, `last_1h`, `next_1w`. */
const WINDOW = /^(?:last|next)_\d+(?:m|h|d|w|mo)$/;
/** Metric names: dot-separated segments of lower-case letters, digits and underscores. */
const METRIC_NAME = /^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$/;
const TAG_KEY = /^[a-z][a-z0-9_.\-/]*$/;
const TAG_VALUE = /^[a-z0-9_.\-/:*]+$/;

/** Functions the grammar knows (Datadog's function reference, the ones that take a query). */
export const FUNCTIONS: ReadonlySet<string> = new Set([
  'abs',
  'log2',
  'log10',
  'cumsum',
  'integral',
  'diff',
  'derivative',
  'monotonic_diff',
  'per_second',
  'per_minute',
  'per_hour',
  'timeshift',
  'hour_before',
  'day_before',
  'week_before',
  'month_before',
  'top',
  'top_offset',
  'ewma_3',
  'ewma_5',
  'ewma_10',
  'ewma_20',
  'median_3',
  'median_5',
  'median_7',
  'median_9',
  'robust_trend',
  'trend_line',
  'piecewise_constant',
  'outliers',
  'anomalies',
  'forecast',
  'count_nonzero',
  'count_not_null',
  'clamp_min',
  'clamp_max',
  'cutoff_min',
  'cutoff_max',
  'default_zero',
  'exclude_null',
  'moving_rollup',
]);

/** Methods a metric query may end with, and the arguments each takes. */
const METHODS: Readonly<Record<string, { readonly min: number; readonly max: number; readonly first?: ReadonlySet<string> }>> = {
  as_count: { min: 0, max: 0 },
  as_rate: { min: 0, max: 0 },
  rollup: { min: 1, max: 2, first: new Set(['avg', 'sum', 'min', 'max', 'count']) },
  fill: { min: 1, max: 2, first: new Set(['null', 'zero', 'linear', 'last']) },
};

interface Collected {
  metrics: MetricQueryNode[];
  functions: string[];
  references: string[];
}

class Parser {
  private pos = 0;
  private readonly collected: Collected = { metrics: [], functions: [], references: [] };

  constructor(
    private readonly text: string,
    private readonly names: ReadonlySet<string> | undefined,
  ) {}

  result(): Collected {
    return this.collected;
  }

  fail(message: string, at: number = this.pos): never {
    throw new QuerySyntaxError(message, this.text, at);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && this.text[this.pos] === ' ') this.pos += 1;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  position(): number {
    return this.pos;
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  expect(literal: string): void {
    if (!this.text.startsWith(literal, this.pos)) this.fail(`expected "${literal}"`);
    this.pos += literal.length;
  }

  /** Reads `[a-z0-9_.]+` (identifiers, aggregators, metric names). */
  word(): string {
    const start = this.pos;
    while (/[a-z0-9_.]/i.test(this.peek())) this.pos += 1;
    return this.text.slice(start, this.pos);
  }

  number(): number {
    const match = /^\d+(?:\.\d+)?(?:e[+-]?\d+)?/i.exec(this.text.slice(this.pos));
    if (match === null) this.fail('expected a number');
    this.pos += match[0].length;
    return Number(match[0]);
  }

  /** expr := term (('+'|'-') term)* */
  expression(): void {
    this.term();
    for (;;) {
      this.skipSpace();
      const c = this.peek();
      if (c !== '+' && c !== '-') return;
      this.pos += 1;
      this.skipSpace();
      this.term();
    }
  }

  /** term := unary (('*'|'/') unary)* */
  term(): void {
    this.unary();
    for (;;) {
      this.skipSpace();
      const c = this.peek();
      if (c !== '*' && c !== '/') return;
      this.pos += 1;
      this.skipSpace();
      this.unary();
    }
  }

  unary(): void {
    if (this.peek() === '-') {
      this.pos += 1;
      this.skipSpace();
    }
    this.primary();
  }

  primary(): void {
    const c = this.peek();
    if (c === '(') {
      this.pos += 1;
      this.skipSpace();
      this.expression();
      this.skipSpace();
      this.expect(')');
      return;
    }
    if (/\d/.test(c)) {
      this.number();
      return;
    }
    const start = this.pos;
    const word = this.word();
    if (word === '') this.fail('expected a metric query, a number, a function or "("');
    if (this.peek() === ':') {
      this.metricQuery(word, start);
      return;
    }
    if (this.peek() === '(') {
      this.functionCall(word, start);
      return;
    }
    if (this.names !== undefined) {
      if (!this.names.has(word)) this.fail(`unknown query name "${word}"`, start);
      this.collected.references.push(word);
      return;
    }
    this.fail(`"${word}" is neither "agg:metric{...}" nor a function call`, start);
  }

  functionCall(name: string, start: number): void {
    if (!FUNCTIONS.has(name)) this.fail(`unknown function "${name}"`, start);
    this.collected.functions.push(name);
    this.expect('(');
    this.skipSpace();
    let first = true;
    while (this.peek() !== ')') {
      if (!first) {
        this.expect(',');
        this.skipSpace();
      }
      first = false;
      this.argument();
      this.skipSpace();
      if (this.atEnd()) this.fail(`unclosed "${name}("`);
    }
    this.expect(')');
  }

  /** A function argument: a quoted string, `key='value'` / `key=number`, or an expression. */
  argument(): void {
    if (this.peek() === "'") {
      this.quoted();
      return;
    }
    const keyword = /^([a-z_]+)=/.exec(this.text.slice(this.pos));
    if (keyword !== null) {
      this.pos += keyword[0].length;
      if (this.peek() === "'") this.quoted();
      else this.number();
      return;
    }
    this.expression();
  }

  quoted(): void {
    const end = this.text.indexOf("'", this.pos + 1);
    if (end < 0) this.fail('unterminated string');
    this.pos = end + 1;
  }

  metricQuery(aggregator: string, start: number): void {
    if (!SPACE_AGGREGATOR.test(aggregator)) this.fail(`unknown space aggregator "${aggregator}"`, start);
    this.expect(':');
    const nameAt = this.pos;
    const metric = this.word();
    if (!METRIC_NAME.test(metric)) this.fail(`"${metric}" is not a metric name`, nameAt);
    if (this.peek() !== '{') this.fail(`expected "{" after metric "${metric}"`);
    const filters = this.filter();
    let groupBy: string[] = [];
    const save = this.pos;
    this.skipSpace();
    if (this.text.startsWith('by', this.pos) && /[\s{]/.test(this.text[this.pos + 2] ?? '')) {
      this.pos += 2;
      this.skipSpace();
      groupBy = this.groupBy();
    } else {
      this.pos = save;
    }
    const methods = this.methods();
    this.collected.metrics.push({ aggregator, metric, filters, groupBy, methods });
  }

  /** `{*}` or `{key:value,!key:value,key}`. */
  filter(): TagFilter[] {
    this.expect('{');
    const end = this.text.indexOf('}', this.pos);
    if (end < 0) this.fail('unclosed "{"');
    const body = this.text.slice(this.pos, end);
    const bodyAt = this.pos;
    this.pos = end + 1;
    if (body.trim() === '*') return [{ key: '*', value: undefined, negated: false }];
    if (/\b(?:AND|OR|NOT|IN)\b/.test(body)) this.fail('boolean tag filters (AND/OR/NOT/IN) are not part of this grammar', bodyAt);
    return body.split(',').map((raw) => {
      const item = raw.trim();
      const negated = item.startsWith('!');
      const tag = negated ? item.slice(1) : item;
      const colon = tag.indexOf(':');
      const key = colon < 0 ? tag : tag.slice(0, colon);
      const value = colon < 0 ? undefined : tag.slice(colon + 1);
      if (!TAG_KEY.test(key)) this.fail(`"${item}" is not a tag filter (key:value)`, bodyAt);
      if (value !== undefined && !TAG_VALUE.test(value))
        this.fail(`tag value "${value}" has characters Datadog does not keep (lower-case letters, digits, _ - . / : only)`, bodyAt);
      return { key, value, negated };
    });
  }

  groupBy(): string[] {
    this.expect('{');
    const end = this.text.indexOf('}', this.pos);
    if (end < 0) this.fail('unclosed "by {"');
    const keys = this.text
      .slice(this.pos, end)
      .split(',')
      .map((k) => k.trim());
    for (const key of keys) if (!TAG_KEY.test(key)) this.fail(`"${key}" is not a tag key`);
    this.pos = end + 1;
    return keys;
  }

  methods(): QueryMethod[] {
    const methods: QueryMethod[] = [];
    while (this.peek() === '.') {
      this.pos += 1;
      const at = this.pos;
      const name = this.word();
      const spec = METHODS[name];
      if (spec === undefined) this.fail(`unknown method ".${name}()"`, at);
      this.expect('(');
      const end = this.text.indexOf(')', this.pos);
      if (end < 0) this.fail(`unclosed ".${name}("`);
      const inner = this.text.slice(this.pos, end).trim();
      const args = inner === '' ? [] : inner.split(',').map((a) => a.trim());
      if (args.length < spec.min || args.length > spec.max) this.fail(`.${name}() takes ${spec.min} to ${spec.max} arguments`, at);
      if (spec.first !== undefined && args[0] !== undefined && !spec.first.has(args[0])) {
        this.fail(`.${name}(${args[0]}) is not one of ${[...spec.first].join(', ')}`, at);
      }
      if (args[1] !== undefined && !/^\d+$/.test(args[1])) this.fail(`.${name}(): second argument must be whole seconds`, at);
      this.pos = end + 1;
      methods.push({ name, args });
    }
    return methods;
  }

  /** `avg(last_5m)`; returns [aggregation, window]. */
  timeAggregation(): [string, string] {
    const at = this.pos;
    const aggregation = this.word();
    if (!TIME_AGGREGATIONS.has(aggregation)) this.fail(`unknown time aggregation "${aggregation}"`, at);
    this.expect('(');
    const windowAt = this.pos;
    const window = this.word();
    if (!WINDOW.test(window)) this.fail(`"${window}" is not a window like last_5m`, windowAt);
    this.expect(')');
    return [aggregation, window];
  }

  comparator(): Comparator {
    for (const c of ['>=', '<=', '>', '<'] as const) {
      if (this.text.startsWith(c, this.pos)) {
        this.pos += c.length;
        return c;
      }
    }
    return this.fail('expected a comparator (>, >=, <, <=)');
  }
}

function parsed(parser: Parser): ParsedExpression {
  const { metrics, functions, references } = parser.result();
  return { metrics, functions, references };
}

/**
 * Parses a dashboard metric query or an arithmetic expression of metric queries.
 * @throws QuerySyntaxError
 */
export function parseMetricExpression(text: string): ParsedExpression {
  const parser = new Parser(text, undefined);
  parser.expression();
  if (!parser.atEnd()) parser.fail('unexpected text');
  return parsed(parser);
}

/**
 * Parses a dashboard formula over the given query names (`dead / processed`).
 * @throws QuerySyntaxError
 */
export function parseFormula(text: string, names: Iterable<string>): ParsedExpression {
  const parser = new Parser(text, new Set(names));
  parser.expression();
  if (!parser.atEnd()) parser.fail('unexpected text');
  return parsed(parser);
}

/**
 * Parses a metric monitor query: `avg(last_5m):<expr> > N`, `change(avg(last_30m),last_1h):<expr> > N`,
 * `pct_change(...)`, or `max(next_1w):forecast(<expr>, 'linear', 1) >= N`.
 * @throws QuerySyntaxError
 */
export function parseMonitorQuery(text: string): ParsedMonitorQuery {
  const parser = new Parser(text, undefined);
  let form: MonitorQueryForm = 'threshold';
  let shift: string | undefined;
  let aggregation: string;
  let window: string;
  if (text.startsWith('change(') || text.startsWith('pct_change(')) {
    form = text.startsWith('change(') ? 'change' : 'pct_change';
    parser.expect(`${form}(`);
    [aggregation, window] = parser.timeAggregation();
    parser.expect(',');
    parser.skipSpace();
    const at = parser.position();
    shift = parser.word();
    if (!WINDOW.test(shift) || !shift.startsWith('last_')) parser.fail(`"${shift}" is not a shift like last_1h`, at);
    parser.expect(')');
  } else {
    [aggregation, window] = parser.timeAggregation();
  }
  parser.expect(':');
  parser.expression();
  parser.skipSpace();
  const comparator = parser.comparator();
  parser.skipSpace();
  const negative = parser.peek() === '-';
  if (negative) parser.expect('-');
  const threshold = (negative ? -1 : 1) * parser.number();
  if (!parser.atEnd()) parser.fail('unexpected text after the threshold');
  const expression = parsed(parser);
  if (window.startsWith('next_')) {
    if (!expression.functions.includes('forecast')) parser.fail(`a "${window}" window needs a forecast(...) query`, 0);
    form = 'forecast';
  } else if (expression.functions.includes('forecast')) {
    parser.fail('forecast(...) monitors evaluate a next_ window, like max(next_1w)', 0);
  }
  return { ...expression, form, timeAggregation: aggregation, window, shift, comparator, threshold };
}
