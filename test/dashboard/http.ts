/** Raw HTTP requests to the dashboard with any Host, Origin and token (node:http: fetch cannot set Host). */
import { request } from 'node:http';
import { TOKEN_HEADER } from '../../functions/dashboard/model.ts';

/** One answer. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** What to send. */
export interface Ask {
  readonly method?: string;
  readonly path?: string;
  readonly host?: string;
  readonly origin?: string;
  readonly token?: string;
  readonly body?: string;
}

/** Sends one request to 127.0.0.1:`port`; Host defaults to `127.0.0.1:<port>`. */
export function ask(port: number, what: Ask = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: what.host ?? `127.0.0.1:${port}` };
    if (what.origin !== undefined) headers.origin = what.origin;
    if (what.token !== undefined) headers[TOKEN_HEADER] = what.token;
    if (what.body !== undefined) headers['content-type'] = 'application/json';
    const req = request({ host: '127.0.0.1', port, method: what.method ?? 'GET', path: what.path ?? '/', headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    req.on('error', reject);
    req.end(what.body);
  });
}

/** The token the page carries (read from the served HTML, as the page does). */
export async function pageToken(port: number): Promise<string> {
  const { body } = await ask(port);
  const match = /<meta name="dashboard-token" content="([^"]+)">/.exec(body);
  if (!match?.[1]) throw new Error('the page carries no token');
  return match[1];
}
