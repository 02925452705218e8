/**
 * The source queue of a record, from its `eventSourceARN`: its logical name (the `queue` tag and the dead letter's
 * `sourceQueue`) and its URL (for visibility changes). Configured values win; otherwise both are derived from the ARN,
 * once per ARN for the sandbox's life.
 */
import { remembered } from './remembered.ts';
import { queueUrlFromArn } from './sqs-actions.ts';

/** Looks up a record's source queue. */
export interface SourceQueues {
  /** The logical queue name (`JOB_QUEUE`), else the last part of the ARN. */
  nameOf(arn: string): string;
  /** The queue URL (`JOB_QUEUE_URL`), else derived from the ARN; undefined for an ARN that is not an SQS queue's. */
  urlOf(arn: string): string | undefined;
}

/** The source-queue lookup of one processor; `sqsEndpoint` is `AWS_ENDPOINT_URL_SQS` (local runs). */
export function sourceQueues(options: {
  queueName?: string | undefined;
  queueUrl?: string | undefined;
  sqsEndpoint?: string;
}): SourceQueues {
  const names = new Map<string, string>();
  const urls = new Map<string, string | undefined>();
  return {
    nameOf: (arn) => options.queueName || remembered(names, arn, () => arn.split(':').at(-1) ?? 'unknown'),
    urlOf: (arn) => options.queueUrl || remembered(urls, arn, () => queueUrlFromArn(arn, options.sqsEndpoint)),
  };
}
