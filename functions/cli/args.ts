/** Command-line values turned into checked numbers and strings. */
import { UsageError } from './errors.ts';
import type { ParsedValues } from './io.ts';

/** A string option's value, if given. */
export function stringOption(values: ParsedValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A number option's value within [min, max] (whole numbers unless `fraction`), if given. */
export function numberOption(values: ParsedValues, name: string, min: number, max: number, fraction = false): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (!fraction && !Number.isInteger(value)) || value < min || value > max) {
    throw new UsageError(`--${name} must be a ${fraction ? 'number' : 'whole number'} from ${min} to ${max}, got "${text}"`);
  }
  return value;
}
