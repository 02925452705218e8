/**
 * Creates the template's queues on the local SQS server with the template's own attributes (dead-letter
 * queues first, redrive policies pointing at the local DLQ ARNs): local/deployed parity by construction.
 */
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { LocalQueue, StackModel, TemplateQueue } from './template.ts';
import { resolveDeep, TemplateError, type ResolveContext } from './template-values.ts';

/**
 * The SQS attributes CreateQueue gets for a template queue: its literal attributes, the RedrivePolicy pointing
 * at the local DLQ's ARN, and the RedriveAllowPolicy with its intrinsics resolved.
 */
function createQueueAttributes(
  queue: TemplateQueue,
  arnOf: (logicalId: string) => string,
  context: ResolveContext,
): Record<string, string> {
  const attributes: Record<string, string> = { ...queue.attributes };
  if (queue.redriveAllowPolicy !== undefined) {
    const policy = resolveDeep(queue.redriveAllowPolicy, context);
    attributes.RedriveAllowPolicy = typeof policy === 'string' ? policy : JSON.stringify(policy);
  }
  if (queue.redrive !== undefined) {
    attributes.RedrivePolicy = JSON.stringify({
      deadLetterTargetArn: arnOf(queue.redrive.deadLetterLogicalId),
      maxReceiveCount: queue.redrive.maxReceiveCount,
    });
  }
  return attributes;
}

/** Creates every queue of the model as the module header says; `server` gives the local URL and ARN of a queue name. */
export async function createLocalQueues(
  model: StackModel,
  sqs: SQSClient,
  server: { queueUrl(name: string): string; queueArn(name: string): string },
  context: Omit<ResolveContext, 'queues'>,
): Promise<Map<string, LocalQueue>> {
  const queues = new Map<string, LocalQueue>(
    model.queues.map(({ logicalId, queueName: name }) => [
      logicalId,
      { logicalId, name, url: server.queueUrl(name), arn: server.queueArn(name) },
    ]),
  );
  const arnOf = (logicalId: string): string => {
    const queue = queues.get(logicalId);
    if (queue === undefined) throw new TemplateError(`no queue ${logicalId}`);
    return queue.arn;
  };
  const resolveContext: ResolveContext = { ...context, queues };
  for (const queue of model.queues.toSorted((a, b) => Number(a.redrive !== undefined) - Number(b.redrive !== undefined))) {
    const output = await sqs.send(
      new CreateQueueCommand({ QueueName: queue.queueName, Attributes: createQueueAttributes(queue, arnOf, resolveContext) }),
    );
    const url = queues.get(queue.logicalId)?.url;
    if (output.QueueUrl !== url)
      throw new TemplateError(`the local server returned ${output.QueueUrl} for ${queue.queueName}, expected ${url}`);
  }
  return queues;
}
