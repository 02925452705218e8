/**
 * Builders for the SQS events and Lambda contexts that tests hand to the worker, in the exact shape
 * Lambda's SQS event source produces.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';

/** Options of one record. */
export interface RecordOptions {
  readonly messageId?: string;
  readonly receiveCount?: number;
  readonly sentTimestamp?: number;
  readonly queueArn?: string;
  readonly groupId?: string;
}

/** The ARN tests use for the source queue unless told otherwise. */
export const TEST_QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:test-default';

/** One SQS record carrying `body` (an object is JSON-encoded; a string is sent as is). */
export function sqsRecord(body: unknown, options: RecordOptions = {}): SQSRecord {
  const messageId = options.messageId ?? randomUUID();
  return {
    messageId,
    receiptHandle: `handle-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(options.sentTimestamp ?? Date.now()),
      SenderId: 'AIDATEST',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      ...(options.groupId === undefined ? {} : { MessageGroupId: options.groupId, MessageDeduplicationId: messageId, SequenceNumber: '1' }),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn ?? TEST_QUEUE_ARN,
    awsRegion: 'us-east-1',
  };
}

/** An SQS event of the given records. */
export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** A job message body. */
export function job(type: string, payload: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type, payload, ...extra };
}

/** A Lambda context whose remaining time counts down from `timeoutMs`. */
export function lambdaContext(timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'serverless-jobs-test-worker',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:serverless-jobs-test-worker',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/serverless-jobs-test-worker',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
