/**
 * Local/deployed parity by construction: the local environment creates its queues from the template the CDK app
 * synthesizes (infra/app.ts, in-process), so the local SQS server holds exactly the template's settings, and a
 * change to a queue option in the stack shows up on the local queue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalEnvironment, type LocalEnvironment, type TemplateSource } from '../../functions/local/environment.ts';
import { synthesizeLocalTemplate } from '../../functions/local/local-synth.ts';
import { readTemplate } from '../../functions/local/template.ts';

const running: { env: LocalEnvironment; dir: string }[] = [];
afterEach(async () => {
  for (const { env, dir } of running.splice(0)) {
    await env.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function start(source: TemplateSource): Promise<LocalEnvironment> {
  const dir = mkdtempSync(join(tmpdir(), 'queue-parity-'));
  const env = await startLocalEnvironment({
    sqsPort: 0,
    dogstatsdPort: 0,
    localDir: dir,
    source,
    startWorkers: false,
    applyToProcessEnv: false,
  });
  running.push({ env, dir });
  return env;
}

type RawQueue = { Type: string; Properties: Record<string, unknown> };

/** Every queue of the raw template with the settings it declares, as SQS attribute strings. */
function templateQueues(template: unknown): Map<string, Record<string, unknown>> {
  const resources = (template as { Resources: Record<string, RawQueue> }).Resources;
  return new Map(
    Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::SQS::Queue')
      .map((resource) => [String(resource.Properties.QueueName), resource.Properties]),
  );
}

function synthesizedTemplate(source: TemplateSource): Promise<unknown> {
  return synthesizeLocalTemplate('synth' in source ? source.synth : {});
}

const ATTRIBUTES = [
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'MaximumMessageSize',
  'ReceiveMessageWaitTimeSeconds',
  'FifoQueue',
  'ContentBasedDeduplication',
  'SqsManagedSseEnabled',
] as const;

interface QueueView {
  readonly attributes: Record<string, string | undefined>;
  readonly redrive: unknown;
  readonly redrivePermission: string | undefined;
}

/** What the template declares for each queue, as the local server should show it. */
function declaredQueues(template: unknown, arnOf: (name: string) => string): Map<string, QueueView> {
  const resources = (template as { Resources: Record<string, RawQueue> }).Resources;
  const views = new Map<string, QueueView>();
  for (const [name, properties] of templateQueues(template)) {
    const redrive = properties.RedrivePolicy as
      | { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] }; maxReceiveCount: number }
      | undefined;
    const dlqName =
      redrive === undefined ? undefined : String(resources[redrive.deadLetterTargetArn['Fn::GetAtt'][0]]?.Properties.QueueName);
    views.set(name, {
      attributes: Object.fromEntries(
        ATTRIBUTES.filter((key) => properties[key] !== undefined).map((key) => [key, String(properties[key])]),
      ),
      redrive:
        redrive === undefined || dlqName === undefined
          ? undefined
          : { deadLetterTargetArn: arnOf(dlqName), maxReceiveCount: redrive.maxReceiveCount },
      redrivePermission: (properties.RedriveAllowPolicy as { redrivePermission?: string } | undefined)?.redrivePermission,
    });
  }
  return views;
}

/** The same view of each queue, read from the local server. */
async function localQueues(env: LocalEnvironment, declared: ReadonlyMap<string, QueueView>): Promise<Map<string, QueueView>> {
  const views = new Map<string, QueueView>();
  for (const [name, expected] of declared) {
    const attributes = (await env.sqs.inspect(name))?.attributes ?? {};
    views.set(name, {
      attributes: Object.fromEntries(Object.keys(expected.attributes).map((key) => [key, attributes[key]])),
      redrive: attributes.RedrivePolicy === undefined ? undefined : JSON.parse(attributes.RedrivePolicy),
      redrivePermission:
        attributes.RedriveAllowPolicy === undefined
          ? undefined
          : (JSON.parse(attributes.RedriveAllowPolicy) as { redrivePermission?: string }).redrivePermission,
    });
  }
  return views;
}

/** Compares each queue on the local server with the template's declaration of it. */
async function expectParity(env: LocalEnvironment, template: unknown): Promise<void> {
  const declared = declaredQueues(template, (name) => env.sqs.queueArn(name));
  expect(declared.size).toBe(5); // two job queues, their DLQs, and the Scheduler's DLQ
  expect(await localQueues(env, declared)).toEqual(declared);
}

describe('queues created from the synthesized stack', () => {
  it('carry exactly the settings of the template', async () => {
    const source: TemplateSource = { synth: {} };
    const [env, template] = await Promise.all([start(source), synthesizedTemplate(source)]);
    await expectParity(env, template);
    expect([...env.queues.keys()].toSorted()).toEqual(['default', 'webhooks']);
  });

  it('follow a queue option changed in the stack', async () => {
    const changed: TemplateSource = {
      synth: {
        queueSettings: {
          webhooks: { retentionPeriodSeconds: 7200, maxReceiveCount: 12, timeoutSeconds: 20, fifo: true, contentBasedDeduplication: true },
        },
      },
    };
    const [env, template] = await Promise.all([start(changed), synthesizedTemplate(changed)]);
    await expectParity(env, template);
    const webhooks = env.queues.get('webhooks');
    expect(webhooks?.name).toBe('serverless-jobs-local-webhooks.fifo');
    const attributes = (await env.sqs.inspect('serverless-jobs-local-webhooks.fifo'))?.attributes;
    expect(attributes).toMatchObject({
      MessageRetentionPeriod: '7200',
      VisibilityTimeout: '120',
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
    });
    expect(JSON.parse(attributes?.RedrivePolicy ?? '{}').maxReceiveCount).toBe(12);
  });

  it('give the workers the batch size, batching window and concurrency of the event source mappings', async () => {
    const source: TemplateSource = {
      synth: { queueSettings: { default: { batchSize: 25, maxBatchingWindowSeconds: 2, maxConcurrency: 3 } } },
    };
    const model = readTemplate(await synthesizedTemplate(source));
    const mapping = model.mappings.find((candidate) => candidate.queueLogicalId === 'DefaultJobQueue');
    expect(mapping).toMatchObject({ batchSize: 25, maximumBatchingWindowSeconds: 2, maximumConcurrency: 3, reportBatchItemFailures: true });
    const worker = model.functions.find((fn) => fn.logicalId === mapping?.functionLogicalId);
    expect(worker).toMatchObject({ handler: 'index.handler', exportName: 'handler', timeoutSeconds: 60, memorySize: 512 });
  });
});
