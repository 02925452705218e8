/**
 * The order records run in. Standard queues: concurrently, up to a limit. FIFO queues: each message group in order
 * (groups in parallel, up to the limit) and, after a retry verdict, the rest of that group is returned unprocessed, as
 * AWS documents for Lambda with FIFO sources. No record starts once the invocation's deadline has passed.
 */
import type { SQSRecord } from 'aws-lambda';
import type { InvocationDeadline } from './cancellation.ts';
import { RetryableJobError } from './errors.ts';
import { remembered } from './remembered.ts';
import { notStarted, type RecordResult } from './verdict.ts';

/** The records of a batch in the lanes they run in: each FIFO message group in delivery order, else each record alone. */
function lanesOf(records: readonly SQSRecord[]): SQSRecord[][] {
  if (records[0]?.attributes.MessageGroupId === undefined) return records.map((record) => [record]);
  const groups = new Map<string, SQSRecord[]>();
  for (const record of records) remembered(groups, record.attributes.MessageGroupId ?? '', () => []).push(record);
  return [...groups.values()];
}

/** Runs every record of a batch, `concurrency` lanes at once; resolves with their results in the records' order. */
export async function runRecords(
  records: readonly SQSRecord[],
  concurrency: number,
  deadline: InvocationDeadline,
  runRecord: (record: SQSRecord) => Promise<RecordResult>,
): Promise<RecordResult[]> {
  const results = new Map<SQSRecord, RecordResult>();
  const lanes = lanesOf(records);
  const runLane = async (lane: SQSRecord[]): Promise<void> => {
    let blocked = false;
    for (const record of lane) {
      if (blocked) results.set(record, notStarted(record, new RetryableJobError('an earlier message of its group failed')));
      else if (deadline.passed) results.set(record, notStarted(record));
      else {
        const result = await runRecord(record);
        results.set(record, result);
        blocked = result.verdict.outcome === 'retry';
      }
    }
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < lanes.length) await runLane(lanes[next++] as SQSRecord[]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, lanes.length) }, worker));
  return records.map((record) => results.get(record) ?? notStarted(record));
}
