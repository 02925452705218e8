/**
 * The message attributes the worker puts on a dead-lettered message (read back by the `jobs` CLI),
 * in a module of their own so readers need not load the worker runtime.
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
