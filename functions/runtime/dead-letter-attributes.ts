/**
 * The message attributes the worker puts on a dead-lettered message (read back by the `jobs` CLI),
 * in a module of their own so readers need not load the worker runtime, and how string attributes are sent.
 */
/** Attribute names: why a message is in the dead-letter queue. */
export const DEAD_LETTER_ATTRIBUTE = {
  reason: 'reason',
  error: 'error',
  jobType: 'jobType',
  receiveCount: 'receiveCount',
  sourceQueue: 'sourceQueue',
  failedAt: 'failedAt',
} as const;

/** String attributes as SQS `MessageAttributes` (DataType String). */
export function stringMessageAttributes(
  attributes: Readonly<Record<string, string>>,
): Record<string, { DataType: 'String'; StringValue: string }> {
  return Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key, { DataType: 'String', StringValue: value }]));
}
