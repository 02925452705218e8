import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { RecordAbort } from '../../../functions/runtime/cancellation.ts';
import { JobTimeoutError, RetryableJobError } from '../../../functions/runtime/errors.ts';
import { defineJob, type JobOptions } from '../../../functions/runtime/job.ts';
import type { Logger } from '../../../functions/runtime/logger.ts';
import { idempotencyLease, runJob, type BeginResult, type IdempotencyStore, type JobRun } from '../../../functions/runtime/run-job.ts';

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** A store that answers `begin` with `answer` and records every call. */
function recordingStore(answer: BeginResult = 'started', options: { failComplete?: boolean } = {}) {
  const calls: string[] = [];
  const store: IdempotencyStore = {
    async begin(key, leaseMs) {
      calls.push(`begin ${key} ${leaseMs}`);
      return answer;
    },
    async complete(key, ttlSeconds) {
      calls.push(`complete ${key} ${ttlSeconds}`);
      if (options.failComplete) throw new Error('throttled');
    },
    async release(key) {
      calls.push(`release ${key}`);
    },
  };
  return { store, calls };
}

function jobRun(
  overrides: Partial<JobOptions<'once', { id: string }>> = {},
  message: { jobId?: string } = { jobId: 'job-1' },
): JobRun & { runs: string[] } {
  const runs: string[] = [];
  const job = defineJob({
    type: 'once',
    schema: z.object({ id: z.string() }),
    idempotency: true,
    timeoutMs: 100,
    handler: async ({ id }) => void runs.push(id),
    ...overrides,
  });
  const cancel = new RecordAbort();
  const context = { signal: cancel.controller.signal, messageId: 'm-1', jobId: message.jobId, attempt: 1, logger: silent };
  return { job, payload: { id: 'x' }, context, cancel, runs };
}

const timing = (remainingMs = 60_000) => ({ safetyMarginMs: 1_000, lambdaContext: { getRemainingTimeInMillis: () => remainingMs } });

describe('the idempotency lease a job takes', () => {
  it('is none without a store: the job runs without deduplication', () => {
    expect(idempotencyLease(jobRun(), undefined, timing())).toBeUndefined();
  });

  it('is none for a job that is not idempotent', () => {
    expect(idempotencyLease(jobRun({ idempotency: false }), recordingStore().store, timing())).toBeUndefined();
  });

  it("is keyed by the job type and the message's job id by default", () => {
    expect(idempotencyLease(jobRun(), recordingStore().store, timing())?.key).toBe('once#job-1');
  });

  it('is none when the message has no job id and the job has no key function', () => {
    expect(idempotencyLease(jobRun({}, {}), recordingStore().store, timing())).toBeUndefined();
  });

  it("uses the job's key function on the payload when it has one", () => {
    const run = jobRun({ idempotency: { key: (payload) => `id-${payload.id}` } });
    expect(idempotencyLease(run, recordingStore().store, timing())?.key).toBe('once#id-x');
  });

  it("lasts the job's timeout plus the safety margin, bounded by the invocation's remaining time, plus 5 s", () => {
    const { store } = recordingStore();
    expect(idempotencyLease(jobRun(), store, timing())?.leaseMs).toBe(100 + 1_000 + 5_000);
    expect(idempotencyLease(jobRun(), store, timing(500))?.leaseMs).toBe(500 + 5_000);
  });

  it('remembers a completion for 7 days unless the job says otherwise', () => {
    const { store } = recordingStore();
    expect(idempotencyLease(jobRun(), store, timing())?.ttlSeconds).toBe(7 * 24 * 3600);
    expect(idempotencyLease(jobRun({ idempotency: { ttlSeconds: 60 } }), store, timing())?.ttlSeconds).toBe(60);
  });
});

describe('running a job', () => {
  it('runs the handler and succeeds when there is no lease', async () => {
    const run = jobRun();
    expect(await runJob(run, undefined)).toBe('success');
    expect(run.runs).toEqual(['x']);
  });

  it('takes the lease, runs the job, then records it as completed', async () => {
    const run = jobRun();
    const { store, calls } = recordingStore('started');
    expect(await runJob(run, idempotencyLease(run, store, timing()))).toBe('success');
    expect(run.runs).toEqual(['x']);
    expect(calls).toEqual(['begin once#job-1 6100', `complete once#job-1 ${7 * 24 * 3600}`]);
  });

  it('acknowledges a job that already completed as a duplicate, without running it', async () => {
    const run = jobRun();
    const { store } = recordingStore('completed');
    expect(await runJob(run, idempotencyLease(run, store, timing()))).toBe('duplicate');
    expect(run.runs).toEqual([]);
  });

  it('fails with a retryable error, without running, while another delivery holds the lease', async () => {
    const run = jobRun();
    const { store } = recordingStore('in_progress');
    await expect(runJob(run, idempotencyLease(run, store, timing()))).rejects.toBeInstanceOf(RetryableJobError);
    expect(run.runs).toEqual([]);
  });

  it('gives the lease back when the job fails, and fails with its error', async () => {
    const run = jobRun({ handler: async () => Promise.reject(new Error('boom')) });
    const { store, calls } = recordingStore('started');
    await expect(runJob(run, idempotencyLease(run, store, timing()))).rejects.toThrow('boom');
    expect(calls.at(-1)).toBe('release once#job-1');
  });

  it('still succeeds when the completion cannot be recorded: the side effect happened', async () => {
    const run = jobRun();
    const { store } = recordingStore('started', { failComplete: true });
    expect(await runJob(run, idempotencyLease(run, store, timing()))).toBe('success');
  });

  it('fails with a JobTimeoutError when the handler runs past its timeout', async () => {
    const run = jobRun({
      handler: (_payload, { signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    });
    await expect(runJob(run, undefined)).rejects.toBeInstanceOf(JobTimeoutError);
  });

  it('gives back a lease that lands after the record was aborted while taking it', async () => {
    const run = jobRun();
    const { promise: landed, resolve: land } = Promise.withResolvers<BeginResult>();
    const released: string[] = [];
    const store: IdempotencyStore = {
      begin: () => landed,
      complete: async () => undefined,
      release: async (key) => void released.push(key),
    };
    const running = runJob(run, idempotencyLease(run, store, timing()));
    run.cancel.abort(new JobTimeoutError('the invocation is about to time out'));
    await expect(running).rejects.toBeInstanceOf(JobTimeoutError);
    land('started');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(released).toEqual(['once#job-1']);
    expect(run.runs).toEqual([]);
  });
});
