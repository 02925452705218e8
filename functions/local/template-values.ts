/**
 * Template values the local environment computes: intrinsic functions (`Ref`, `Fn::GetAtt`, `Fn::Join`,
 * `Fn::Sub`, `Fn::Select`) and pseudo parameters resolved against local resources. `Ref` of a queue is its
 * URL; `Fn::GetAtt` gives Arn, QueueUrl and QueueName. A value with no local meaning is an
 * {@link UnresolvableValueError}, listed by {@link resolveEnvironment}, never guessed.
 */
import type { LocalQueue, TemplateFunction } from './template.ts';

/** A template that does not hold what the local environment needs. */
export class TemplateError extends Error {
  override readonly name: string = 'TemplateError';
}

/** A JSON object of the template. */
export type Json = Record<string, unknown>;

/** Whether `value` is a JSON object (not a list, not null). */
export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` when it is a JSON object, else an empty one. */
export function objectOr(value: unknown): Json {
  return isObject(value) ? value : {};
}

/** One resource of the template: its logical id, Properties and Metadata (empty when left out). */
export interface TemplateResource {
  readonly logicalId: string;
  readonly properties: Json;
  readonly metadata: Json;
}

/** The template's resources of one `Type`, in template order. */
export function resourcesOf(template: unknown, type: string): TemplateResource[] {
  return Object.entries(objectOr(objectOr(template).Resources)).flatMap(([logicalId, resource]) =>
    isObject(resource) && resource.Type === type
      ? [{ logicalId, properties: objectOr(resource.Properties), metadata: objectOr(resource.Metadata) }]
      : [],
  );
}

/** The logical id an intrinsic `{Ref: X}` or `{Fn::GetAtt: [X, attr]}` points at. */
export function referencedId(value: unknown, where: string): { id: string; attribute: string | undefined } {
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
  const pseudo = new Map([
    ['AWS::Region', context.region],
    ['AWS::AccountId', context.accountId],
    ['AWS::Partition', 'aws'],
    ['AWS::URLSuffix', 'amazonaws.com'],
    ['AWS::StackName', context.stackName],
  ]).get(id);
  if (pseudo !== undefined) return pseudo;
  const queue = context.queues.get(id);
  if (queue !== undefined) {
    // `Ref` of a queue is its URL.
    const attributes = new Map([
      ['QueueUrl', queue.url],
      ['Arn', queue.arn],
      ['QueueName', queue.name],
    ]);
    const value = attributes.get(attribute ?? 'QueueUrl');
    if (value === undefined) throw new UnresolvableValueError(`queue ${id} has no attribute ${attribute} locally`);
    return value;
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
