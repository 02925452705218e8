/**
 * Reads what the local environment runs from the synthesized CloudFormation template (what `cdk synth`
 * writes, what `cdk deploy` creates): queues (QueueName, {@link QUEUE_ATTRIBUTE_PROPERTIES}, RedrivePolicy),
 * SQS event source mappings, functions (Handler, or `DD_LAMBDA_HANDLER` behind the Datadog wrapper; Timeout,
 * MemorySize, Environment.Variables as written: template-values.ts resolves them) and DynamoDB tables.
 * A value the local environment needs as a literal and finds as an intrinsic, or a table's KeySchema or
 * AttributeDefinitions in another shape than DynamoDB's, is a {@link TemplateError} naming the resource and property.
 */
import * as z from 'zod/mini';
import { summarizeIssues } from '../runtime/payload-issues.ts';
import { isObject, objectOr, referencedId, resourcesOf, TemplateError, type Json, type TemplateResource } from './template-values.ts';

/** CloudFormation's default Lambda timeout (s) and memory (MB), used when the template leaves them out. */
const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;
const LAMBDA_DEFAULT_MEMORY_MB = 128;
/** Lambda's default SQS batch size. */
const SQS_DEFAULT_BATCH_SIZE = 10;

/** The queue attributes read from the template and given to CreateQueue (SQS attribute names). */
const QUEUE_ATTRIBUTE_PROPERTIES = [
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

/** `properties[key]` as a whole number, or `fallback` when the template leaves it out. */
function wholeOr<T>(properties: Json, key: string, where: string, fallback: T): number | T {
  return properties[key] === undefined ? fallback : wholeNumber(properties[key], `${where} ${key}`);
}

function localQueueName(logicalId: string, fifo: boolean): string {
  const base = logicalId.slice(0, fifo ? 75 : 80);
  return fifo ? `${base}.fifo` : base;
}

function readQueue({ logicalId, properties, metadata }: TemplateResource): TemplateQueue {
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

const attributeName = z.string().check(z.minLength(1));
/** A table's KeySchema as DynamoDB takes it: one or two key attributes, each HASH or RANGE. */
const KEY_SCHEMA = z
  .array(z.object({ AttributeName: attributeName, KeyType: z.enum(['HASH', 'RANGE']) }))
  .check(z.minLength(1), z.maxLength(2));
/** A table's AttributeDefinitions: each key attribute's name and type. */
const ATTRIBUTE_DEFINITIONS = z
  .array(z.object({ AttributeName: attributeName, AttributeType: z.enum(['S', 'N', 'B']) }))
  .check(z.minLength(1));

/** `value` checked against `schema`; else a {@link TemplateError} naming the resource, the property and what is wrong. */
function checked<T>(schema: z.ZodMiniType<T>, value: unknown, where: string, property: string): T {
  const parsed = z.safeParse(schema, value);
  if (parsed.success) return parsed.data;
  throw new TemplateError(`${where} ${summarizeIssues(parsed.error.issues, { limit: 3, under: property })}`);
}

function readTable({ logicalId, properties }: TemplateResource): TemplateTable {
  const where = `table ${logicalId}`;
  if (properties.KeySchema === undefined || properties.AttributeDefinitions === undefined) {
    throw new TemplateError(`${where} needs KeySchema and AttributeDefinitions`);
  }
  const keySchema = checked(KEY_SCHEMA, properties.KeySchema, where, 'KeySchema');
  const attributeDefinitions = checked(ATTRIBUTE_DEFINITIONS, properties.AttributeDefinitions, where, 'AttributeDefinitions');
  const undefinedKey = keySchema.find((key) => !attributeDefinitions.some((definition) => definition.AttributeName === key.AttributeName));
  if (undefinedKey !== undefined) {
    throw new TemplateError(`${where} KeySchema names ${undefinedKey.AttributeName}, which AttributeDefinitions does not define`);
  }
  return {
    logicalId,
    tableName: properties.TableName === undefined ? logicalId : scalarString(properties.TableName, `${where} TableName`),
    keySchema,
    attributeDefinitions,
  };
}

function readFunction({ logicalId, properties }: TemplateResource): TemplateFunction {
  const where = `function ${logicalId}`;
  const variables = objectOr(objectOr(properties.Environment).Variables);
  const wrapped = variables.DD_LAMBDA_HANDLER;
  const handler = typeof wrapped === 'string' ? wrapped : scalarString(properties.Handler, `${where} Handler`);
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) throw new TemplateError(`${where} Handler "${handler}" is not <file>.<export>`);
  return {
    logicalId,
    functionName: properties.FunctionName === undefined ? logicalId : scalarString(properties.FunctionName, `${where} FunctionName`),
    handler,
    exportName: handler.slice(dot + 1),
    timeoutSeconds: wholeOr(properties, 'Timeout', where, LAMBDA_DEFAULT_TIMEOUT_SECONDS),
    memorySize: wholeOr(properties, 'MemorySize', where, LAMBDA_DEFAULT_MEMORY_MB),
    runtime: typeof properties.Runtime === 'string' ? properties.Runtime : undefined,
    environment: variables,
  };
}

function readMapping({ logicalId, properties }: TemplateResource, resources: Json): TemplateMapping[] {
  const where = `event source mapping ${logicalId}`;
  const source = referencedId(properties.EventSourceArn, `${where} EventSourceArn`);
  const sourceResource = resources[source.id];
  if (!isObject(sourceResource) || sourceResource.Type !== 'AWS::SQS::Queue') return [];
  const target = referencedId(properties.FunctionName, `${where} FunctionName`);
  const responseTypes = Array.isArray(properties.FunctionResponseTypes) ? properties.FunctionResponseTypes : [];
  const scaling = objectOr(properties.ScalingConfig);
  const mapping: TemplateMapping = {
    logicalId,
    queueLogicalId: source.id,
    functionLogicalId: target.id,
    batchSize: wholeOr(properties, 'BatchSize', where, SQS_DEFAULT_BATCH_SIZE),
    maximumBatchingWindowSeconds: wholeOr(properties, 'MaximumBatchingWindowInSeconds', where, 0),
    reportBatchItemFailures: responseTypes.includes('ReportBatchItemFailures'),
    maximumConcurrency: wholeOr(scaling, 'MaximumConcurrency', `${where} ScalingConfig`, undefined),
    enabled: properties.Enabled === undefined || scalarString(properties.Enabled, `${where} Enabled`) === 'true',
    hasFilterCriteria: properties.FilterCriteria !== undefined,
  };
  return [mapping];
}

/** Reads queues, functions and SQS event source mappings from a synthesized template (parsed JSON). */
export function readTemplate(template: unknown): StackModel {
  if (!isObject(template) || !isObject(template.Resources)) throw new TemplateError('not a CloudFormation template: no Resources');
  const resources = template.Resources;
  const model: StackModel = {
    queues: resourcesOf(template, 'AWS::SQS::Queue').map((resource) => readQueue(resource)),
    functions: resourcesOf(template, 'AWS::Lambda::Function').map((resource) => readFunction(resource)),
    mappings: resourcesOf(template, 'AWS::Lambda::EventSourceMapping').flatMap((resource) => readMapping(resource, resources)),
    tables: resourcesOf(template, 'AWS::DynamoDB::Table').map((resource) => readTable(resource)),
  };
  checkReferences(model);
  return model;
}

/** Every redrive targets a queue of the template, every mapping a function; no two queues share a name. */
function checkReferences({ queues, functions, mappings }: StackModel): void {
  const queueIds = new Set(queues.map((queue) => queue.logicalId));
  const functionIds = new Set(functions.map((fn) => fn.logicalId));
  for (const queue of queues) {
    const target = queue.redrive?.deadLetterLogicalId;
    if (target !== undefined && !queueIds.has(target))
      throw new TemplateError(`queue ${queue.logicalId} redrives to ${target}, which is not a queue of this template`);
  }
  const mapping = mappings.find((candidate) => !functionIds.has(candidate.functionLogicalId));
  if (mapping !== undefined) {
    throw new TemplateError(
      `event source mapping ${mapping.logicalId} targets ${mapping.functionLogicalId}, which is not a function of this template`,
    );
  }
  const twice = queues.find((queue, index) => queues.findIndex((other) => other.queueName === queue.queueName) !== index);
  if (twice !== undefined) throw new TemplateError(`two queues are named ${twice.queueName}`);
}
