/**
 * One rule for physical names (functions/client/queue-names.ts), and every user of it agreeing: the stack's
 * template, the monitoring target and the producer client.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { physicalName, physicalQueueName, stageNamePrefix } from '../../functions/client/queue-names.ts';
import { queueNames } from '../../functions/jobs/catalog.ts';
import { jobQueueLogicalIds } from '../../infra/job-queue.ts';
import { targetFromCatalog } from '../../infra/monitoring/target.ts';
import { synth } from './synth.ts';

describe('physical names', () => {
  it('are serverless-jobs-<stage>-<queue>, -dlq for the dead-letter queue, -worker for the function, .fifo last', () => {
    expect(physicalName('prod', 'webhooks', 'queue')).toBe('serverless-jobs-prod-webhooks');
    expect(physicalName('prod', 'webhooks', 'dead-letter-queue', true)).toBe('serverless-jobs-prod-webhooks-dlq.fifo');
    expect(physicalName('prod', 'webhooks', 'worker')).toBe('serverless-jobs-prod-webhooks-worker');
    expect(physicalQueueName({ stage: 'prod', queue: 'webhooks', deadLetter: true })).toBe('serverless-jobs-prod-webhooks-dlq');
    expect(stageNamePrefix('prod')).toBe('serverless-jobs-prod');
  });

  it('refuse a stage or queue that cannot be part of a name, and a worker name over 64 characters', () => {
    expect(() => physicalName('Prod', 'default', 'queue')).toThrow(RangeError);
    expect(() => physicalName('dev', 'Default', 'queue')).toThrow(/queue "Default" must be lower-case kebab-case/);
    expect(() => physicalName('staging-eu-west1', 'a'.repeat(40), 'worker')).toThrow(/longer than Lambda's 64 characters/);
  });

  it('come from a module without imports, so the client, the CLI and the CDK app load nothing else with them', () => {
    const source = readFileSync(new URL('../../functions/client/queue-names.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/^import /m);
  });

  it('are the names the stack gives its queues, DLQs and workers', () => {
    const { template } = synth({ context: { stage: 'qa' } });
    const resources = template.toJSON().Resources as Record<string, { Properties: Record<string, unknown> }>;
    for (const queue of queueNames) {
      const ids = jobQueueLogicalIds(queue);
      expect(resources[ids.queue]?.Properties.QueueName).toBe(physicalName('qa', queue, 'queue'));
      expect(resources[ids.deadLetterQueue]?.Properties.QueueName).toBe(physicalName('qa', queue, 'dead-letter-queue'));
      expect(resources[ids.worker]?.Properties.FunctionName).toBe(physicalName('qa', queue, 'worker'));
    }
  });

  it('are the names the monitoring queries select', () => {
    for (const q of targetFromCatalog({ env: 'qa' }).queues) {
      expect(q).toMatchObject({
        sqsQueueName: physicalName('qa', q.queue, 'queue'),
        sqsDeadLetterQueueName: physicalName('qa', q.queue, 'dead-letter-queue'),
        functionName: physicalName('qa', q.queue, 'worker'),
      });
    }
  });
});
