/**
 * The `send-email` transport: Amazon SES v2 in AWS; an RFC 5322 `.eml` file in `EMAIL_OUTBOX_DIR` locally.
 *
 * - Outbox: one file per job, named from the producer's job id (or the SQS message id), so a redelivery
 *   replaces the same file instead of adding a second one; written to a temporary file, synced, then renamed,
 *   so a reader never sees half a message.
 * - SES: ONE client, created on the first send and reused. Throttling, 5xx and network errors retry; any other
 *   4xx (a rejected message, an unverified sender, a paused account) is permanent.
 * - Addresses and content are never logged, nor copied into error messages (SES's own messages can quote the
 *   address, so only the error's name, status and request id are kept).
 *
 * Configuration, read once at module load: `EMAIL_FROM` (sender, default `serverless-jobs@localhost`) and
 * `EMAIL_OUTBOX_DIR` (when set, write files there instead of calling SES).
 */
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigurationError, JobTimeoutError, PermanentJobError, RetryableJobError } from '../runtime/errors.ts';
import type { JobContext } from '../runtime/job.ts';
import type { SendEmailPayload } from './send-email.ts';

/** The sender used when `EMAIL_FROM` is not set. */
export const DEFAULT_EMAIL_FROM = 'serverless-jobs@localhost';

/** What one outbox message needs besides the payload. */
export interface EmlEnvelope {
  /** The `From` header value (an address, or `Name <address>` in ASCII). */
  readonly from: string;
  /** The `Message-ID` header value, with its angle brackets. */
  readonly messageId: string;
  /** The `Date` header's time. */
  readonly date: Date;
}

/** What an SES error means for the job, and a bounded word for why. */
export type SesErrorVerdict =
  | { readonly kind: 'retry'; readonly reason: 'throttled' | 'server_error' | 'network' }
  | { readonly kind: 'permanent'; readonly reason: 'rejected' };

const SES_THROTTLING_NAMES: ReadonlySet<string> = new Set([
  'TooManyRequestsException',
  'LimitExceededException',
  'ThrottlingException',
  'Throttling',
]);

/**
 * Classifies an error thrown by the SES v2 client: throttling (by name or HTTP 429) and server faults (5xx)
 * retry; other client faults (4xx: `MessageRejected`, `MailFromDomainNotVerifiedException`,
 * `BadRequestException`, `AccountSuspendedException`, `SendingPausedException`, ...) are permanent; an error
 * with no HTTP answer at all (network, credentials, abort) retries.
 */
export function classifySesError(error: unknown): SesErrorVerdict {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: unknown };
  };
  const name = typeof shape.name === 'string' ? shape.name : '';
  const status = typeof shape.$metadata?.httpStatusCode === 'number' ? shape.$metadata.httpStatusCode : undefined;
  if (SES_THROTTLING_NAMES.has(name) || status === 429) return { kind: 'retry', reason: 'throttled' };
  if (shape.$fault === 'server' || (status !== undefined && status >= 500)) return { kind: 'retry', reason: 'server_error' };
  if (shape.$fault === 'client' || (status !== undefined && status >= 400 && status < 500))
    return { kind: 'permanent', reason: 'rejected' };
  return { kind: 'retry', reason: 'network' };
}

/**
 * Encodes a `Subject` value for a header line: printable ASCII that fits in 78 characters is kept as is;
 * anything else becomes RFC 2047 UTF-8 "B" encoded-words of at most 75 characters, folded onto continuation
 * lines, never splitting a character.
 */
export function encodeSubject(subject: string): string {
  if (/^[\x20-\x7e]*$/.test(subject) && !subject.includes('=?') && 'Subject: '.length + subject.length <= 78) return subject;
  const words: string[] = [];
  let chunk = '';
  for (const character of subject) {
    // 42 bytes -> 56 base64 characters -> 68 with `=?UTF-8?B?` and `?=` (75 allowed); with `Subject: `, 77 (78 advised).
    if (Buffer.byteLength(chunk + character) > 42) {
      words.push(chunk);
      chunk = '';
    }
    chunk += character;
  }
  if (chunk !== '' || words.length === 0) words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word, 'utf8').toString('base64')}?=`).join('\r\n ');
}

/** One text part: CRLF line ends; 7bit when it is ASCII with short lines, base64 otherwise. */
function mimePart(contentType: 'text/plain' | 'text/html', content: string): { headers: string; body: string } {
  const crlf = content.replace(/\r\n|\r|\n/g, '\r\n');
  const sevenBit = /^[\t\r\n -~]*$/.test(crlf) && crlf.split('\r\n').every((line) => line.length <= 998);
  const headers = `Content-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: ${sevenBit ? '7bit' : 'base64'}`;
  if (sevenBit) return { headers, body: crlf.endsWith('\r\n') ? crlf : `${crlf}\r\n` };
  const encoded = Buffer.from(crlf, 'utf8').toString('base64');
  return { headers, body: `${encoded.replace(/.{1,76}/g, '$&\r\n')}` };
}

/**
 * Builds an RFC 5322 message (CRLF line ends): From, To, Subject (RFC 2047 when needed), Date, Message-ID,
 * MIME-Version; a single text/plain or text/html part, or multipart/alternative (text first, then html) when
 * the payload has both.
 */
export function buildEml(payload: SendEmailPayload, envelope: EmlEnvelope): string {
  const date = envelope.date.toUTCString().replace(/GMT$/, '+0000');
  const head = [
    `From: ${envelope.from}`,
    `To: ${payload.to}`,
    `Subject: ${encodeSubject(payload.subject)}`,
    `Date: ${date}`,
    `Message-ID: ${envelope.messageId}`,
    'MIME-Version: 1.0',
  ].join('\r\n');
  const parts = [
    ...(payload.text === undefined ? [] : [mimePart('text/plain', payload.text)]),
    ...(payload.html === undefined ? [] : [mimePart('text/html', payload.html)]),
  ];
  const [only] = parts;
  if (only === undefined) throw new PermanentJobError('an email needs text or html');
  if (parts.length === 1) return `${head}\r\n${only.headers}\r\n\r\n${only.body}`;
  let boundary: string;
  do {
    boundary = `=_alt_${randomUUID().replaceAll('-', '')}`;
  } while (parts.some((part) => part.body.includes(boundary)));
  const body = parts.map((part) => `--${boundary}\r\n${part.headers}\r\n\r\n${part.body}`).join('');
  return `${head}\r\nContent-Type: multipart/alternative; boundary="${boundary}"\r\n\r\n${body}--${boundary}--\r\n`;
}

/**
 * The name one job's message goes by: `job-<job id>` when the producer set one, else `msg-<SQS message id>`;
 * an id with characters outside `[A-Za-z0-9_-]` (or over 200 of them) is replaced by its SHA-256.
 */
export function messageKey(context: Pick<JobContext, 'jobId' | 'messageId'>): string {
  const [prefix, id] = context.jobId === undefined ? ['msg', context.messageId] : ['job', context.jobId];
  const safe = /^[A-Za-z0-9_-]{1,200}$/.test(id) ? id : createHash('sha256').update(id).digest('hex');
  return `${prefix}-${safe}`;
}

/** The domain of a sender (`a@b.example` or `Name <a@b.example>`), for Message-IDs; `localhost` when unreadable. */
function senderDomain(from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1];
  return domain ?? 'localhost';
}

/**
 * Writes one message into `dir` as `<message key>.eml`, atomically (temporary file, fsync, rename), creating
 * `dir` if it is missing. A redelivery of the same job replaces the same file. Returns the file's name.
 */
export async function writeOutboxEmail(
  dir: string,
  payload: SendEmailPayload,
  context: Pick<JobContext, 'jobId' | 'messageId' | 'signal'>,
  from: string = emailFrom,
): Promise<string> {
  const key = messageKey(context);
  const eml = buildEml(payload, { from, messageId: `<${key}@${senderDomain(from)}>`, date: new Date() });
  await mkdir(dir, { recursive: true });
  const fileName = `${key}.eml`;
  const temporary = join(dir, `.${key}.${process.pid}.${randomUUID()}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o644);
    try {
      await handle.writeFile(eml, { signal: context.signal });
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, join(dir, fileName));
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return fileName;
}

/** Reads `EMAIL_FROM`: one line (a header value), default {@link DEFAULT_EMAIL_FROM}. */
function emailFromEnv(value: string | undefined): string {
  const from = value === undefined || value.trim() === '' ? DEFAULT_EMAIL_FROM : value.trim();
  if (!/^[\x20-\x7e]+$/.test(from) || !from.includes('@')) {
    throw new ConfigurationError('EMAIL_FROM must be an ASCII address or "Name <address>" on one line');
  }
  return from;
}

const emailFrom = emailFromEnv(process.env.EMAIL_FROM);
const outboxDir =
  process.env.EMAIL_OUTBOX_DIR === undefined || process.env.EMAIL_OUTBOX_DIR === '' ? undefined : process.env.EMAIL_OUTBOX_DIR;

let sesClient: SESv2Client | undefined;
/** The module's one SES client, created on first use (local runs that write files never create it). */
function ses(): SESv2Client {
  sesClient ??= new SESv2Client({});
  return sesClient;
}

/** Sends through SES v2 (simple content, UTF-8) and maps its errors onto job errors. */
async function sendWithSes(payload: SendEmailPayload, context: JobContext): Promise<void> {
  const body = {
    ...(payload.text === undefined ? {} : { Text: { Data: payload.text, Charset: 'UTF-8' } }),
    ...(payload.html === undefined ? {} : { Html: { Data: payload.html, Charset: 'UTF-8' } }),
  };
  const command = new SendEmailCommand({
    FromEmailAddress: emailFrom,
    Destination: { ToAddresses: [payload.to] },
    Content: { Simple: { Subject: { Data: payload.subject, Charset: 'UTF-8' }, Body: body } },
  });
  try {
    const result = await ses().send(command, { abortSignal: context.signal });
    context.logger.info('email sent', { sesMessageId: result.MessageId });
  } catch (error) {
    if (context.signal.aborted) {
      throw new JobTimeoutError('SES send stopped: the job deadline passed');
    }
    const verdict = classifySesError(error);
    const described = describeSesError(error);
    if (verdict.kind === 'permanent') throw new PermanentJobError(`SES refused the message: ${described}`);
    throw new RetryableJobError(
      verdict.reason === 'throttled' ? `SES throttled the send: ${described}` : `SES send failed, will retry: ${described}`,
    );
  }
}

/** Name, HTTP status and request id of an SES error: never its message, which can quote the address. */
function describeSesError(error: unknown): string {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
  };
  const name = typeof shape.name === 'string' ? shape.name : 'unknown error';
  const code = typeof shape.code === 'string' ? ` ${shape.code}` : '';
  const status = typeof shape.$metadata?.httpStatusCode === 'number' ? ` (HTTP ${shape.$metadata.httpStatusCode})` : '';
  const requestId = typeof shape.$metadata?.requestId === 'string' ? `, request ${shape.$metadata.requestId}` : '';
  return `${name}${code}${status}${requestId}`;
}

/**
 * Delivers one `send-email` job: an `.eml` file in `EMAIL_OUTBOX_DIR` when it is set, SES v2 otherwise.
 * Throws {@link RetryableJobError} (throttling, 5xx, network) or {@link PermanentJobError} (a refused message).
 */
export async function deliverEmail(payload: SendEmailPayload, context: JobContext): Promise<void> {
  if (outboxDir !== undefined) {
    const file = await writeOutboxEmail(outboxDir, payload, context);
    context.logger.info('email written to the outbox', { file });
    return;
  }
  await sendWithSes(payload, context);
}
