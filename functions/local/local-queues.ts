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
export function createQueueAttributes(
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

/**
 * Creates every queue of the model on the local server with the template's attributes, dead-letter queues
 * first. `server` gives the local URL and ARN of a queue name.
 */
export async function createLocalQueues(
  model: StackModel,
  sqs: SQSClient,
  server: { queueUrl(name: string): string; queueArn(name: string): string },
  context: Omit<ResolveContext, 'queues'>,
): Promise<Map<string, LocalQueue>> {
  const byId = new Map(model.queues.map((queue) => [queue.logicalId, queue]));
  const created = new Map<string, LocalQueue>();
  const arnOf = (logicalId: string): string => {
    const queue = byId.get(logicalId);
    if (queue === undefined) throw new TemplateError(`no queue ${logicalId}`);
    return server.queueArn(queue.queueName);
  };
  const planned = new Map<string, LocalQueue>(
    model.queues.map((queue) => [
      queue.logicalId,
      { logicalId: queue.logicalId, name: queue.queueName, url: server.queueUrl(queue.queueName), arn: server.queueArn(queue.queueName) },
    ]),
  );
  const resolveContext: ResolveContext = { ...context, queues: planned };
  const ordered = model.queues.toSorted((a, b) => Number(a.redrive !== undefined) - Number(b.redrive !== undefined));
  for (const queue of ordered) {
    const output = await sqs.send(
      new CreateQueueCommand({ QueueName: queue.queueName, Attributes: createQueueAttributes(queue, arnOf, resolveContext) }),
    );
    const url = server.queueUrl(queue.queueName);
    if (output.QueueUrl !== url)
      throw new TemplateError(`the local server returned ${output.QueueUrl} for ${queue.queueName}, expected ${url}`);
    created.set(queue.logicalId, { logicalId: queue.logicalId, name: queue.queueName, url, arn: server.queueArn(queue.queueName) });
  }
  return created;
}
