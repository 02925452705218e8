/**
 * Reads the synthesized CloudFormation template (what `cdk synth` writes, what `cdk deploy` creates) and
 * creates the same queues on the local SQS server: local/deployed parity by construction.
 *
 * Read from the template:
 * - `AWS::SQS::Queue`: QueueName, FifoQueue, ContentBasedDeduplication, DeduplicationScope, FifoThroughputLimit,
 *   DelaySeconds, VisibilityTimeout, MessageRetentionPeriod, MaximumMessageSize, ReceiveMessageWaitTimeSeconds,
 *   RedrivePolicy {deadLetterTargetArn: Fn::GetAtt [queue, Arn], maxReceiveCount};
 * - `AWS::Lambda::EventSourceMapping`: EventSourceArn, FunctionName, BatchSize, MaximumBatchingWindowInSeconds,
 *   FunctionResponseTypes, ScalingConfig.MaximumConcurrency, Enabled;
 * - `AWS::Lambda::Function`: Handler (or the wrapped handler in `DD_LAMBDA_HANDLER` when the Datadog
 *   wrapper is in front), Timeout, MemorySize, Environment.Variables (intrinsics resolved against local
 *   resources: `Ref` of a queue is its URL, `Fn::GetAtt` Arn/QueueUrl/QueueName, pseudo parameters, Join, Sub, Select).
 */
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** A template that does not hold what the local environment needs. */
export class TemplateError extends Error {
  override readonly name: string = 'TemplateError';
}

/** CloudFormation's default Lambda timeout (s) and memory (MB), used when the template leaves them out. */
export const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;
export const LAMBDA_DEFAULT_MEMORY_MB = 128;
/** Lambda's default SQS batch size. */
export const SQS_DEFAULT_BATCH_SIZE = 10;

/** The queue attributes read from the template and given to CreateQueue (SQS attribute names). */
export const QUEUE_ATTRIBUTE_PROPERTIES = [
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'DelaySeconds',
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'MaximumMessageSize',
  'ReceiveMessageWaitTimeSeconds',
  'SqsManagedSseEnabled',
] as const;

/** One `AWS::SQS::Queue`. */
export interface TemplateQueue {
  readonly logicalId: string;
  /** QueueName, or a name made from the logical id when the template leaves it to CloudFormation. */
  readonly queueName: string;
  readonly fifo: boolean;
  /** SQS attributes (strings) except RedrivePolicy. */
  readonly attributes: Readonly<Record<string, string>>;
  /** The redrive policy, by the DLQ's logical id. */
  readonly redrive: { readonly deadLetterLogicalId: string; readonly maxReceiveCount: number } | undefined;
  /** RedriveAllowPolicy as written (it may hold intrinsics; resolved when the queue is created). */
  readonly redriveAllowPolicy: unknown;
  /** The resource's Metadata (the stack's `ServerlessJobs: {queue, component}`). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** One `AWS::DynamoDB::Table` (created on the local DynamoDB stand-in). */
export interface TemplateTable {
  readonly logicalId: string;
  /** TableName, or the logical id. */
  readonly tableName: string;
  readonly keySchema: readonly { readonly AttributeName: string; readonly KeyType: 'HASH' | 'RANGE' }[];
  readonly attributeDefinitions: readonly { readonly AttributeName: string; readonly AttributeType: 'S' | 'N' | 'B' }[];
}

/** One `AWS::Lambda::Function`. */
export interface TemplateFunction {
  readonly logicalId: string;
  /** FunctionName, or the logical id. */
  readonly functionName: string;
  /** The handler that runs the code: `index.handler` (the Datadog wrapper's DD_LAMBDA_HANDLER when wrapped). */
  readonly handler: string;
  /** The export the handler string names (`handler` for `index.handler`). */
  readonly exportName: string;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  readonly runtime: string | undefined;
  /** Environment variables as written in the template (strings or intrinsics). */
  readonly environment: Readonly<Record<string, unknown>>;
  /** The resource's Metadata (e.g. `serverless-jobs:entry`, `aws:cdk:path`). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** One `AWS::Lambda::EventSourceMapping` from an SQS queue. */
export interface TemplateMapping {
  readonly logicalId: string;
  readonly queueLogicalId: string;
  readonly functionLogicalId: string;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
  /** ScalingConfig.MaximumConcurrency; undefined = Lambda's own scaling (up to the account's concurrency). */
  readonly maximumConcurrency: number | undefined;
  readonly enabled: boolean;
  /** True when the mapping has FilterCriteria (not emulated locally). */
  readonly hasFilterCriteria: boolean;
}

/** What the local environment takes from a template. */
export interface StackModel {
  readonly queues: readonly TemplateQueue[];
  readonly functions: readonly TemplateFunction[];
  readonly mappings: readonly TemplateMapping[];
  readonly tables: readonly TemplateTable[];
}

/** A queue created on the local server. */
export interface LocalQueue {
  readonly logicalId: string;
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function scalarString(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TemplateError(`${where} must be a literal in the synthesized template, got ${JSON.stringify(value)}`);
}

function wholeNumber(value: unknown, where: string): number {
  const number = Number(scalarString(value, where));
  if (!Number.isInteger(number)) throw new TemplateError(`${where} must be a whole number, got ${JSON.stringify(value)}`);
  return number;
}

/** The logical id an intrinsic `{Ref: X}` or `{Fn::GetAtt: [X, attr]}` points at. */
function referencedId(value: unknown, where: string): { id: string; attribute: string | undefined } {
  if (isObject(value)) {
    if (typeof value.Ref === 'string') return { id: value.Ref, attribute: undefined };
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string' && typeof getAtt[1] === 'string')
      return { id: getAtt[0], attribute: getAtt[1] };
    if (typeof getAtt === 'string' && getAtt.includes('.')) {
      const [id = '', ...rest] = getAtt.split('.');
      return { id, attribute: rest.join('.') };
    }
  }
  throw new TemplateError(`${where} must be a Ref or Fn::GetAtt to a resource of this template, got ${JSON.stringify(value)}`);
}

function localQueueName(logicalId: string, fifo: boolean): string {
  const base = logicalId.slice(0, fifo ? 75 : 80);
  return fifo ? `${base}.fifo` : base;
}

function readQueue(logicalId: string, properties: Json, metadata: Json): TemplateQueue {
  const where = `queue ${logicalId}`;
  const fifo = properties.FifoQueue !== undefined && scalarString(properties.FifoQueue, `${where} FifoQueue`) === 'true';
  const queueName =
    properties.QueueName === undefined ? localQueueName(logicalId, fifo) : scalarString(properties.QueueName, `${where} QueueName`);
  const attributes: Record<string, string> = {};
  for (const key of QUEUE_ATTRIBUTE_PROPERTIES) {
    if (properties[key] !== undefined) attributes[key] = scalarString(properties[key], `${where} ${key}`);
  }
  let redrive: TemplateQueue['redrive'];
  const policy = properties.RedrivePolicy;
  if (policy !== undefined) {
    const parsed: unknown = typeof policy === 'string' ? JSON.parse(policy) : policy;
    if (!isObject(parsed)) throw new TemplateError(`${where} RedrivePolicy must be an object`);
    const target = referencedId(parsed.deadLetterTargetArn, `${where} RedrivePolicy.deadLetterTargetArn`);
    redrive = {
      deadLetterLogicalId: target.id,
      maxReceiveCount: wholeNumber(parsed.maxReceiveCount, `${where} RedrivePolicy.maxReceiveCount`),
    };
  }
  return { logicalId, queueName, fifo, attributes, redrive, redriveAllowPolicy: properties.RedriveAllowPolicy, metadata };
}

function readTable(logicalId: string, properties: Json): TemplateTable {
  const where = `table ${logicalId}`;
  if (!Array.isArray(properties.KeySchema) || !Array.isArray(properties.AttributeDefinitions)) {
    throw new TemplateError(`${where} needs KeySchema and AttributeDefinitions`);
  }
  return {
    logicalId,
    tableName: properties.TableName === undefined ? logicalId : scalarString(properties.TableName, `${where} TableName`),
    keySchema: properties.KeySchema as TemplateTable['keySchema'],
    attributeDefinitions: properties.AttributeDefinitions as TemplateTable['attributeDefinitions'],
  };
}

function readFunction(logicalId: string, properties: Json, metadata: Json): TemplateFunction {
  const where = `function ${logicalId}`;
  const variables = isObject(properties.Environment) && isObject(properties.Environment.Variables) ? properties.Environment.Variables : {};
  const wrapped = variables.DD_LAMBDA_HANDLER;
  const handler = typeof wrapped === 'string' ? wrapped : scalarString(properties.Handler, `${where} Handler`);
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) throw new TemplateError(`${where} Handler "${handler}" is not <file>.<export>`);
  return {
    logicalId,
    functionName: properties.FunctionName === undefined ? logicalId : scalarString(properties.FunctionName, `${where} FunctionName`),
    handler,
    exportName: handler.slice(dot + 1),
    timeoutSeconds: properties.Timeout === undefined ? LAMBDA_DEFAULT_TIMEOUT_SECONDS : wholeNumber(properties.Timeout, `${where} Timeout`),
    memorySize: properties.MemorySize === undefined ? LAMBDA_DEFAULT_MEMORY_MB : wholeNumber(properties.MemorySize, `${where} MemorySize`),
    runtime: typeof properties.Runtime === 'string' ? properties.Runtime : undefined,
    environment: variables,
    metadata,
  };
}

function readMapping(logicalId: string, properties: Json, resources: Json): TemplateMapping | undefined {
  const where = `event source mapping ${logicalId}`;
  const source = referencedId(properties.EventSourceArn, `${where} EventSourceArn`);
  const sourceResource = resources[source.id];
  if (!isObject(sourceResource) || sourceResource.Type !== 'AWS::SQS::Queue') return undefined;
  const target = referencedId(properties.FunctionName, `${where} FunctionName`);
  const responseTypes = Array.isArray(properties.FunctionResponseTypes) ? properties.FunctionResponseTypes : [];
  const scaling = isObject(properties.ScalingConfig) ? properties.ScalingConfig : {};
  return {
    logicalId,
    queueLogicalId: source.id,
    functionLogicalId: target.id,
    batchSize: properties.BatchSize === undefined ? SQS_DEFAULT_BATCH_SIZE : wholeNumber(properties.BatchSize, `${where} BatchSize`),
    maximumBatchingWindowSeconds:
      properties.MaximumBatchingWindowInSeconds === undefined
        ? 0
        : wholeNumber(properties.MaximumBatchingWindowInSeconds, `${where} MaximumBatchingWindowInSeconds`),
    reportBatchItemFailures: responseTypes.includes('ReportBatchItemFailures'),
    maximumConcurrency:
      scaling.MaximumConcurrency === undefined
        ? undefined
        : wholeNumber(scaling.MaximumConcurrency, `${where} ScalingConfig.MaximumConcurrency`),
    enabled: properties.Enabled === undefined || scalarString(properties.Enabled, `${where} Enabled`) === 'true',
    hasFilterCriteria: properties.FilterCriteria !== undefined,
  };
}

/** Reads queues, functions and SQS event source mappings from a synthesized template (parsed JSON). */
export function readTemplate(template: unknown): StackModel {
  if (!isObject(template) || !isObject(template.Resources)) throw new TemplateError('not a CloudFormation template: no Resources');
  const resources = template.Resources;
  const queues: TemplateQueue[] = [];
  const functions: TemplateFunction[] = [];
  const mappings: TemplateMapping[] = [];
  const tables: TemplateTable[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (!isObject(resource)) continue;
    const properties = isObject(resource.Properties) ? resource.Properties : {};
    const metadata = isObject(resource.Metadata) ? resource.Metadata : {};
    switch (resource.Type) {
      case 'AWS::SQS::Queue':
        queues.push(readQueue(logicalId, properties, metadata));
        break;
      case 'AWS::DynamoDB::Table':
        tables.push(readTable(logicalId, properties));
        break;
      case 'AWS::Lambda::Function':
        functions.push(readFunction(logicalId, properties, metadata));
        break;
      case 'AWS::Lambda::EventSourceMapping': {
        const mapping = readMapping(logicalId, properties, resources);
        if (mapping !== undefined) mappings.push(mapping);
        break;
      }
      default:
        break;
    }
  }
  const queueIds = new Set(queues.map((queue) => queue.logicalId));
  const functionIds = new Set(functions.map((fn) => fn.logicalId));
  for (const queue of queues) {
    if (queue.redrive !== undefined && !queueIds.has(queue.redrive.deadLetterLogicalId)) {
      throw new TemplateError(
        `queue ${queue.logicalId} redrives to ${queue.redrive.deadLetterLogicalId}, which is not a queue of this template`,
      );
    }
  }
  for (const mapping of mappings) {
    if (!functionIds.has(mapping.functionLogicalId)) {
      throw new TemplateError(
        `event source mapping ${mapping.logicalId} targets ${mapping.functionLogicalId}, which is not a function of this template`,
      );
    }
  }
  const names = new Set<string>();
  for (const queue of queues) {
    if (names.has(queue.queueName)) throw new TemplateError(`two queues are named ${queue.queueName}`);
    names.add(queue.queueName);
  }
  return { queues, functions, mappings, tables };
}

/** Values of pseudo parameters and resources, for {@link resolveValue}. */
export interface ResolveContext {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  /** Local queues by logical id. */
  readonly queues: ReadonlyMap<string, LocalQueue>;
  /** Other resources' `Ref` values by logical id (function names, table names...). */
  readonly refs?: ReadonlyMap<string, string>;
}

/** A value the local environment cannot compute (a resource that does not exist locally, an import...). */
export class UnresolvableValueError extends TemplateError {
  override readonly name: string = 'UnresolvableValueError';
}

/** Resolves a template value (a literal or an intrinsic function) against local resources. */
export function resolveValue(value: unknown, context: ResolveContext): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (!isObject(value)) throw new UnresolvableValueError(`cannot resolve ${JSON.stringify(value)}`);
  if (typeof value.Ref === 'string') return resolveRef(value.Ref, undefined, context);
  if (value['Fn::GetAtt'] !== undefined) {
    const { id, attribute } = referencedId(value, 'Fn::GetAtt');
    return resolveRef(id, attribute, context);
  }
  const joined = value['Fn::Join'];
  if (Array.isArray(joined) && typeof joined[0] === 'string' && Array.isArray(joined[1])) {
    return joined[1].map((part) => resolveValue(part, context)).join(joined[0]);
  }
  const select = value['Fn::Select'];
  if (Array.isArray(select) && Array.isArray(select[1])) {
    const index = Number(resolveValue(select[0], context));
    const picked: unknown = select[1][index];
    if (picked === undefined) throw new UnresolvableValueError(`Fn::Select index ${index} is out of range`);
    return resolveValue(picked, context);
  }
  const sub = value['Fn::Sub'];
  if (typeof sub === 'string' || Array.isArray(sub)) {
    const text = typeof sub === 'string' ? sub : String(sub[0]);
    const variables = Array.isArray(sub) && isObject(sub[1]) ? sub[1] : {};
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_whole, name: string) => {
      if (variables[name] !== undefined) return resolveValue(variables[name], context);
      const [id = '', ...attribute] = name.split('.');
      return resolveRef(id, attribute.length > 0 ? attribute.join('.') : undefined, context);
    });
  }
  throw new UnresolvableValueError(`cannot resolve ${JSON.stringify(value)} locally`);
}

function resolveRef(id: string, attribute: string | undefined, context: ResolveContext): string {
  switch (id) {
    case 'AWS::Region':
      return context.region;
    case 'AWS::AccountId':
      return context.accountId;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return context.stackName;
    default:
      break;
  }
  const queue = context.queues.get(id);
  if (queue !== undefined) {
    switch (attribute) {
      case undefined:
      case 'QueueUrl':
        return queue.url;
      case 'Arn':
        return queue.arn;
      case 'QueueName':
        return queue.name;
      default:
        throw new UnresolvableValueError(`queue ${id} has no attribute ${attribute} locally`);
    }
  }
  const ref = context.refs?.get(id);
  if (ref !== undefined && attribute === undefined) return ref;
  throw new UnresolvableValueError(`${attribute === undefined ? `Ref ${id}` : `Fn::GetAtt ${id}.${attribute}`} has no local value`);
}

/** A function's environment resolved locally; variables that cannot be resolved are listed, not guessed. */
export function resolveEnvironment(
  fn: TemplateFunction,
  context: ResolveContext,
): { variables: Record<string, string>; unresolved: string[] } {
  const variables: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const [key, value] of Object.entries(fn.environment)) {
    try {
      variables[key] = resolveValue(value, context);
    } catch (error) {
      if (!(error instanceof UnresolvableValueError)) throw error;
      unresolved.push(`${key}: ${error.message}`);
    }
  }
  return { variables, unresolved };
}

/** Resolves every intrinsic inside a JSON value (objects and lists walked). */
export function resolveDeep(value: unknown, context: ResolveContext): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveDeep(item, context));
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]?.startsWith('Fn::'))) return resolveValue(value, context);
  return Object.fromEntries(keys.map((key) => [key, resolveDeep(value[key], context)]));
}

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
