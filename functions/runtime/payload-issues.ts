/**
 * Readable payload problems from zod issues, read from their structured fields: zod/mini ships no messages ("Invalid
 * input"), and a locale would change zod's configuration process-wide. Values are never quoted (personal data).
 */
import type * as z from 'zod/mini';

type Issue = z.core.$ZodIssue;

/** One problem of a payload: where (`to`, `headers.x-api-key`; empty for the payload itself), and what is wrong. */
export interface PayloadIssue {
  readonly path: string;
  readonly message: string;
}

const GENERIC = 'Invalid input';

function describe(issue: Issue): string {
  if (issue.message && issue.message !== GENERIC) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'invalid_format':
      return `not a valid ${issue.format}`;
    case 'too_small':
      return issue.origin === 'string' || issue.origin === 'array'
        ? `must have ${issue.exact ? 'exactly' : 'at least'} ${String(issue.minimum)} ${issue.origin === 'string' ? 'character(s)' : 'item(s)'}`
        : `must be ${issue.inclusive === false ? 'more than' : 'at least'} ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'string' || issue.origin === 'array'
        ? `must have at most ${String(issue.maximum)} ${issue.origin === 'string' ? 'character(s)' : 'item(s)'}`
        : `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown key(s) ${issue.keys.join(', ')}`;
    case 'invalid_union':
      return 'matches none of the allowed shapes';
    case 'invalid_key':
      return 'has an invalid key';
    case 'invalid_element':
      return 'has an invalid element';
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return issue.message || GENERIC;
  }
}

/** The issues of a failed parse as `{path, message}`, path dotted (`headers.x-api-key`), empty for the root. */
export function payloadIssues(issues: readonly Issue[]): PayloadIssue[] {
  return issues.map((issue) => ({
    path: issue.path.map((key) => (typeof key === 'symbol' ? key.toString() : String(key))).join('.'),
    message: describe(issue),
  }));
}

/**
 * The first `limit` issues as one line, `to: not a valid email; subject: expected string`, for errors and DLQ
 * attributes; with `under`, each path is under that property (`KeySchema.0.KeyType`, `KeySchema` for its root).
 */
export function summarizeIssues(issues: readonly Issue[], { limit = 5, under }: { limit?: number; under?: string } = {}): string {
  return payloadIssues(issues.slice(0, limit))
    .map((issue) => `${[under, issue.path].filter(Boolean).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
