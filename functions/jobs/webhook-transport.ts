/**
 * The `deliver-webhook` transport: one HTTP request per job, through ONE module-scope undici agent whose
 * sockets only ever connect to addresses the SSRF guard (./network-guard.ts) has checked.
 *
 * - 2xx succeeds; 408, 429, 5xx and network errors retry (429/503 honour `Retry-After`); a 3xx is permanent
 *   (redirects are not followed: one could lead to a private address); any other 4xx is permanent.
 * - One timer per request, cleared as soon as the request ends (an `AbortSignal.timeout()` per request would
 *   keep its timer alive for the full period), combined with the job's own signal.
 * - The response body is read up to a small limit, then cancelled, so the socket is freed.
 *
 * Why undici's own `fetch` and not Node's global one: the guard needs an `Agent` with a custom connector, and an
 * `Agent` from the `undici` package does not work with the `fetch` bundled in Node 24 (undici 8 agent + Node's
 * undici 7 fetch fails with "invalid onRequestStart method"). Using `fetch` and `Agent` from the same package
 * keeps them in step. undici is loaded on the first delivery only, so workers that never deliver a webhook do
 * not pay for it at cold start.
 */
import type { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { ConfigurationError, JobTimeoutError, PermanentJobError, RetryableJobError } from '../runtime/errors.ts';
import type { JobContext } from '../runtime/job.ts';
import { MAX_VISIBILITY_SECONDS } from '../runtime/job.ts';
import type { DeliverWebhookPayload } from './deliver-webhook.ts';
import type { Resolver } from './network-guard.ts';
import { assertHostAllowed, createGuardedLookup, DestinationRefusedError, refusedAddressReason } from './network-guard.ts';

/** Options of {@link createWebhookTransport}; validated once, when the transport is created. */
export interface WebhookTransportOptions {
  /** Let requests reach loopback, private, link-local and metadata addresses (local runs and tests only). Default `false`. */
  readonly allowPrivateNetworks?: boolean;
  /** Milliseconds one request may take, from connecting to the end of the response. Default 8,000 (under the job's 10 s). */
  readonly timeoutMs?: number;
  /** Bytes of a response body read before the rest is cancelled. Default 65,536. */
  readonly maxResponseBytes?: number;
  /** Resolves host names for the guard (default `dns.lookup`); tests map a name to an address with it. */
  readonly resolve?: Resolver;
}

/** A webhook transport: an agent (created on first use) and the function that delivers one webhook through it. */
export interface WebhookTransport {
  /** Sends the request; resolves on 2xx, throws {@link RetryableJobError} or {@link PermanentJobError} otherwise. */
  deliver(payload: DeliverWebhookPayload, context: JobContext): Promise<void>;
  /** Closes the agent's sockets (tests, shutdown). */
  close(): Promise<void>;
}

/** What a response status means for the job. */
export type ResponseVerdict =
  | { readonly kind: 'success' }
  | { readonly kind: 'retry'; readonly retryAfterSeconds: number | undefined }
  | { readonly kind: 'permanent'; readonly redirect: boolean };

/** Default request timeout, under `deliver-webhook`'s 10 s job timeout so the request's own error wins. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 8_000;
/** Default number of response-body bytes read before the rest is cancelled. */
export const DEFAULT_MAX_RESPONSE_BYTES = 65_536;

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

interface Undici {
  readonly fetch: typeof undiciFetch;
  readonly agent: Agent;
}

/**
 * Creates a transport. The agent is created on the first delivery and reused by every later one; create one
 * transport per process (this module's {@link deliver} uses one made at module load).
 */
export function createWebhookTransport(options: WebhookTransportOptions = {}): WebhookTransport {
  const allowPrivateNetworks = options.allowPrivateNetworks ?? false;
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new ConfigurationError('webhook timeoutMs must be a positive number');
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 0) {
    throw new ConfigurationError('webhook maxResponseBytes must be a whole number >= 0');
  }

  let loading: Promise<Undici> | undefined;
  const undici = (): Promise<Undici> =>
    (loading ??= loadUndici(allowPrivateNetworks, timeoutMs, options.resolve).catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));

  async function deliverOne(payload: DeliverWebhookPayload, context: JobContext): Promise<void> {
    const url = new URL(payload.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new PermanentJobError(`webhook URL scheme ${url.protocol} is not http or https`);
    }
    if (!allowPrivateNetworks) assertHostAllowed(url.hostname);
    const { fetch, agent } = await undici();
    if (context.signal.aborted) throw deadlineError(context.signal);

    const method = payload.method ?? 'POST';
    const headers: Record<string, string> = { ...payload.headers };
    let body: string | undefined;
    if (typeof payload.body === 'string') {
      body = payload.body;
    } else if (payload.body !== undefined) {
      body = JSON.stringify(payload.body);
      if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }

    const controller = new AbortController();
    const onJobAbort = (): void => controller.abort();
    context.signal.addEventListener('abort', onJobAbort, { once: true });
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const started = performance.now();
    try {
      let response: Awaited<ReturnType<typeof fetch>>;
      try {
        response = await fetch(payload.url, { method, headers, body, redirect: 'manual', signal: controller.signal, dispatcher: agent });
      } catch (error) {
        throw requestError(error, url.host, context.signal, controller.signal, timeoutMs);
      }
      await discardBody(response.body, maxResponseBytes);
      const verdict = classifyResponse(response.status, response.headers.get('retry-after'));
      context.logger.debug('webhook answered', { status: response.status, durationMs: Math.round(performance.now() - started) });
      if (verdict.kind === 'success') return;
      if (verdict.kind === 'retry') {
        throw new RetryableJobError(`webhook ${url.host} answered ${response.status}`, { retryAfterSeconds: verdict.retryAfterSeconds });
      }
      throw new PermanentJobError(
        verdict.redirect
          ? `webhook ${url.host} answered ${response.status} (a redirect; redirects are not followed)`
          : `webhook ${url.host} answered ${response.status}`,
      );
    } finally {
      clearTimeout(timer);
      context.signal.removeEventListener('abort', onJobAbort);
    }
  }

  return {
    deliver: deliverOne,
    close: async () => {
      const current = loading;
      loading = undefined;
      if (current !== undefined) await (await current).agent.close();
    },
  };
}

/** Loads undici and builds the agent: with the guard, every socket is checked before it connects. */
async function loadUndici(allowPrivateNetworks: boolean, connectTimeoutMs: number, resolve: Resolver | undefined): Promise<Undici> {
  const { Agent, buildConnector, fetch } = await import('undici');
  if (allowPrivateNetworks) {
    return { fetch, agent: new Agent({ connect: { timeout: connectTimeoutMs } }) };
  }
  const connectChecked = buildConnector({ timeout: connectTimeoutMs, lookup: createGuardedLookup(resolve) });
  const connect: buildConnector.connector = (options, callback) => {
    // IP literals never reach `lookup`: check them here, just before the socket is made.
    const reason = refusedAddressReason(options.hostname);
    if (reason !== undefined && reason !== 'not an IP address') {
      callback(new DestinationRefusedError(`webhook destination refused: ${options.hostname} (${reason})`), null);
      return;
    }
    connectChecked(options, callback);
  };
  return { fetch, agent: new Agent({ connect }) };
}

/** Reads up to `limit` bytes of a body, then cancels the rest; errors are ignored (the status decides). */
async function discardBody(body: ReadableStream<Uint8Array> | null, limit: number): Promise<void> {
  if (body === null) return;
  const reader = body.getReader();
  try {
    let read = 0;
    while (read <= limit) {
      const chunk = await reader.read();
      if (chunk.done) return;
      read += chunk.value.byteLength;
    }
    await reader.cancel();
  } catch {
    await reader.cancel().catch(() => undefined);
  }
}

/** The job's deadline passed (its own timeout or the Lambda's remaining time). */
function deadlineError(jobSignal: AbortSignal): JobTimeoutError {
  return new JobTimeoutError('webhook request stopped: the job deadline passed', { cause: jobSignal.reason });
}

/** Turns a rejected `fetch` into the job error it means. */
function requestError(error: unknown, host: string, jobSignal: AbortSignal, requestSignal: AbortSignal, timeoutMs: number): Error {
  const refused = findInChain(error, (e) => e instanceof DestinationRefusedError);
  if (refused !== undefined) return refused;
  if (jobSignal.aborted) return deadlineError(jobSignal);
  if (requestSignal.aborted) return new RetryableJobError(`webhook request to ${host} timed out after ${timeoutMs} ms`);
  const invalid = findInChain(error, (e) => (e as { code?: unknown }).code === 'UND_ERR_INVALID_ARG');
  if (invalid !== undefined || (error instanceof TypeError && error.cause === undefined)) {
    // undici's own message can quote a header value, which may be a secret: keep it out of logs and the DLQ.
    return new PermanentJobError('webhook request could not be built (invalid method, header or body)');
  }
  const coded = findInChain(error, (e) => typeof (e as { code?: unknown }).code === 'string') as (Error & { code: string }) | undefined;
  const code = coded?.code ?? (error instanceof Error ? error.name : 'unknown error');
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
