/**
 * The embedded SQS endpoint: fauxqs' Fastify app (`buildApp()`), listening on 127.0.0.1 only.
 *
 * fauxqs' own `startFauxqs` listens on 0.0.0.0 (every interface, no authentication), so it is not used.
 * fauxqs writes queue URLs as `http://sqs.<region>.localhost:<port>/<account>/<name>`, a host that does not
 * resolve on every machine, and the AWS SDK sends each call to its queue URL's host. A response hook
 * rewrites those URLs to `http://127.0.0.1:<port>/<account>/<name>` (fauxqs routes by path), so every URL a
 * client sees (CreateQueue, GetQueueUrl, ListQueues, inspection) works as it is.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';
import { checkPort, listenFailure, once } from './local-server.ts';
import { DEFAULT_SQS_PORT, LOCAL_ACCOUNT_ID, LOCAL_CREDENTIALS, LOCAL_HOST, LOCAL_REGION, SQS_PORT_ENV } from './ports.ts';

/** Options of {@link startLocalSqsServer}. */
export interface LocalSqsServerOptions {
  /** TCP port; 0 picks a free one (tests). Default {@link DEFAULT_SQS_PORT}. */
  readonly port?: number;
  /** Region of queue ARNs. Default {@link LOCAL_REGION}. */
  readonly region?: string;
}

/** Counts of one queue as the server sees them. */
export interface QueueCounts {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

/** A queue as fauxqs' inspection endpoint shows it. */
export interface InspectedQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  /** Every attribute, as GetQueueAttributes(All) would return it. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** The running server. */
export interface LocalSqsServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>`: the endpoint for `AWS_ENDPOINT_URL_SQS`. */
  readonly endpoint: string;
  /** `http://127.0.0.1:<port>/000000000000/<name>`. */
  queueUrl(name: string): string;
  /** `arn:aws:sqs:<region>:000000000000:<name>`. */
  queueArn(name: string): string;
  /** A new SDK client pointed at this server, with dummy credentials; the caller destroys it. */
  createClient(): SQSClient;
  /** Every queue's counts, by name (from the inspection endpoint: no message is touched). */
  counts(): Promise<Map<string, QueueCounts>>;
  /** One queue's attributes (from the inspection endpoint), or undefined when it does not exist. */
  inspect(name: string): Promise<InspectedQueue | undefined>;
  /** Stops listening and drops all state. */
  close(): Promise<void>;
}

/** Every queue's counts from fauxqs' inspection list. */
function countsOf(body: unknown): Map<string, QueueCounts> {
  type Listed = { name: string; approximateMessageCount: number; approximateInflightCount: number; approximateDelayedCount: number };
  const list = (Array.isArray(body) ? body : []) as Listed[];
  return new Map(
    list.map((queue) => [
      queue.name,
      { visible: queue.approximateMessageCount, inFlight: queue.approximateInflightCount, delayed: queue.approximateDelayedCount },
    ]),
  );
}

/** Starts fauxqs on 127.0.0.1. Rejects with {@link PortInUseError} when the port is taken. */
export async function startLocalSqsServer(options: LocalSqsServerOptions = {}): Promise<LocalSqsServer> {
  const requestedPort = checkPort('SQS', options.port ?? DEFAULT_SQS_PORT);
  const region = options.region ?? LOCAL_REGION;
  const app = buildApp({ logger: false, defaultRegion: region });

  let port = requestedPort;
  const fauxqsUrl = /http:\/\/sqs\.[a-z0-9-]+\.localhost(?::\d+)?\//g;
  app.addHook('onSend', (_request, _reply, payload, done) => {
    done(null, typeof payload === 'string' ? payload.replace(fauxqsUrl, `http://${LOCAL_HOST}:${port}/`) : payload);
  });

  await app.listen({ host: LOCAL_HOST, port: requestedPort }).catch(async (error: unknown) => {
    await app.close().catch(() => undefined);
    throw listenFailure('The local SQS endpoint', 'tcp', requestedPort, SQS_PORT_ENV, error);
  });
  const address = app.server.address();
  port = typeof address === 'object' && address !== null ? address.port : requestedPort;
  const endpoint = `http://${LOCAL_HOST}:${port}`;

  /** The JSON of fauxqs' inspection endpoint `path`, or undefined unless it answers 200. */
  const inspection = async (path: string): Promise<unknown> => {
    const response = await app.inject({ method: 'GET', url: path });
    return response.statusCode === 200 ? response.json() : undefined;
  };

  return {
    port,
    endpoint,
    queueUrl: (name) => `${endpoint}/${LOCAL_ACCOUNT_ID}/${name}`,
    queueArn: (name) => `arn:aws:sqs:${region}:${LOCAL_ACCOUNT_ID}:${name}`,
    createClient: () => new SQSClient({ region, endpoint, credentials: LOCAL_CREDENTIALS }),
    counts: async () => countsOf(await inspection('/_fauxqs/queues')),
    async inspect(name) {
      const body = await inspection(`/_fauxqs/queues/${encodeURIComponent(name)}`);
      if (typeof body !== 'object' || body === null) return undefined;
      const queue = body as { name: string; url: string; arn: string; attributes: Record<string, string> };
      return { name: queue.name, url: queue.url, arn: queue.arn, attributes: queue.attributes };
    },
    close: once(() => app.close()),
  };
}
