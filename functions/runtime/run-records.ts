/**
 * The order records run in. Standard queues: concurrently, up to a limit. FIFO queues: each message group in
 * order (groups in parallel, up to the limit) and, after a retry verdict, the rest of that group is returned
 * unprocessed, as AWS documents for Lambda with FIFO sources. No record starts once the invocation's deadline
 * has passed.
 */
import type { SQSRecord } from 'aws-lambda';
import type { InvocationDeadline } from './cancellation.ts';
import { RetryableJobError } from './errors.ts';
import { notStarted, type RecordResult } from './verdict.ts';

/** Runs one record to its result; never rejects. */
export type RunRecord = (record: SQSRecord) => Promise<RecordResult>;

/** Runs `worker` over `items` with at most `limit` at once. */
async function runPool<T>(items: readonly T[], limit: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await worker(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** The records of a FIFO batch by message group, each group in its delivery order. */
function messageGroups(records: readonly SQSRecord[]): SQSRecord[][] {
  const groups = new Map<string, SQSRecord[]>();
  for (const record of records) {
    const id = record.attributes.MessageGroupId ?? '';
    let group = groups.get(id);
    if (!group) groups.set(id, (group = []));
    group.push(record);
  }
  return [...groups.values()];
}

/** Runs every record of a batch; resolves with their results in the records' order. */
export async function runRecords(
  records: readonly SQSRecord[],
  concurrency: number,
  deadline: InvocationDeadline,
  runRecord: RunRecord,
): Promise<RecordResult[]> {
  const results = new Map<SQSRecord, RecordResult>();
  const fifo = records.length > 0 && records[0]?.attributes.MessageGroupId !== undefined;
  if (fifo) {
    await runPool(messageGroups(records), concurrency, async (group) => {
      let blocked = false;
      for (const record of group) {
        if (blocked || deadline.passed) {
          results.set(
            record,
            blocked ? notStarted(record, new RetryableJobError('an earlier message of its group failed')) : notStarted(record),
          );
          continue;
        }
        const result = await runRecord(record);
        results.set(record, result);
        if (result.verdict.outcome === 'retry') blocked = true;
      }
    });
  } else {
    await runPool(records, concurrency, async (record) => {
      results.set(record, deadline.passed ? notStarted(record) : await runRecord(record));
    });
  }
  return records.map((record) => results.get(record) ?? notStarted(record));
}
