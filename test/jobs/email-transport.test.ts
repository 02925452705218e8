/**
 * send-email's transport: the RFC 5322 outbox writer (files read back with postal-mime, a real MIME parser),
 * the SES error classification, and the SES path through the real AWS SDK against a local HTTP server that
 * answers like SES v2 (there is no local SES; the stand-in imitates its REST-JSON replies).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AccountSuspendedException,
  BadRequestException,
  InternalServiceErrorException,
  LimitExceededException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  NotFoundException,
  SendingPausedException,
  SESv2ServiceException,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import PostalMime from 'postal-mime';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { PermanentJobError } from '../../functions/runtime/errors.ts';
import type { SendEmailPayload } from '../../functions/jobs/send-email.ts';
import { buildEml, classifySesError, encodeSubject, messageKey, writeOutboxEmail } from '../../functions/jobs/email-transport.ts';
import { jobContext, startRecordingServer } from './job-context.ts';

const FROM = 'Jobs <jobs@mail.example.com>';
const temporaryDirs: string[] = [];

async function outboxDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'outbox-test-'));
  temporaryDirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function writeAndParse(payload: SendEmailPayload, context = jobContext()) {
  const dir = await outboxDir();
  const file = await writeOutboxEmail(dir, payload, context, FROM);
  const raw = await readFile(join(dir, file), 'utf8');
  return { raw, file, dir, parsed: await PostalMime.parse(raw) };
}

describe('the outbox writer', () => {
  it('writes From, To, Subject, Date, Message-ID and MIME-Version headers', async () => {
    const { raw, parsed } = await writeAndParse({ to: 'someone@example.com', subject: 'Your receipt', text: 'Thanks!' });
    expect(parsed.from).toMatchObject({ address: 'jobs@mail.example.com', name: 'Jobs' });
    expect(parsed.to).toEqual([{ address: 'someone@example.com', name: '' }]);
    expect(parsed.subject).toBe('Your receipt');
    expect(parsed.messageId).toBe('<job-job-0001@mail.example.com>');
    expect(Number.isNaN(Date.parse(parsed.date ?? ''))).toBe(false);
    expect(raw).toMatch(/^Date: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000\r$/m);
    expect(raw).toMatch(/^MIME-Version: 1\.0\r$/m);
    expect(parsed.text).toBe('Thanks!\n');
  });

  it('uses CRLF line ends and no line over 998 characters', async () => {
    const { raw } = await writeAndParse({ to: 'a@example.com', subject: 'x', text: `line one\nline two\r${'y'.repeat(5_000)}` });
    expect(raw.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
    for (const line of raw.split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
  });

  it('writes multipart/alternative with the text part first when the payload has text and html', async () => {
    const { raw, parsed } = await writeAndParse({
      to: 'a@example.com',
      subject: 'Both',
      text: 'plain words',
      html: '<p>rich <b>words</b></p>',
    });
    expect(raw).toMatch(/^Content-Type: multipart\/alternative; boundary="[^"]+"\r$/m);
    expect(raw.indexOf('text/plain')).toBeLessThan(raw.indexOf('text/html'));
    expect(parsed.text?.trim()).toBe('plain words');
    expect(parsed.html?.trim()).toBe('<p>rich <b>words</b></p>');
  });

  it('writes a single text/html part for an html-only payload', async () => {
    const { raw, parsed } = await writeAndParse({ to: 'a@example.com', subject: 'Html', html: '<p>hi</p>' });
    expect(raw).not.toContain('multipart');
    expect(raw).toMatch(/^Content-Type: text\/html; charset=utf-8\r$/m);
    expect(parsed.html?.trim()).toBe('<p>hi</p>');
  });

  it('encodes a non-ASCII subject per RFC 2047 and a parser reads it back unchanged', async () => {
    const subject = 'Ihre Bestellung über 12 € ist unterwegs 🚚 — 注文が発送されました、ありがとうございます';
    const { raw, parsed } = await writeAndParse({ to: 'a@example.com', subject, text: 'x' });
    expect(raw).toContain('Subject: =?UTF-8?B?');
    expect(parsed.subject).toBe(subject);
    const headerLines = raw.slice(0, raw.indexOf('\r\n\r\n')).split('\r\n');
    for (const line of headerLines) expect(line.length).toBeLessThanOrEqual(78);
  });

  it('never splits a character across encoded-words', () => {
    const encoded = encodeSubject('€'.repeat(100));
    for (const word of encoded.split('\r\n ')) {
      const base64 = /^=\?UTF-8\?B\?(.*)\?=$/.exec(word)?.[1] ?? '';
      expect(word.length).toBeLessThanOrEqual(75);
      expect(Buffer.from(base64, 'base64').toString('utf8')).toMatch(/^€+$/);
    }
  });

  it('keeps a short ASCII subject readable and encodes a long one', async () => {
    expect(encodeSubject('Hello there')).toBe('Hello there');
    const long = 'word '.repeat(60).trim();
    const { parsed } = await writeAndParse({ to: 'a@example.com', subject: long, text: 'x' });
    expect(parsed.subject).toBe(long);
  });

  it('cannot be made to add a header through the subject', async () => {
    const { parsed } = await writeAndParse({ to: 'a@example.com', subject: 'Hi\r\nBcc: victim@example.com', text: 'x' });
    expect(parsed.bcc ?? []).toEqual([]);
    expect(parsed.headers.map((header) => header.key)).not.toContain('bcc');
  });

  it('writes non-ASCII bodies as base64 and they read back unchanged', async () => {
    const text = 'Grüße aus Köln\nzweite Zeile';
    const { raw, parsed } = await writeAndParse({ to: 'a@example.com', subject: 's', text, html: '<p>Grüße</p>' });
    expect(raw).toContain('Content-Transfer-Encoding: base64');
    expect(parsed.text).toBe(text.replace('\n', '\r\n'));
    expect(parsed.html).toBe('<p>Grüße</p>');
  });

  it('writes the same file for a redelivery of the same job, not a second file', async () => {
    const dir = await outboxDir();
    const payload = { to: 'a@example.com', subject: 'Once', text: 'x' };
    const first = await writeOutboxEmail(dir, payload, jobContext({ jobId: 'order-42', messageId: 'm-1' }), FROM);
    const second = await writeOutboxEmail(dir, payload, jobContext({ jobId: 'order-42', messageId: 'm-2', attempt: 2 }), FROM);
    expect(second).toBe(first);
    expect(await readdir(dir)).toEqual(['job-order-42.eml']);
  });

  it('writes one file per job when two jobs differ', async () => {
    const dir = await outboxDir();
    const payload = { to: 'a@example.com', subject: 'Twice', text: 'x' };
    await writeOutboxEmail(dir, payload, jobContext({ jobId: 'a' }), FROM);
    await writeOutboxEmail(dir, payload, jobContext({ jobId: 'b' }), FROM);
    expect((await readdir(dir)).toSorted()).toEqual(['job-a.eml', 'job-b.eml']);
  });

  it('names the file after the SQS message id when the producer set no job id, and hashes unsafe ids', () => {
    expect(messageKey({ jobId: undefined, messageId: 'abc-123' })).toBe('msg-abc-123');
    expect(messageKey({ jobId: '../../etc/passwd', messageId: 'x' })).toMatch(/^job-[0-9a-f]{64}$/);
    expect(messageKey({ jobId: 'a'.repeat(201), messageId: 'x' })).toMatch(/^job-[0-9a-f]{64}$/);
  });

  it('creates the outbox directory when it is missing', async () => {
    const dir = join(await outboxDir(), 'nested', 'outbox');
    const file = await writeOutboxEmail(dir, { to: 'a@example.com', subject: 's', text: 'x' }, jobContext(), FROM);
    expect(await readdir(dir)).toEqual([file]);
  });

  it('leaves no file at all, partial or temporary, when the write is aborted', async () => {
    const dir = await outboxDir();
    const context = jobContext();
    context.controller.abort();
    await expect(writeOutboxEmail(dir, { to: 'a@example.com', subject: 's', text: 'x'.repeat(100_000) }, context, FROM)).rejects.toThrow(
      /abort/i,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves exactly one complete file when the same job is written many times at once', async () => {
    const dir = await outboxDir();
    const payload = { to: 'a@example.com', subject: 'Race', text: 'x'.repeat(200_000) };
    await Promise.all(Array.from({ length: 20 }, () => writeOutboxEmail(dir, payload, jobContext({ jobId: 'race' }), FROM)));
    expect(await readdir(dir)).toEqual(['job-race.eml']);
    const parsed = await PostalMime.parse(await readFile(join(dir, 'job-race.eml'), 'utf8'));
    expect(parsed.text?.trim()).toBe(payload.text);
  });

  it('refuses to build a message with neither text nor html', () => {
    expect(() => buildEml({ to: 'a@example.com', subject: 's' }, { from: FROM, messageId: '<x@y>', date: new Date() })).toThrow(
      PermanentJobError,
    );
  });
});

describe('deliverEmail with EMAIL_OUTBOX_DIR (read at module load)', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('writes the message into the directory, from EMAIL_FROM, and logs neither address nor content', async () => {
    const dir = await outboxDir();
    vi.stubEnv('EMAIL_OUTBOX_DIR', dir);
    vi.stubEnv('EMAIL_FROM', 'noreply@shop.example.com');
    vi.resetModules();
    const { deliverEmail } = await import('../../functions/jobs/email-transport.ts');
    const context = jobContext({ jobId: 'welcome-7' });
    await deliverEmail({ to: 'private.person@example.com', subject: 'Secret subject', text: 'secret body' }, context);
    const parsed = await PostalMime.parse(await readFile(join(dir, 'job-welcome-7.eml'), 'utf8'));
    expect(parsed.from?.address).toBe('noreply@shop.example.com');
    expect(parsed.to?.[0]?.address).toBe('private.person@example.com');
    const logged = JSON.stringify(context.logger.lines);
    expect(context.logger.lines.length).toBeGreaterThan(0);
    for (const secret of ['private.person@example.com', 'Secret subject', 'secret body']) expect(logged).not.toContain(secret);
  });

  it('defaults the sender to serverless-jobs@localhost', async () => {
    const dir = await outboxDir();
    vi.stubEnv('EMAIL_OUTBOX_DIR', dir);
    vi.stubEnv('EMAIL_FROM', undefined);
    vi.resetModules();
    const { deliverEmail } = await import('../../functions/jobs/email-transport.ts');
    await deliverEmail({ to: 'a@example.com', subject: 's', text: 'x' }, jobContext({ jobId: 'd' }));
    const parsed = await PostalMime.parse(await readFile(join(dir, 'job-d.eml'), 'utf8'));
    expect(parsed.from?.address).toBe('serverless-jobs@localhost');
  });

  it('fails the import when EMAIL_FROM is not a one-line address', async () => {
    vi.stubEnv('EMAIL_FROM', 'a@example.com\r\nBcc: b@example.com');
    vi.resetModules();
    await expect(import('../../functions/jobs/email-transport.ts')).rejects.toThrow(/EMAIL_FROM/);
  });
});

/** The fields the SDK gives an exception it deserialized from an answer with this status. */
const metadata = (httpStatusCode: number) => ({ $metadata: { httpStatusCode, requestId: 'r-1' }, message: 'm' });

describe('SES error classification (mocked SES error shapes: the SDK exception classes, built by hand)', () => {
  it.each([
    ['TooManyRequestsException (429)', new TooManyRequestsException(metadata(429))],
    ['LimitExceededException', new LimitExceededException(metadata(400))],
    ['a ThrottlingException by name', Object.assign(new Error('slow down'), { name: 'ThrottlingException', $fault: 'client' })],
    ['any 429', Object.assign(new Error('x'), { name: 'Whatever', $metadata: { httpStatusCode: 429 } })],
  ])('retries %s as throttled', (_label, error) => {
    expect(classifySesError(error)).toEqual({ kind: 'retry', reason: 'throttled' });
  });

  it.each([
    ['InternalServiceErrorException (500)', new InternalServiceErrorException(metadata(500))],
    ['a 503 service exception', new SESv2ServiceException({ name: 'ServiceUnavailable', $fault: 'server', ...metadata(503) })],
    ['a 502 with no fault', Object.assign(new Error('bad gateway'), { $metadata: { httpStatusCode: 502 } })],
  ])('retries %s as a server error', (_label, error) => {
    expect(classifySesError(error)).toEqual({ kind: 'retry', reason: 'server_error' });
  });

  it.each([
    ['MessageRejected', new MessageRejected(metadata(400))],
    ['MailFromDomainNotVerifiedException', new MailFromDomainNotVerifiedException(metadata(400))],
    ['BadRequestException', new BadRequestException(metadata(400))],
    ['AccountSuspendedException', new AccountSuspendedException(metadata(400))],
    ['SendingPausedException', new SendingPausedException(metadata(400))],
    ['NotFoundException', new NotFoundException(metadata(404))],
  ])('treats %s as permanent', (_label, error) => {
    expect(classifySesError(error)).toEqual({ kind: 'permanent', reason: 'rejected' });
  });

  it.each([
    ['a connection reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a missing region', new Error('Region is missing')],
    ['a thrown string', 'boom'],
    ['undefined', undefined],
  ])('retries %s (no HTTP answer) as a network error', (_label, error) => {
    expect(classifySesError(error)).toEqual({ kind: 'retry', reason: 'network' });
  });
});

describe('deliverEmail through the real SES v2 client, against a local HTTP stand-in that answers like SES', () => {
  type Answer = { status: number; errorType?: string; body: unknown };
  let answer: Answer = { status: 200, body: { MessageId: 'ses-1' } };
  let ses: Awaited<ReturnType<typeof startRecordingServer>>;
  let deliverEmail: typeof import('../../functions/jobs/email-transport.ts').deliverEmail;
  // The transport is imported afresh (its configuration is read at module load), so are the error classes it throws.
  let errors: typeof import('../../functions/runtime/errors.ts');

  beforeAll(async () => {
    ses = await startRecordingServer((_request, response) => {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': 'req-123' };
      if (answer.errorType !== undefined) headers['x-amzn-errortype'] = `${answer.errorType}:http://internal.amazon.com/`;
      response.writeHead(answer.status, headers);
      response.end(JSON.stringify(answer.body));
    });
    vi.stubEnv('EMAIL_OUTBOX_DIR', '');
    vi.stubEnv('EMAIL_FROM', 'sender@mail.example.com');
    vi.stubEnv('AWS_ENDPOINT_URL_SESV2', ses.origin);
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'not-a-secret');
    vi.stubEnv('AWS_MAX_ATTEMPTS', '1');
    vi.resetModules();
    ({ deliverEmail } = await import('../../functions/jobs/email-transport.ts'));
    errors = await import('../../functions/runtime/errors.ts');
  });

  afterEach(() => {
    ses.requests.length = 0;
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    vi.resetModules();
    await ses.close();
  });

  const payload = { to: 'private.person@example.com', subject: 'Grüße', text: 'plain', html: '<p>rich</p>' };

  it('sends simple content in UTF-8 from EMAIL_FROM to the one recipient', async () => {
    answer = { status: 200, body: { MessageId: 'ses-1' } };
    const context = jobContext();
    await deliverEmail(payload, context);
    const [request] = ses.requests;
    expect(request?.url).toBe('/v2/email/outbound-emails');
    expect(JSON.parse(request?.body ?? '')).toEqual({
      FromEmailAddress: 'sender@mail.example.com',
      Destination: { ToAddresses: ['private.person@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: 'Grüße', Charset: 'UTF-8' },
          Body: { Text: { Data: 'plain', Charset: 'UTF-8' }, Html: { Data: '<p>rich</p>', Charset: 'UTF-8' } },
        },
      },
    });
    expect(JSON.stringify(context.logger.lines)).not.toContain('private.person@example.com');
  });

  it('retries when SES answers 429 TooManyRequestsException', async () => {
    answer = { status: 429, errorType: 'TooManyRequestsException', body: { message: 'Too many requests' } };
    const error = await deliverEmail(payload, jobContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.RetryableJobError);
    expect((error as Error).message).toContain('TooManyRequestsException');
  });

  it('retries when SES answers 500', async () => {
    answer = { status: 500, errorType: 'InternalServiceErrorException', body: { message: 'oops' } };
    expect(await deliverEmail(payload, jobContext()).catch((e: unknown) => e)).toBeInstanceOf(errors.RetryableJobError);
  });

  it('is permanent when SES rejects the message, and the error does not quote the address SES named', async () => {
    answer = {
      status: 400,
      errorType: 'MessageRejected',
      body: { message: 'Email address is not verified: private.person@example.com' },
    };
    const error = await deliverEmail(payload, jobContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.PermanentJobError);
    expect((error as Error).message).toContain('MessageRejected');
    expect((error as Error).message).toContain('req-123');
    expect((error as Error).message).not.toContain('private.person@example.com');
    expect((error as Error).cause).toBeUndefined();
  });

  it('stops with a JobTimeoutError when the job signal has aborted', async () => {
    answer = { status: 200, body: { MessageId: 'ses-2' } };
    const context = jobContext();
    context.controller.abort();
    expect(await deliverEmail(payload, context).catch((e: unknown) => e)).toBeInstanceOf(errors.JobTimeoutError);
    expect(ses.requests).toHaveLength(0);
  });
});
