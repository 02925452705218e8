/**
 * Test helpers for the job transports: a JobContext with its own AbortController and a logger that keeps its
 * lines (so a test can check that no address or content was logged), and a tiny local HTTP server.
 */
import { once } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
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

/** A local HTTP server on 127.0.0.1, port 0, that records every request and answers with `respond`. */
export async function startRecordingServer(
  respond: (request: IncomingMessage, response: ServerResponse, body: string) => void,
): Promise<{ server: Server; origin: string; port: number; requests: ReceivedRequest[]; close: () => Promise<void> }> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      respond(request, response, body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
