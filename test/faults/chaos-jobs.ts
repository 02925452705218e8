/**
 * The chaos job catalog of the fault-injection run: two job types that do what their payload's script says,
 * attempt by attempt, and journal every attempt and every side effect.
 *
 * A payload may also carry `durationMs`: every attempt first works that long (honouring its signal; an abort
 * is journaled and ends the attempt without its side effect).
 *
 * A payload carries `steps`: what attempt n (`ctx.attempt`: the failed runs so far + 1, not the receive count) does is
 * `steps[n - 1]`; an attempt past the end of the script succeeds and runs the side effect.
 * - `retry`: throws an ordinary `Error` (retryable, the policy's backoff);
 * - `retry-after`: throws `RetryableJobError` with `retryAfterSeconds` ({@link RETRY_AFTER_SECONDS}), which wins
 *   over the policy;
 * - `timeout`: waits longer than the job's timeout, honouring its signal (it stops when the signal aborts, without
 *   the side effect), so the worker reports a `JobTimeoutError` and retries;
 * - `permanent`: throws `PermanentJobError` (straight to the DLQ).
 *
 * Both types are idempotent (by the producer's job id), with a short retry policy in whole seconds (SQS
 * visibility is whole seconds) and no jitter, so the delays between attempts can be checked.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod/mini';
import { PermanentJobError, RetryableJobError } from '../../functions/runtime/errors.ts';
import { defineJob, type JobDefinition, type RetryPolicy } from '../../functions/runtime/job.ts';
import type { JournalLine } from './journal.ts';

/** The retry policy of both chaos job types: 1 s, 2 s, 2 s... at most 4 attempts. */
export const CHAOS_RETRY: RetryPolicy = { maxAttempts: 4, baseDelaySeconds: 1, maxDelaySeconds: 2, jitter: 'none' };
/** The job timeout of both chaos job types. */
export const CHAOS_TIMEOUT_MS = 1000;
/** How long a `timeout` step would run if its signal never fired. */
export const TIMEOUT_STEP_MS = 3 * CHAOS_TIMEOUT_MS;
/** The delay a `retry-after` step asks for (more than any policy delay, so it is told apart). */
export const RETRY_AFTER_SECONDS = 3;

/** What one attempt does. */
export const STEPS = ['retry', 'retry-after', 'timeout', 'permanent'] as const;
/** What one attempt does. */
export type Step = (typeof STEPS)[number];

/** The job types. */
export const CHAOS_TASK = 'chaos-task';
export const CHAOS_ORDERED = 'chaos-ordered';
/** Their queues: `default` (standard) and `webhooks` (made FIFO by the run's queue settings). */
export const CHAOS_TASK_QUEUE = 'default';
export const CHAOS_ORDERED_QUEUE = 'webhooks';

/** The payload of both chaos job types. */
export const chaosPayloadSchema = z.object({
  steps: z.array(z.enum(STEPS)).check(z.maxLength(20)),
  /** FIFO only: the message group and the job's place in it. */
  group: z.optional(z.string()),
  seq: z.optional(z.number()),
  /** How long each attempt works before its step (ms). */
  durationMs: z.optional(z.number().check(z.minimum(0), z.maximum(60_000))),
});
/** The payload of both chaos job types. */
export type ChaosPayload = z.infer<typeof chaosPayloadSchema>;

/** Where the chaos jobs write their journal lines. */
export type JournalWriter = (line: JournalLine) => void;

/** The chaos job definitions, journaling through `journal`. */
export function chaosJobs(journal: JournalWriter): readonly JobDefinition[] {
  const run = async (
    payload: ChaosPayload,
    ctx: { signal: AbortSignal; jobId: string | undefined; messageId: string; attempt: number },
  ): Promise<void> => {
    const step = payload.steps[ctx.attempt - 1];
    const where = { jobId: ctx.jobId, messageId: ctx.messageId, attempt: ctx.attempt, group: payload.group, seq: payload.seq };
    journal({ event: 'attempt', at: Date.now(), step: step ?? 'ok', ...where });
    const work = async (ms: number): Promise<void> => {
      try {
        await sleep(ms, undefined, { signal: ctx.signal });
      } catch (error) {
        journal({ event: 'aborted', at: Date.now(), ...where });
        throw error;
      }
    };
    if (payload.durationMs !== undefined) await work(payload.durationMs);
    switch (step) {
      case undefined:
        journal({ event: 'effect', at: Date.now(), ...where });
        return;
      case 'retry':
        throw new Error(`chaos: transient failure on attempt ${ctx.attempt}`);
      case 'retry-after':
        throw new RetryableJobError(`chaos: busy on attempt ${ctx.attempt}`, { retryAfterSeconds: RETRY_AFTER_SECONDS });
      case 'permanent':
        throw new PermanentJobError(`chaos: permanent failure on attempt ${ctx.attempt}`);
      case 'timeout':
        await work(TIMEOUT_STEP_MS);
        // The signal never fired: the worker did not enforce the timeout. Still no side effect.
        throw new Error(`chaos: attempt ${ctx.attempt} ran ${TIMEOUT_STEP_MS} ms past a ${CHAOS_TIMEOUT_MS} ms timeout`);
    }
  };
  const common = { schema: chaosPayloadSchema, timeoutMs: CHAOS_TIMEOUT_MS, retry: CHAOS_RETRY, idempotency: true, handler: run } as const;
  return [
    defineJob({ type: CHAOS_TASK, queue: CHAOS_TASK_QUEUE, ...common }),
    defineJob({ type: CHAOS_ORDERED, queue: CHAOS_ORDERED_QUEUE, ...common }),
  ];
}
