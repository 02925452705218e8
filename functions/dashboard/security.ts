/**
 * The dashboard's request rules, in one place:
 * - the `Host` must be the loopback address or `localhost` with the server's port (a DNS-rebinding page
 *   reaches the server under its own host name, and is refused);
 * - a state-changing request needs an `Origin` of this server and the token the page got at load, in the
 *   {@link TOKEN_HEADER} header (any page the developer visits could otherwise POST here; a foreign page
 *   can neither read the token nor send the header without a CORS preflight this server never grants);
 * - every answer carries a Content-Security-Policy that runs only this server's own script and styles.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TOKEN_HEADER } from './model.ts';

/** The page's policy: only this server's own script, styles and connections; no inline code, no frames. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every answer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

/** A fresh random token for one server run. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The hosts a request may name: `127.0.0.1:<port>` and `localhost:<port>`. */
export function allowedHosts(port: number): ReadonlySet<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
}

/** Why a request is refused, or undefined when its Host is one of ours. */
export function checkHost(request: IncomingMessage, hosts: ReadonlySet<string>): string | undefined {
  const host = request.headers.host;
  if (host === undefined) return 'no Host header';
  return hosts.has(host.toLowerCase())
    ? undefined
    : `foreign Host ${JSON.stringify(host.slice(0, 100))}: open the dashboard at 127.0.0.1 or localhost`;
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Why a state-changing request is refused, or undefined when its Origin and token are the page's. */
export function checkStateChange(request: IncomingMessage, hosts: ReadonlySet<string>, token: string): string | undefined {
  const origin = request.headers.origin;
  if (origin === undefined) return 'no Origin header: actions come from the dashboard page only';
  let originHost: string;
  try {
    const url = new URL(origin);
    originHost = url.protocol === 'http:' ? url.host : '';
  } catch {
    originHost = '';
  }
  if (!hosts.has(originHost) || originHost !== request.headers.host?.toLowerCase())
    return 'foreign Origin: actions come from the dashboard page only';
  const given = request.headers[TOKEN_HEADER];
  if (typeof given !== 'string' || given === '') return 'missing token: reload the dashboard page';
  if (!sameToken(given, token)) return 'wrong token: reload the dashboard page (the server was restarted?)';
  return undefined;
}
