/**
 * The source queue of a record, from its `eventSourceARN`: its logical name (the `queue` tag and the dead letter's
 * `sourceQueue`) and its URL (for visibility changes). Configured values win; otherwise both are derived from the
 * ARN once per ARN and cached for the sandbox's life.
 */
import { queueUrlFromArn } from './sqs-actions.ts';

/** Looks up a record's source queue. */
export interface SourceQueues {
  /** The logical queue name (`JOB_QUEUE`), else the last part of the ARN. */
  nameOf(arn: string): string;
  /** The queue URL (`JOB_QUEUE_URL`), else derived from the ARN; undefined for an ARN that is not an SQS queue's. */
  urlOf(arn: string): string | undefined;
}

/** Options of {@link sourceQueues}. */
export interface SourceQueueOptions {
  readonly queueName?: string | undefined;
  readonly queueUrl?: string | undefined;
  /** `AWS_ENDPOINT_URL_SQS`, for local runs. */
  readonly sqsEndpoint?: string | undefined;
}

/** The source-queue lookup of one processor. */
export function sourceQueues({ queueName, queueUrl, sqsEndpoint }: SourceQueueOptions): SourceQueues {
  const nameByArn = new Map<string, string>();
  const urlByArn = new Map<string, string | undefined>();
  return {
    nameOf(arn) {
      if (queueName) return queueName;
      let name = nameByArn.get(arn);
      if (name === undefined) {
        name = arn.split(':').at(-1) ?? 'unknown';
        nameByArn.set(arn, name);
      }
      return name;
    },
    urlOf(arn) {
      if (queueUrl) return queueUrl;
      if (!urlByArn.has(arn)) urlByArn.set(arn, queueUrlFromArn(arn, sqsEndpoint));
      return urlByArn.get(arn);
    },
  };
}
