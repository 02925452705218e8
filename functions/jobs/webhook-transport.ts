/**
 * The `deliver-webhook` transport: one HTTP request per job with Node's own `node:http` / `node:https`, through
 * ONE keep-alive agent per protocol, whose sockets only ever connect to addresses the SSRF guard
 * (./network-guard.ts) has checked: the request's `lookup` is the guarded one, so the address that was checked is
 * the address connected to. IP-literal hosts never reach a `lookup`; they are checked before the request.
 *
 * - 2xx succeeds; 408, 429, 5xx and network errors retry (429/503 honour `Retry-After`); a 3xx is permanent
 *   (redirects are not followed: one could lead to a private address); any other 4xx is permanent.
 * - One timer per request, cleared as soon as the request ends, and one listener on the job's signal, removed
 *   when the request ends (an `AbortSignal.timeout()` per request would keep its timer alive for the full period).
 * - The response body is read up to a small limit; beyond it, the response (and its socket) is destroyed.
 *
 * `node:http` and `node:https` are loaded (with `process.getBuiltinModule`) and the two agents created on the
 * first delivery, so workers that never deliver a webhook do not pay for them at cold start.
 */
import type { Agent as HttpAgent, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { ConfigurationError, JobTimeoutError, PermanentJobError, RetryableJobError } from '../runtime/errors.ts';
import type { JobContext } from '../runtime/job.ts';
import { MAX_VISIBILITY_SECONDS } from '../runtime/job.ts';
import type { DeliverWebhookPayload } from './deliver-webhook.ts';
import type { GuardedLookup, Resolver } from './network-guard.ts';
import { assertHostAllowed, createGuardedLookup, DestinationRefusedError } from './network-guard.ts';

/** Options of {@link createWebhookTransport}; validated once, when the transport is created. */
export interface WebhookTransportOptions {
  /** Let requests reach loopback, private, link-local and metadata addresses (local runs and tests only). Default `false`. */
  readonly allowPrivateNetworks?: boolean;
  /** Milliseconds one request may take, from connecting to the end of the response. Default 8,000 (under the job's 10 s). */
  readonly timeoutMs?: number;
  /** Bytes of a response body read before the rest is discarded (the response destroyed). Default 65,536. */
  readonly maxResponseBytes?: number;
  /** Resolves host names for the guard (default `dns.lookup`); tests map a name to an address with it. */
  readonly resolve?: Resolver;
}

/** A webhook transport: two keep-alive agents (created on first use) and the function that delivers one webhook through them. */
export interface WebhookTransport {
  /** Sends the request; resolves on 2xx, throws {@link RetryableJobError} or {@link PermanentJobError} otherwise. */
  deliver(payload: DeliverWebhookPayload, context: JobContext): Promise<void>;
  /** Closes the agents' sockets (tests, shutdown). A later delivery creates new agents. */
  close(): Promise<void>;
}

/** What a response status means for the job. */
export type ResponseVerdict =
  | { readonly kind: 'success' }
  | { readonly kind: 'retry'; readonly retryAfterSeconds: number | undefined }
  | { readonly kind: 'permanent'; readonly redirect: boolean };

/** Default request timeout, under `deliver-webhook`'s 10 s job timeout so the request's own error wins. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 8_000;
/** Default number of response-body bytes read before the rest is discarded. */
export const DEFAULT_MAX_RESPONSE_BYTES = 65_536;

/**
 * Idle keep-alive sockets are closed after this long (the idle timeout this transport had before, with its
 * previous HTTP client), or sooner when the server's `Keep-Alive: timeout=N` asks (less {@link KEEP_ALIVE_BUFFER_MS}),
 * so a socket the server has already closed is rarely reused.
 */
const IDLE_SOCKET_TIMEOUT_MS = 4_000;
/** Margin taken off a server's announced keep-alive timeout (as before, too). */
const KEEP_ALIVE_BUFFER_MS = 2_000;

/** Headers the transport writes itself: a caller's `Host` or `Content-Length` is dropped (the URL and the body decide). */
const HEADERS_SET_BY_TRANSPORT: ReadonlySet<string> = new Set(['host', 'content-length']);
/** Headers that would change how the message is framed or what the connection becomes: refused, permanently. */
const REFUSED_HEADERS: ReadonlySet<string> = new Set(['transfer-encoding', 'keep-alive', 'upgrade', 'expect']);

/**
 * Parses a `Retry-After` header: delay-seconds or an HTTP-date, as whole seconds from `now`, capped at SQS's
 * 43,200 s. `undefined` when the header is absent or unreadable; a date in the past gives 0.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.min(Number(text), MAX_VISIBILITY_SECONDS);
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, Math.ceil((date - now) / 1000)), MAX_VISIBILITY_SECONDS);
}

/**
 * Classifies a response status: 2xx success; 408, 429 and 5xx retry (with `Retry-After` on 429 and 503);
 * 3xx and other 4xx permanent. An out-of-range status retries.
 */
export function classifyResponse(status: number, retryAfter: string | null | undefined, now: number = Date.now()): ResponseVerdict {
  if (status >= 200 && status < 300) return { kind: 'success' };
  if (status >= 300 && status < 400) return { kind: 'permanent', redirect: true };
  if (status === 408 || (status >= 500 && status < 600)) {
    return { kind: 'retry', retryAfterSeconds: status === 503 ? parseRetryAfter(retryAfter, now) : undefined };
  }
  if (status === 429) return { kind: 'retry', retryAfterSeconds: parseRetryAfter(retryAfter, now) };
  if (status >= 400 && status < 500) return { kind: 'permanent', redirect: false };
  return { kind: 'retry', retryAfterSeconds: undefined };
}

/** `request` of `node:http` or `node:https`, with the agent of the same module. */
interface Protocol {
  readonly request: (url: URL, options: RequestOptions) => ClientRequest;
  readonly agent: HttpAgent | HttpsAgent;
}

/** The transport's two agents, one per protocol. */
interface Agents {
  readonly 'http:': Protocol;
  readonly 'https:': Protocol;
}

/** The status line and the one header the verdict needs. */
interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
}

/** What one request needs besides the `ClientRequest` itself. */
interface Exchange {
  readonly host: string;
  readonly body: string | undefined;
  readonly jobSignal: AbortSignal;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

/**
 * Creates a transport. Its two agents (`http`, `https`, keep-alive) are created on the first delivery and reused
 * by every later one; create one transport per process (this module's {@link deliver} uses one made at module load).
 */
export function createWebhookTransport(options: WebhookTransportOptions = {}): WebhookTransport {
  const allowPrivateNetworks = options.allowPrivateNetworks ?? false;
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new ConfigurationError('webhook timeoutMs must be a positive number');
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 0) {
    throw new ConfigurationError('webhook maxResponseBytes must be a whole number >= 0');
  }
  // With the guard on, every socket resolves its host through the guard and connects to the address it checked.
  const lookup: GuardedLookup | undefined = allowPrivateNetworks ? undefined : createGuardedLookup(options.resolve);
  let agents: Agents | undefined;

  async function deliverOne(payload: DeliverWebhookPayload, context: JobContext): Promise<void> {
    const url = new URL(payload.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new PermanentJobError(`webhook URL scheme ${url.protocol} is not http or https`);
    }
    if (url.username !== '' || url.password !== '') {
      throw new PermanentJobError('webhook URL must not carry a user name or password (send credentials in a header)');
    }
    // IP literals never reach `lookup` (Node connects to them directly): they are checked here.
    if (!allowPrivateNetworks) assertHostAllowed(url.hostname);
    if (context.signal.aborted) throw deadlineError(context.signal);

    const { headers, body } = requestParts(payload);
    const protocol = (agents ??= createAgents())[url.protocol];
    let request: ClientRequest;
    try {
      request = protocol.request(url, { method: payload.method ?? 'POST', headers, agent: protocol.agent, lookup });
    } catch {
      // Node's message can quote a header name or value, which may be a secret: keep it out of logs and the DLQ.
      throw new PermanentJobError('webhook request could not be built (invalid method, header or body)');
    }

    const started = performance.now();
    const { status, retryAfter } = await exchange(request, {
      host: url.host,
      body,
      jobSignal: context.signal,
      timeoutMs,
      maxResponseBytes,
    });
    const verdict = classifyResponse(status, retryAfter);
    context.logger.debug('webhook answered', { status, durationMs: Math.round(performance.now() - started) });
    if (verdict.kind === 'success') return;
    if (verdict.kind === 'retry') {
      throw new RetryableJobError(`webhook ${url.host} answered ${status}`, { retryAfterSeconds: verdict.retryAfterSeconds });
    }
    throw new PermanentJobError(
      verdict.redirect
        ? `webhook ${url.host} answered ${status} (a redirect; redirects are not followed)`
        : `webhook ${url.host} answered ${status}`,
    );
  }

  return {
    deliver: deliverOne,
    close: () => {
      const current = agents;
      agents = undefined;
      current?.['http:'].agent.destroy();
      current?.['https:'].agent.destroy();
      return Promise.resolve();
    },
  };
}

/** Loads `node:http` / `node:https` and creates one keep-alive agent each. */
function createAgents(): Agents {
  const http = process.getBuiltinModule('node:http');
  const https = process.getBuiltinModule('node:https');
  const agentOptions = { keepAlive: true, timeout: IDLE_SOCKET_TIMEOUT_MS, agentKeepAliveTimeoutBuffer: KEEP_ALIVE_BUFFER_MS };
  return {
    'http:': { request: (url, options) => http.request(url, options), agent: new http.Agent(agentOptions) },
    'https:': { request: (url, options) => https.request(url, options), agent: new https.Agent(agentOptions) },
  };
}

/**
 * The headers and body of a payload: an object or array body is sent as JSON (with `content-type:
 * application/json` unless the caller set one), a string body as is. Framing headers are refused.
 */
function requestParts(payload: DeliverWebhookPayload): { headers: Record<string, string>; body: string | undefined } {
  const headers = Object.create(null) as Record<string, string>;
  let hasContentType = false;
  for (const [name, value] of Object.entries(payload.headers ?? {})) {
    const lower = name.toLowerCase();
    if (REFUSED_HEADERS.has(lower))
      throw new PermanentJobError(`webhook header ${lower} is not allowed (the transport frames the request)`);
    if (HEADERS_SET_BY_TRANSPORT.has(lower)) continue;
    if (lower === 'content-type') hasContentType = true;
    headers[name] = value;
  }
  if (typeof payload.body === 'string' || payload.body === undefined) return { headers, body: payload.body };
  if (!hasContentType) headers['content-type'] = 'application/json';
  return { headers, body: JSON.stringify(payload.body) };
}

/**
 * Sends the body, waits for the response, reads at most `maxResponseBytes` of its body (destroying the response,
 * and so its socket, beyond that) and resolves with the status. One timer and one job-signal listener, both
 * released as soon as the exchange settles. Once the status is in, a timeout or an error while reading the body
 * no longer matters: the status decides.
 */
function exchange(request: ClientRequest, { host, body, jobSignal, timeoutMs, maxResponseBytes }: Exchange): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    let answered = false;
    let settled = false;
    const settle = (error: Error | undefined, answer?: Answer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      jobSignal.removeEventListener('abort', onJobAbort);
      if (answer === undefined) reject(error);
      else resolve(answer);
    };
    const stop = (error: Error): void => {
      if (!answered) settle(error);
      request.destroy();
    };
    const onJobAbort = (): void => stop(deadlineError(jobSignal));
    const timer = setTimeout(() => stop(new RetryableJobError(`webhook request to ${host} timed out after ${timeoutMs} ms`)), timeoutMs);
    jobSignal.addEventListener('abort', onJobAbort, { once: true });

    // Kept for the request's whole life: a late socket error after settling must not go unhandled.
    request.on('error', (error) => {
      if (!answered) settle(requestError(error, host));
    });
    request.on('response', (response: IncomingMessage) => {
      answered = true;
      const answer: Answer = { status: response.statusCode ?? 0, retryAfter: response.headers['retry-after'] };
      const done = (): void => settle(undefined, answer);
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.byteLength;
        if (read > maxResponseBytes) {
          response.destroy();
          done();
        }
      });
      response.on('end', done);
      response.on('error', done);
      response.on('close', done);
    });
    request.end(body);
  });
}

/** The job's deadline passed (its own timeout or the Lambda's remaining time). */
function deadlineError(jobSignal: AbortSignal): JobTimeoutError {
  return new JobTimeoutError('webhook request stopped: the job deadline passed', { cause: jobSignal.reason });
}

/** Turns a request error (before any response) into the job error it means: refused, or a retryable network error. */
function requestError(error: Error, host: string): Error {
  const refused = findInChain(error, (e) => e instanceof DestinationRefusedError);
  if (refused !== undefined) return refused;
  const coded = findInChain(error, (e) => typeof (e as { code?: unknown }).code === 'string') as (Error & { code: string }) | undefined;
  const code = coded?.code ?? error.name;
  return new RetryableJobError(`webhook request to ${host} failed: ${code}`, { cause: error });
}

/** The first error in `error`'s cause chain (and AggregateError members) that matches. */
function findInChain(error: unknown, match: (error: Error) => boolean, depth = 0): Error | undefined {
  if (!(error instanceof Error) || depth > 8) return undefined;
  if (match(error)) return error;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const found = findInChain(inner, match, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return findInChain(error.cause, match, depth + 1);
}

/** Reads `WEBHOOK_ALLOW_PRIVATE_NETWORKS` (`1` on; unset, empty or `0` off; anything else is a mistake). */
function allowPrivateNetworksFromEnv(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === '0') return false;
  if (value === '1') return true;
  throw new ConfigurationError(`WEBHOOK_ALLOW_PRIVATE_NETWORKS must be 1 or 0, not "${value}"`);
}

/** Whether this module's transport lets webhooks reach private networks (`WEBHOOK_ALLOW_PRIVATE_NETWORKS`, read once, at module load). */
export const privateNetworksAllowed: boolean = allowPrivateNetworksFromEnv(process.env.WEBHOOK_ALLOW_PRIVATE_NETWORKS);

const moduleTransport = createWebhookTransport({ allowPrivateNetworks: privateNetworksAllowed });

/**
 * Delivers one webhook through the module's transport. `WEBHOOK_ALLOW_PRIVATE_NETWORKS=1` (read once, at module
 * load) turns the SSRF guard off, for local runs and tests only.
 */
export function deliver(payload: DeliverWebhookPayload, context: JobContext): Promise<void> {
  return moduleTransport.deliver(payload, context);
}
