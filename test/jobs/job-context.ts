/**
 * Test helpers for the job transports: a JobContext with its own AbortController and a logger that keeps its
 * lines (so a test can check that no address or content was logged), and a tiny local HTTP(S) server.
 */
import { once } from 'node:events';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { JobContext } from '../../functions/runtime/job.ts';
import type { LogAttributes, Logger } from '../../functions/runtime/logger.ts';

/** One line a {@link recordingLogger} kept. */
export interface LoggedLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes: LogAttributes | undefined;
}

/** A Logger that writes nothing and keeps every line. */
export function recordingLogger(): Logger & { readonly lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const keep =
    (level: LoggedLine['level']) =>
    (message: string, attributes?: LogAttributes): void => {
      lines.push({ level, message, attributes });
    };
  return { lines, debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') };
}

/** A JobContext for one test, with the controller behind its signal and the logger's lines. */
export function jobContext(
  overrides: { jobId?: string | undefined; messageId?: string; attempt?: number } = {},
): JobContext & { readonly controller: AbortController; readonly logger: ReturnType<typeof recordingLogger> } {
  const controller = new AbortController();
  return {
    controller,
    signal: controller.signal,
    messageId: overrides.messageId ?? '059f36b4-87a3-44ab-83d2-661975830a7d',
    jobId: 'jobId' in overrides ? overrides.jobId : 'job-0001',
    attempt: overrides.attempt ?? 1,
    logger: recordingLogger(),
  };
}

/** A request the test server received. */
export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/**
 * A self-signed certificate (EC P-256, valid 2000-2100) for `127.0.0.1` and `hooks.example.com`, and its key:
 * for test HTTPS servers only. Trusted by nothing until a test adds it to the default CA certificates.
 */
export const TEST_TLS = {
  key: `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXgQhlOv+pB0u3Mp8
dIxyc3LWBhGkrI8Z9Xmxj45sofuhRANCAASbcuzLX5qAhbIwUvjzCGNzjIXOGL6q
3zKc7Jk60AK8yyZZ7gKIWm1+PVMqIj4VV5jgo7xJ2ob09+PcI+oWfo2U
-----END PRIVATE KEY-----
`,
  cert: `-----BEGIN CERTIFICATE-----
MIIBxTCCAWugAwIBAgIBATAKBggqhkjOPQQDAjAuMSwwKgYDVQQDDCNzZXJ2ZXJs
ZXNzLWpvYnMgdGVzdCB3ZWJob29rIHNlcnZlcjAgFw0wMDAxMDEwMDAwMDBaGA8y
MTAwMDEwMTAwMDAwMFowLjEsMCoGA1UEAwwjc2VydmVybGVzcy1qb2JzIHRlc3Qg
d2ViaG9vayBzZXJ2ZXIwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASbcuzLX5qA
hbIwUvjzCGNzjIXOGL6q3zKc7Jk60AK8yyZZ7gKIWm1+PVMqIj4VV5jgo7xJ2ob0
9+PcI+oWfo2Uo3gwdjAiBgNVHREEGzAZhwR/AAABghFob29rcy5leGFtcGxlLmNv
bTAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEF
BQcDATAdBgNVHQ4EFgQUnCgewaShnGAD5jxeEs2iaXIrOwEwCgYIKoZIzj0EAwID
SAAwRQIhAOupZEimlEeUQ7Rjr9Plp2wjcH5QaV69M0fSnma5kj+FAiB/QyhbLW+9
PJWcUDTqjfYCvopNGRwBWlp/h3bNxgHcSg==
-----END CERTIFICATE-----
`,
} as const;

/**
 * A local HTTP server (HTTPS with `{ tls: true }`, using {@link TEST_TLS}) on 127.0.0.1, port 0, that records
 * every request and answers with `respond`.
 */
export async function startRecordingServer(
  respond: (request: IncomingMessage, response: ServerResponse, body: string) => void,
  options: { readonly tls?: boolean } = {},
): Promise<{ server: Server; origin: string; port: number; requests: ReceivedRequest[]; close: () => Promise<void> }> {
  const requests: ReceivedRequest[] = [];
  const listener: RequestListener = (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      respond(request, response, body);
    });
  };
  const server: Server =
    options.tls === true ? createHttpsServer({ key: TEST_TLS.key, cert: TEST_TLS.cert }, listener) : createServer(listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    origin: `${options.tls === true ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
