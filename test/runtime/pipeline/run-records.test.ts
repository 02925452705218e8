import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { InvocationDeadline } from '../../../functions/runtime/cancellation.ts';
import { RetryableJobError } from '../../../functions/runtime/errors.ts';
import { runRecords } from '../../../functions/runtime/run-records.ts';
import type { RecordResult, Verdict } from '../../../functions/runtime/verdict.ts';
import { sqsRecord } from '../../support/lambda.ts';

const ok: Verdict = { outcome: 'success', jobType: 'test-job' };
const failed: Verdict = { outcome: 'retry', jobType: 'test-job', error: new Error('boom'), delaySeconds: 10, ran: true };

/** Runs records whose body says `ok` or `fail`, recording the order they started in. */
function runner() {
  const started: string[] = [];
  const run = async (record: SQSRecord): Promise<RecordResult> => {
    started.push(record.messageId);
    await new Promise((resolve) => setTimeout(resolve, 1));
    return { record, verdict: record.body === 'fail' ? failed : ok, jobId: undefined, startedAt: 0, durationMs: 1 };
  };
  return { started, run };
}

async function withDeadline<T>(inMs: number, body: (deadline: InvocationDeadline) => Promise<T>): Promise<T> {
  const deadline = new InvocationDeadline(inMs);
  try {
    return await body(deadline);
  } finally {
    deadline.clear();
  }
}

describe('the order records run in', () => {
  it('returns the results in the order of the records', async () => {
    const { run } = runner();
    const records = ['ok', 'fail', 'ok'].map((body, i) => sqsRecord(body, { messageId: `m${i}` }));
    const results = await withDeadline(60_000, (deadline) => runRecords(records, 3, deadline, run));
    expect(results.map((r) => [r.record.messageId, r.verdict.outcome])).toEqual([
      ['m0', 'success'],
      ['m1', 'retry'],
      ['m2', 'success'],
    ]);
  });

  it('starts no record once the deadline has passed, and retries those at once', async () => {
    const { run, started } = runner();
    const records = [sqsRecord('ok'), sqsRecord('ok')];
    const results = await withDeadline(0, async (deadline) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return runRecords(records, 1, deadline, run);
    });
    expect(started).toEqual([]);
    expect(results.map((r) => r.verdict)).toMatchObject([
      { outcome: 'retry', delaySeconds: 0 },
      { outcome: 'retry', delaySeconds: 0 },
    ]);
  });

  it('returns the rest of a FIFO group unprocessed after a retry, while other groups go on', async () => {
    const { run, started } = runner();
    const records = [
      sqsRecord('ok', { messageId: 'a1', groupId: 'a' }),
      sqsRecord('fail', { messageId: 'a2', groupId: 'a' }),
      sqsRecord('ok', { messageId: 'a3', groupId: 'a' }),
      sqsRecord('ok', { messageId: 'b1', groupId: 'b' }),
    ];
    const results = await withDeadline(60_000, (deadline) => runRecords(records, 2, deadline, run));
    expect(started.toSorted()).toEqual(['a1', 'a2', 'b1']);
    const a3 = results[2]?.verdict;
    expect(a3).toMatchObject({ outcome: 'retry', delaySeconds: 0 });
    expect(a3?.outcome === 'retry' && a3.error).toBeInstanceOf(RetryableJobError);
  });

  it('runs the records of one FIFO group one after another', async () => {
    let running = 0;
    let peak = 0;
    const records = Array.from({ length: 4 }, (_, i) => sqsRecord('ok', { messageId: `g${i}`, groupId: 'g' }));
    await withDeadline(60_000, (deadline) =>
      runRecords(records, 4, deadline, async (record) => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 2));
        running -= 1;
        return { record, verdict: ok, jobId: undefined, startedAt: 0, durationMs: 2 };
      }),
    );
    expect(peak).toBe(1);
  });
});
