/**
 * Settles a batch with SQS once every record has its verdict. Dead letters first: each dead record goes to the DLQ with
 * its reason attached, and one whose send fails becomes a retry instead, so nothing is lost. Then each retried
 * record's visibility is set to its backoff delay, per queue (a failed change is harmless: the record still comes back,
 * after the queue's own visibility timeout).
 */
import type { SQSRecord } from 'aws-lambda';
import { DEAD_LETTER_ATTRIBUTE } from './dead-letter-attributes.ts';
import { rootLogger } from './logger.ts';
import { remembered } from './remembered.ts';
import type { SourceQueues } from './source-queue.ts';
import type { DeadLetterEntry, SqsActions, VisibilityEntry } from './sqs-actions.ts';
import { receiveCountOf, retryUnsent, type DeadVerdict, type RecordResult } from './verdict.ts';

/** Longest error message kept on a dead-lettered message. */
const MAX_ERROR_ATTRIBUTE_LENGTH = 1024;

/** What settling needs: the SQS calls, the source queue's DLQ, the source queues and a clock (the `failedAt`). */
export interface Settlement {
  readonly sqs: SqsActions;
  readonly deadLetterQueueUrl: string;
  readonly queues: SourceQueues;
  readonly now: () => number;
}

/** Sends the dead letters, then sets the retries' visibility. Resolves with the final results, in order. */
export async function settleBatch(outcomes: readonly RecordResult[], settlement: Settlement): Promise<RecordResult[]> {
  const settled = await sendDeadLetters(outcomes, settlement);
  await delayRetries(settled, settlement);
  return settled;
}

/** The dead letter of one record: its body unchanged, with why it is dead. */
function deadLetter(record: SQSRecord, verdict: DeadVerdict, sourceQueue: string, failedAt: string): DeadLetterEntry {
  const error = `${verdict.error.name}: ${verdict.error.message}`;
  return {
    id: record.messageId,
    body: record.body,
    groupId: record.attributes.MessageGroupId,
    attributes: {
      [DEAD_LETTER_ATTRIBUTE.reason]: verdict.reason,
      [DEAD_LETTER_ATTRIBUTE.error]:
        error.length > MAX_ERROR_ATTRIBUTE_LENGTH ? `${error.slice(0, MAX_ERROR_ATTRIBUTE_LENGTH - 1)}…` : error,
      [DEAD_LETTER_ATTRIBUTE.jobType]: verdict.jobType,
      [DEAD_LETTER_ATTRIBUTE.receiveCount]: String(receiveCountOf(record)),
      [DEAD_LETTER_ATTRIBUTE.sourceQueue]: sourceQueue,
      [DEAD_LETTER_ATTRIBUTE.failedAt]: failedAt,
    },
  };
}

/** Sends every dead record to the DLQ; a record whose send failed comes back as a retry. */
async function sendDeadLetters(outcomes: readonly RecordResult[], settlement: Settlement): Promise<RecordResult[]> {
  const failedAt = new Date(settlement.now()).toISOString();
  const entries = outcomes.flatMap(({ record, verdict }) =>
    verdict.outcome === 'dead' ? [deadLetter(record, verdict, settlement.queues.nameOf(record.eventSourceARN), failedAt)] : [],
  );
  const unsent = await settlement.sqs.sendToDeadLetterQueue(settlement.deadLetterQueueUrl, entries);
  return outcomes.map((outcome) => {
    const { record, verdict, jobId } = outcome;
    if (verdict.outcome !== 'dead' || !unsent.has(record.messageId)) return outcome;
    rootLogger.error('could not send to the dead-letter queue; the record will be retried', { messageId: record.messageId, jobId });
    return { ...outcome, verdict: retryUnsent(verdict) };
  });
}

/** Sets each retried record's visibility timeout to its backoff delay, in one batch of calls per queue. */
async function delayRetries(outcomes: readonly RecordResult[], settlement: Settlement): Promise<void> {
  const byQueue = new Map<string, VisibilityEntry[]>();
  for (const { record, verdict } of outcomes) {
    if (verdict.outcome !== 'retry' || verdict.delaySeconds === undefined) continue;
    const url = settlement.queues.urlOf(record.eventSourceARN);
    if (!url) continue;
    remembered(byQueue, url, () => []).push({
      id: record.messageId,
      receiptHandle: record.receiptHandle,
      visibilityTimeoutSeconds: verdict.delaySeconds,
    });
  }
  await Promise.all([...byQueue].map(([url, entries]) => settlement.sqs.changeVisibility(url, entries)));
}
