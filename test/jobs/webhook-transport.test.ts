/**
 * deliver-webhook's transport against a real HTTP server on 127.0.0.1 (port 0): how each answer is
 * classified, what is sent, and that timers and sockets are let go. The SSRF guard is off here
 * (`allowPrivateNetworks`, what `WEBHOOK_ALLOW_PRIVATE_NETWORKS=1` sets); network-guard.test.ts tests it on.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, JobTimeoutError, PermanentJobError, RetryableJobError } from '../../functions/runtime/errors.ts';
import { deliverWebhookSchema } from '../../functions/jobs/deliver-webhook.ts';
import type { WebhookTransport } from '../../functions/jobs/webhook-transport.ts';
import { classifyResponse, createWebhookTransport, parseRetryAfter } from '../../functions/jobs/webhook-transport.ts';
import { jobContext, startRecordingServer, TEST_TLS } from './job-context.ts';

type Server = Awaited<ReturnType<typeof startRecordingServer>>;

let server: Server;
let transport: WebhookTransport;
const hanging = new Set<() => void>();
/** Bytes the `/endless` route has written so far. */
let endlessBytesWritten = 0;

beforeAll(async () => {
  server = await startRecordingServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    const [, route, code] = url.pathname.split('/');
    if (route === 'slow') {
      hanging.add(() => response.end());
      return;
    }
    if (route === 'endless') {
      // Writes until the client goes away: only a reader that stops at its limit gets to the end of the delivery.
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(16 * 1024, 0x62);
      const write = (): void => {
        if (response.destroyed || response.writableEnded) return;
        endlessBytesWritten += chunk.byteLength;
        response.write(chunk, () => setImmediate(write));
      };
      write();
      return;
    }
    if (route === 'big') {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(Buffer.alloc(1024 * 1024, 0x61));
      return;
    }
    const status = Number(code);
    const headers: Record<string, string> = { 'content-type': 'text/plain' };
    const retryAfter = url.searchParams.get('retry-after');
    if (retryAfter !== null) headers['retry-after'] = retryAfter;
    if (status >= 300 && status < 400) headers.location = `${server.origin}/status/200`;
    response.writeHead(status, headers);
    response.end(status === 204 ? undefined : 'secret-response-body');
  });
  transport = createWebhookTransport({ allowPrivateNetworks: true, timeoutMs: 1_000 });
});

afterEach(() => {
  for (const release of hanging) release();
  hanging.clear();
  server.requests.length = 0;
});

afterAll(async () => {
  await transport.close();
  await server.close();
});

/** What `deliver` threw (fails the test when it resolved). */
async function failure(promise: Promise<void>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the delivery to fail');
}

describe('what is sent', () => {
  it('posts an object body as JSON with content-type application/json', async () => {
    await transport.deliver({ url: `${server.origin}/status/200`, body: { event: 'paid', amount: 12 } }, jobContext());
    const [request] = server.requests;
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request?.body ?? '')).toEqual({ event: 'paid', amount: 12 });
  });

  it('sends a string body as is, with the given method and headers', async () => {
    await transport.deliver(
      {
        url: `${server.origin}/status/200`,
        method: 'PUT',
        body: 'a=1&b=2',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-signature': 'abc' },
      },
      jobContext(),
    );
    const [request] = server.requests;
    expect(request?.method).toBe('PUT');
    expect(request?.body).toBe('a=1&b=2');
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request?.headers['x-signature']).toBe('abc');
  });

  it('keeps a caller-set content type for a JSON body', async () => {
    await transport.deliver(
      { url: `${server.origin}/status/200`, body: [1, 2], headers: { 'Content-Type': 'application/vnd.api+json' } },
      jobContext(),
    );
    expect(server.requests[0]?.headers['content-type']).toBe('application/vnd.api+json');
  });

  it('sends a GET without a body', async () => {
    await transport.deliver({ url: `${server.origin}/status/200?ping=1`, method: 'GET' }, jobContext());
    expect(server.requests[0]).toMatchObject({ method: 'GET', url: '/status/200?ping=1', body: '' });
  });

  it('refuses a GET with a body in the payload schema, before anything is sent', () => {
    const result = deliverWebhookSchema.safeParse({ url: 'https://hooks.example.com/x', method: 'GET', body: 'x' });
    expect(result.success).toBe(false);
  });

  it('refuses an invalid header name as a permanent error that does not quote the headers', async () => {
    const error = await failure(
      transport.deliver({ url: `${server.origin}/status/200`, headers: { 'bad header': 'token-123' } }, jobContext()),
    );
    expect(error).toBeInstanceOf(PermanentJobError);
    expect(error.message).not.toContain('token-123');
    expect(server.requests).toHaveLength(0);
  });

  it('sets Host and Content-Length itself, from the URL and the UTF-8 body, whatever the caller sends', async () => {
    await transport.deliver(
      { url: `${server.origin}/status/200`, body: 'héllo 😀', headers: { Host: 'internal.example', 'Content-Length': '2' } },
      jobContext(),
    );
    const [request] = server.requests;
    expect(request?.headers.host).toBe(new URL(server.origin).host);
    expect(request?.headers['content-length']).toBe(String(Buffer.byteLength('héllo 😀')));
    expect(request?.body).toBe('héllo 😀');
  });

  it.each(['Transfer-Encoding', 'Expect', 'Upgrade', 'Keep-Alive'])(
    'refuses a %s header (it would change how the request is framed) as permanent, before anything is sent',
    async (name) => {
      const error = await failure(
        transport.deliver({ url: `${server.origin}/status/200`, body: 'x', headers: { [name]: 'secret-value' } }, jobContext()),
      );
      expect(error).toBeInstanceOf(PermanentJobError);
      expect(error.message).not.toContain('secret-value');
      expect(server.requests).toHaveLength(0);
    },
  );

  it('refuses a URL with a user name and password as permanent, without quoting them, before anything is sent', async () => {
    const url = new URL(`${server.origin}/status/200`);
    url.username = 'user';
    url.password = 'pa55word';
    const error = await failure(transport.deliver({ url: url.href }, jobContext()));
    expect(error).toBeInstanceOf(PermanentJobError);
    expect(error.message).not.toContain('pa55word');
    expect(server.requests).toHaveLength(0);
  });
});

describe('how answers are classified', () => {
  it.each([200, 204])('succeeds on %i', async (status) => {
    await expect(transport.deliver({ url: `${server.origin}/status/${status}` }, jobContext())).resolves.toBeUndefined();
  });

  it('treats a 301 as permanent and does not follow it', async () => {
    const error = await failure(transport.deliver({ url: `${server.origin}/status/301` }, jobContext()));
    expect(error).toBeInstanceOf(PermanentJobError);
    expect(error.message).toContain('301');
    expect(server.requests.map((request) => request.url)).toEqual(['/status/301']);
  });

  it.each([400, 404, 410, 422])('treats %i as permanent, naming the status and not the body', async (status) => {
    const error = await failure(transport.deliver({ url: `${server.origin}/status/${status}` }, jobContext()));
    expect(error).toBeInstanceOf(PermanentJobError);
    expect(error).not.toBeInstanceOf(RetryableJobError);
    expect(error.message).toContain(String(status));
    expect(error.message).not.toContain('secret-response-body');
  });

  it.each([408, 500, 502, 503, 504])('retries %i', async (status) => {
    const error = await failure(transport.deliver({ url: `${server.origin}/status/${status}` }, jobContext()));
    expect(error).toBeInstanceOf(RetryableJobError);
    expect(error.message).toContain(String(status));
    expect((error as RetryableJobError).retryAfterSeconds).toBeUndefined();
  });

  it('retries a 429 after the seconds its Retry-After asks for', async () => {
    const error = await failure(transport.deliver({ url: `${server.origin}/status/429?retry-after=120` }, jobContext()));
    expect(error).toBeInstanceOf(RetryableJobError);
    expect((error as RetryableJobError).retryAfterSeconds).toBe(120);
  });

  it('retries a 503 after the HTTP-date its Retry-After names', async () => {
    const date = new Date(Date.now() + 3_600_000).toUTCString();
    const error = await failure(
      transport.deliver({ url: `${server.origin}/status/503?retry-after=${encodeURIComponent(date)}` }, jobContext()),
    );
    const seconds = (error as RetryableJobError).retryAfterSeconds ?? 0;
    expect(seconds).toBeGreaterThan(3_500);
    expect(seconds).toBeLessThanOrEqual(3_600);
  });

  it('caps a Retry-After at 43,200 seconds (SQS maximum)', async () => {
    const error = await failure(transport.deliver({ url: `${server.origin}/status/429?retry-after=999999` }, jobContext()));
    expect((error as RetryableJobError).retryAfterSeconds).toBe(43_200);
  });

  it('retries when the connection is refused', async () => {
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    closed.close();
    await once(closed, 'close');
    const error = await failure(transport.deliver({ url: `http://127.0.0.1:${port}/hook` }, jobContext()));
    expect(error).toBeInstanceOf(RetryableJobError);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('retries when the server does not answer within the timeout', async () => {
    const error = await failure(transport.deliver({ url: `${server.origin}/slow` }, jobContext()));
    expect(error).toBeInstanceOf(RetryableJobError);
    expect(error.message).toContain('timed out');
  });

  it("stops with a JobTimeoutError when the job's own signal aborts", async () => {
    const context = jobContext();
    const delivery = transport.deliver({ url: `${server.origin}/slow` }, context);
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    context.controller.abort();
    expect(await failure(delivery)).toBeInstanceOf(JobTimeoutError);
  });

  it('does not start a request when the job signal has already aborted', async () => {
    const context = jobContext();
    context.controller.abort();
    expect(await failure(transport.deliver({ url: `${server.origin}/status/200` }, context))).toBeInstanceOf(JobTimeoutError);
    expect(server.requests).toHaveLength(0);
  });
});

describe('resources', () => {
  it('lets each socket go after a large response body, rather than holding one per request', async () => {
    const own = createWebhookTransport({ allowPrivateNetworks: true, timeoutMs: 5_000 });
    try {
      for (let i = 0; i < 10; i += 1) await own.deliver({ url: `${server.origin}/big` }, jobContext());
      const connections = (): Promise<number> =>
        new Promise((resolve, reject) => server.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
      await vi.waitFor(async () => expect(await connections()).toBeLessThanOrEqual(1));
    } finally {
      await own.close();
    }
  });

  it('stops reading a response body at maxResponseBytes and hangs up (an endless body still ends the delivery)', async () => {
    // The request timeout is longer than the test's: a reader that did not stop would fail the test, not pass on a timeout.
    const own = createWebhookTransport({ allowPrivateNetworks: true, timeoutMs: 600_000, maxResponseBytes: 1_024 });
    endlessBytesWritten = 0;
    try {
      await expect(own.deliver({ url: `${server.origin}/endless` }, jobContext())).resolves.toBeUndefined();
    } finally {
      await own.close();
    }
    // At most what the socket buffers held when the client hung up (a few MiB on loopback), not an endless stream.
    expect(endlessBytesWritten).toBeLessThan(16 * 1024 * 1024);
  });

  it('reuses one kept-alive connection for consecutive deliveries, instead of opening one per request', async () => {
    const own = createWebhookTransport({ allowPrivateNetworks: true, timeoutMs: 5_000 });
    let opened = 0;
    const count = (): void => {
      opened += 1;
    };
    server.server.on('connection', count);
    try {
      for (let i = 0; i < 5; i += 1) await own.deliver({ url: `${server.origin}/status/200` }, jobContext());
      await failure(own.deliver({ url: `${server.origin}/status/500` }, jobContext()));
      expect(server.requests).toHaveLength(6);
      expect(opened).toBe(1);
    } finally {
      server.server.off('connection', count);
      await own.close();
    }
  });

  it('clears its one timeout timer as each request ends, instead of leaving it to run for the full timeout', async () => {
    const timeoutMs = 612_345;
    const long = createWebhookTransport({ allowPrivateNetworks: true, timeoutMs });
    const set = vi.spyOn(globalThis, 'setTimeout');
    const clear = vi.spyOn(globalThis, 'clearTimeout');
    try {
      for (let i = 0; i < 5; i += 1) await long.deliver({ url: `${server.origin}/status/200` }, jobContext());
      await failure(long.deliver({ url: `${server.origin}/status/500` }, jobContext()));
      const ours = set.mock.calls.flatMap((call, index) => (call[1] === timeoutMs ? [set.mock.results[index]?.value] : []));
      expect(ours).toHaveLength(6);
      for (const timer of ours) expect(clear).toHaveBeenCalledWith(timer);
    } finally {
      set.mockRestore();
      clear.mockRestore();
      await long.close();
    }
  });

  it('removes its listener from the job signal when the request ends', async () => {
    const context = jobContext();
    const add = vi.spyOn(context.signal, 'addEventListener');
    const remove = vi.spyOn(context.signal, 'removeEventListener');
    await transport.deliver({ url: `${server.origin}/status/200` }, context);
    expect(add).toHaveBeenCalledTimes(1);
    expect(remove).toHaveBeenCalledWith('abort', add.mock.calls[0]?.[1]);
  });

  it('logs neither the URL nor the body', async () => {
    const context = jobContext();
    await transport.deliver({ url: `${server.origin}/status/200?token=s3cret`, body: { email: 'someone@example.com' } }, context);
    const logged = JSON.stringify(context.logger.lines);
    expect(logged).not.toContain('s3cret');
    expect(logged).not.toContain('someone@example.com');
  });
});

describe('over HTTPS', () => {
  let secure: Server;
  const defaultCAs = getCACertificates('default');

  beforeAll(async () => {
    secure = await startRecordingServer((_request, response) => response.end('ok'), { tls: true });
  });

  afterEach(() => {
    setDefaultCACertificates(defaultCAs);
    secure.requests.length = 0;
  });

  afterAll(async () => {
    await secure.close();
  });

  it("delivers when the server's certificate is trusted", async () => {
    setDefaultCACertificates([...defaultCAs, TEST_TLS.cert]);
    const own = createWebhookTransport({ allowPrivateNetworks: true, timeoutMs: 5_000 });
    try {
      await own.deliver({ url: `${secure.origin}/hook`, body: { event: 'paid' } }, jobContext());
    } finally {
      await own.close();
    }
    expect(secure.requests).toMatchObject([{ method: 'POST', url: '/hook', body: '{"event":"paid"}' }]);
  });

  it('checks the certificate: one it does not trust is a retryable error naming the reason, and nothing is sent', async () => {
    const own = createWebhookTransport({ allowPrivateNetworks: true, timeoutMs: 5_000 });
    try {
      const error = await failure(own.deliver({ url: `${secure.origin}/hook`, body: 'x' }, jobContext()));
      expect(error).toBeInstanceOf(RetryableJobError);
      expect(error.message).toContain('SELF_SIGNED');
    } finally {
      await own.close();
    }
    expect(secure.requests).toHaveLength(0);
  });
});

describe('classification rules without a server', () => {
  it('reads Retry-After as seconds or as an HTTP-date, and ignores what it cannot read', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('30', now)).toBe(30);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:02:00 GMT', now)).toBe(120);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('honours Retry-After on 429 and 503 only', () => {
    expect(classifyResponse(429, '10')).toEqual({ kind: 'retry', retryAfterSeconds: 10 });
    expect(classifyResponse(503, '10')).toEqual({ kind: 'retry', retryAfterSeconds: 10 });
    expect(classifyResponse(500, '10')).toEqual({ kind: 'retry', retryAfterSeconds: undefined });
    expect(classifyResponse(408, '10')).toEqual({ kind: 'retry', retryAfterSeconds: undefined });
  });

  it('refuses a bad timeout when the transport is created', () => {
    expect(() => createWebhookTransport({ timeoutMs: 0 })).toThrow(ConfigurationError);
    expect(() => createWebhookTransport({ maxResponseBytes: -1 })).toThrow(ConfigurationError);
  });
});

describe('WEBHOOK_ALLOW_PRIVATE_NETWORKS, read at module load', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('reaches a server on 127.0.0.1 when it is 1', async () => {
    vi.stubEnv('WEBHOOK_ALLOW_PRIVATE_NETWORKS', '1');
    vi.resetModules();
    const module = await import('../../functions/jobs/webhook-transport.ts');
    expect(module.privateNetworksAllowed).toBe(true);
    await expect(module.deliver({ url: `${server.origin}/status/200` }, jobContext())).resolves.toBeUndefined();
  });

  it('refuses the same server when it is unset', async () => {
    vi.stubEnv('WEBHOOK_ALLOW_PRIVATE_NETWORKS', undefined);
    vi.resetModules();
    const module = await import('../../functions/jobs/webhook-transport.ts');
    expect(module.privateNetworksAllowed).toBe(false);
    const error = await failure(module.deliver({ url: `${server.origin}/status/200` }, jobContext()));
    expect(error.name).toBe('DestinationRefusedError');
    expect(server.requests).toHaveLength(0);
  });

  it('fails the import on a value other than 1 or 0', async () => {
    vi.stubEnv('WEBHOOK_ALLOW_PRIVATE_NETWORKS', 'yes');
    vi.resetModules();
    await expect(import('../../functions/jobs/webhook-transport.ts')).rejects.toThrow(/WEBHOOK_ALLOW_PRIVATE_NETWORKS/);
  });
});
