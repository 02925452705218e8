/**
 * The dashboard's HTTP server (node:http), on 127.0.0.1 only (`LOCAL_DASHBOARD_PORT`, default 9400):
 * the page, its bundled script and styles, the live feed (Server-Sent Events), a message body on request,
 * and the Dead letters actions. Every request passes the Host check; every action the Origin and token
 * check (security.ts), and is refused while the server is read-only. Refusals are 403 with a short reason.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenTcp } from '../local/local-server.ts';
import { DASHBOARD_PORT_ENV, DEFAULT_DASHBOARD_PORT, LOCAL_HOST } from '../local/ports.ts';
import { pageBundle } from './bundle.ts';
import { LiveFeed } from './feed.ts';
import { parseAction, ActionRequestError, type ParsedAction } from './action-requests.ts';
import type { ActionResult } from './model.ts';
import { NotOneTimeScheduleError } from './one-time-schedules.ts';
import { UnknownQueueError } from './queue-locations.ts';
import { allowedHosts, checkHost, checkStateChange, newToken, SECURITY_HEADERS } from './security.ts';
import type { DashboardSource } from './source.ts';

const MAX_BODY_BYTES = 64 * 1024;

/** Options of {@link startDashboardServer}. */
export interface DashboardServerOptions {
  /** TCP port; 0 picks a free one (tests). Default {@link DEFAULT_DASHBOARD_PORT}. */
  readonly port?: number;
  /** Allow redrive, delete and purge. Default false (read-only). */
  readonly allowActions?: boolean;
  /** The data source; may be set later with {@link DashboardServer.setSource} (the page says it is starting). */
  readonly source?: DashboardSource;
  /** Milliseconds before a snapshot counts as "not answering". Default 10 s. */
  readonly sourceTimeoutMs?: number;
}

/** The running server. */
export interface DashboardServer {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  readonly port: number;
  /** Sets the data source (npm start sets it once the environment is up). */
  setSource(source: DashboardSource): void;
  /** Ends the live streams and stops listening. */
  close(): Promise<void>;
}

function page(token: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="dashboard-token" content="${token}">
<title>serverless-jobs dashboard</title>
<link rel="stylesheet" href="/app.css">
<script defer src="/app.js"></script>
</head>
<body><main id="app"><p>Loading...</p></main></body>
</html>
`;
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function refuse(response: ServerResponse, reason: string): void {
  send(response, 403, 'text/plain; charset=utf-8', `403 Forbidden: ${reason}\n`);
}

async function readBody(request: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new ActionRequestError(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function runAction(source: DashboardSource, action: ParsedAction): Promise<ActionResult> {
  switch (action.kind) {
    case 'redrive':
      return source.redrive(action.queue, action.messageIds ? { messageIds: action.messageIds } : { filter: action.filter ?? {} });
    case 'delete':
      return source.deleteMessages(action.queue, action.messageIds);
    case 'purge':
      return source.purge(action.queue);
    case 'cancel':
      if (!source.cancelSchedule) throw new ActionRequestError('this data source lists no one-time jobs to cancel');
      return source.cancelSchedule(action.schedule);
  }
}

/** Starts the dashboard. Rejects with `PortInUseError` when the port is taken. */
export async function startDashboardServer(options: DashboardServerOptions = {}): Promise<DashboardServer> {
  const token = newToken();
  const allowActions = options.allowActions === true;
  const feed = new LiveFeed({ readOnly: !allowActions, ...(options.sourceTimeoutMs ? { timeoutMs: options.sourceTimeoutMs } : {}) });
  if (options.source) feed.setSource(options.source);
  let hosts: ReadonlySet<string> = new Set();

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const hostProblem = checkHost(request, hosts);
    if (hostProblem) return refuse(response, hostProblem);
    const url = new URL(request.url ?? '/', 'http://dashboard');
    const route = `${request.method ?? 'GET'} ${url.pathname}`;
    if (route === 'GET /') return send(response, 200, 'text/html; charset=utf-8', page(token));
    if (route === 'GET /app.js') return send(response, 200, 'text/javascript; charset=utf-8', (await pageBundle()).js);
    if (route === 'GET /app.css') return send(response, 200, 'text/css; charset=utf-8', (await pageBundle()).css);
    if (route === 'GET /api/events') return feed.attach(response);
    const source = feed.current;
    if (route === 'GET /api/body') {
      if (!source) return sendJson(response, 503, { ok: false, message: 'the data source is starting' });
      const body = await source.body(url.searchParams.get('queue') ?? '', url.searchParams.get('id') ?? '');
      return body
        ? sendJson(response, 200, body)
        : sendJson(response, 404, { ok: false, message: 'no such message in the DLQ (gone already?)' });
    }
    if (request.method === 'POST' && url.pathname.startsWith('/api/actions/')) {
      const problem = checkStateChange(request, hosts, token);
      if (problem) return refuse(response, problem);
      if (!allowActions) return refuse(response, 'read-only dashboard: start it with --allow-actions to redrive, delete or purge');
      if (!source) return sendJson(response, 503, { ok: false, message: 'the data source is starting' });
      const action = parseAction(url.pathname.slice('/api/actions/'.length), await readBody(request));
      const result = await runAction(source, action);
      feed.poke();
      return sendJson(response, result.ok ? 200 : 500, result);
    }
    send(response, request.method === 'GET' ? 404 : 405, 'text/plain; charset=utf-8', `no ${route}\n`);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status =
        error instanceof ActionRequestError || error instanceof UnknownQueueError || error instanceof NotOneTimeScheduleError ? 400 : 500;
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      if (!response.headersSent) sendJson(response, status, { ok: false, message });
      else response.end();
    });
  });
  const port = await listenTcp(server, options.port ?? DEFAULT_DASHBOARD_PORT, 'The dashboard', DASHBOARD_PORT_ENV);
  hosts = allowedHosts(port);
  return {
    url: `http://${LOCAL_HOST}:${port}/`,
    port,
    setSource: (source) => feed.setSource(source),
    async close() {
      feed.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await feed.current?.close();
    },
  };
}
