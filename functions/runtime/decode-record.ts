/**
 * The first stage of a record: decode its JSON body, route it to its job definition and validate its payload. A body
 * that is not a job message, an unknown type or an invalid payload is a dead verdict, never an exception: retrying
 * cannot fix it. A message-supplied type never becomes a tag value (unknown types are `unknown`).
 */
import { InvalidMessageError, InvalidPayloadError, UnknownJobTypeError } from './errors.ts';
import type { JobDefinition } from './job.ts';
import { UNKNOWN_JOB_TYPE } from './metric-names.ts';
import { summarizeIssues } from './payload-issues.ts';
import { dead, type DeadVerdict } from './verdict.ts';

/** Looks up a job definition by type. */
export type FindJob = (type: string) => JobDefinition | undefined;

/** A record that is a job the catalog knows, with a valid payload (as its schema outputs it). */
export interface DecodedJob {
  readonly ok: true;
  readonly job: JobDefinition;
  readonly payload: unknown;
  readonly jobId: string | undefined;
  /** When a delayed or scheduled job was meant to run (ms since epoch, from the body's `scheduledAt`). */
  readonly scheduledAt: number | undefined;
}

/** A record that cannot run: its dead verdict, and its job id when the envelope had one. */
export interface RejectedMessage {
  readonly ok: false;
  readonly verdict: DeadVerdict;
  readonly jobId: string | undefined;
}

/** A message body that is a job: `{type, payload, jobId?, scheduledAt?}`. */
type JobMessage = Omit<DecodedJob, 'ok' | 'job'> & { readonly type: string };

/**
 * Checks the envelope of a parsed body, or says what is wrong with it. Type checks written out rather than a zod
 * schema: this runs for every record, and the schema parse cost more than the rest of the routing together.
 */
function readEnvelope(body: unknown): JobMessage | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body is not a JSON object';
  const { type, payload, jobId, scheduledAt } = body as Record<string, unknown>;
  if (typeof type !== 'string' || type.length === 0 || type.length > 256) return 'type: expected a string of 1 to 256 characters';
  if (jobId !== undefined && (typeof jobId !== 'string' || jobId.length > 256)) return 'jobId: expected a string of at most 256 characters';
  const scheduled = typeof scheduledAt === 'string' ? Date.parse(scheduledAt) : Number.NaN;
  return { type, payload, jobId, scheduledAt: Number.isFinite(scheduled) ? scheduled : undefined };
}

const rejected = (verdict: DeadVerdict, jobId: string | undefined = undefined): RejectedMessage => ({ ok: false, verdict, jobId });

/** Decodes, routes and validates one message body. Never throws. */
export function decodeRecord(body: string, findJob: FindJob): DecodedJob | RejectedMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (syntax) {
    const error = new InvalidMessageError(`body is not JSON: ${syntax instanceof Error ? syntax.message : String(syntax)}`);
    return rejected(dead('invalid_json', UNKNOWN_JOB_TYPE, error));
  }
  const message = readEnvelope(parsed);
  if (typeof message === 'string') {
    const error = new InvalidMessageError(`body is not a job message {type, payload}: ${message}`);
    return rejected(dead('invalid_json', UNKNOWN_JOB_TYPE, error));
  }
  const { jobId } = message;
  const job = findJob(message.type);
  if (!job) {
    const error = new UnknownJobTypeError(`unknown job type "${message.type.slice(0, 64)}"`);
    return rejected(dead('unknown_type', UNKNOWN_JOB_TYPE, error), jobId);
  }
  const payload = job.schema.safeParse(message.payload);
  if (!payload.success) {
    const error = new InvalidPayloadError(`invalid ${job.type} payload: ${summarizeIssues(payload.error.issues)}`);
    return rejected(dead('invalid_payload', job.type, error), jobId);
  }
  return { ok: true, job, payload: payload.data, jobId, scheduledAt: message.scheduledAt };
}
