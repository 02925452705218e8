import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import { DEFAULT_RETRY_POLICY, DEFAULT_TIMEOUT_MS, defineJob } from '../../functions/runtime/job.ts';

const schema = z.object({ n: z.number() });
const handler = async (): Promise<void> => undefined;

describe('defineJob', () => {
  it('fills in the default queue, timeout and retry policy', () => {
    const job = defineJob({ type: 'count-things', schema, handler });
    expect(job.queue).toBe('default');
    expect(job.timeoutMs).toBe(DEFAULT_TIMEOUT_MS);
    expect(job.retry).toEqual(DEFAULT_RETRY_POLICY);
    expect(job.idempotency).toBeUndefined();
  });

  it('merges a partial retry policy over the defaults', () => {
    const job = defineJob({ type: 'count-things', schema, handler, retry: { maxAttempts: 2 } });
    expect(job.retry).toEqual({ ...DEFAULT_RETRY_POLICY, maxAttempts: 2 });
  });

  it('turns idempotency: true into the default idempotency options', () => {
    expect(defineJob({ type: 'count-things', schema, handler, idempotency: true }).idempotency).toEqual({});
  });

  it.each([
    ['a type that is not kebab-case', { type: 'Send_Email' }],
    ['a queue name that is not kebab-case', { type: 'x', queue: 'My Queue' }],
    ["the Scheduler dead-letter queue's name as a queue", { type: 'x', queue: 'scheduler' }],
    ['zero attempts', { type: 'x', retry: { maxAttempts: 0 } }],
    ['a cap below the base delay', { type: 'x', retry: { baseDelaySeconds: 10, maxDelaySeconds: 5 } }],
    ['a cap above 12 hours', { type: 'x', retry: { maxDelaySeconds: 50_000 } }],
    ['a negative timeout', { type: 'x', timeoutMs: -1 }],
  ])('refuses %s at definition time', (_, options) => {
    expect(() => defineJob({ schema, handler, ...options } as Parameters<typeof defineJob>[0])).toThrow(ConfigurationError);
  });
});
