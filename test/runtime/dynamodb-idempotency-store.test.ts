import { connect, createServer, type Server, type Socket } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDynamoDbIdempotencyStore,
  DYNAMODB_WAIT_MS,
  DynamoDbTimeoutError,
  dynamoDbLoader,
} from '../../functions/runtime/dynamodb-idempotency-store.ts';
import type { IdempotencyStore } from '../../functions/runtime/run-job.ts';
import { startDynalite, type LocalDynamo } from '../support/dynalite.ts';

describe('DynamoDB idempotency store (on dynalite)', () => {
  let dynamo: LocalDynamo;
  let clock = 1_800_000_000_000;
  let store: IdempotencyStore;

  beforeAll(async () => {
    dynamo = await startDynalite();
    await dynamo.createTable('idempotency');
    store = createDynamoDbIdempotencyStore({ tableName: 'idempotency', dynamo: dynamoDbLoader(dynamo.client), now: () => clock });
  });
  afterAll(() => dynamo.close());

  it('gives the lease to the first delivery of a job', async () => {
    expect(await store.begin('job-a', 30_000)).toBe('started');
  });

  it('tells a concurrent delivery that the job is in progress', async () => {
    await store.begin('job-b', 30_000);
    expect(await store.begin('job-b', 30_000)).toBe('in_progress');
  });

  it('lets only one of many concurrent deliveries take the lease', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => store.begin('job-c', 30_000)));
    expect(results.filter((r) => r === 'started')).toHaveLength(1);
  });

  it('reports a completed job as completed', async () => {
    await store.begin('job-d', 30_000);
    await store.complete('job-d', 3600);
    expect(await store.begin('job-d', 30_000)).toBe('completed');
  });

  it('lets a retry run the job after a failed delivery released its lease', async () => {
    await store.begin('job-e', 30_000);
    await store.release('job-e');
    expect(await store.begin('job-e', 30_000)).toBe('started');
  });

  it('never releases a completed job', async () => {
    await store.begin('job-f', 30_000);
    await store.complete('job-f', 3600);
    await store.release('job-f');
    expect(await store.begin('job-f', 30_000)).toBe('completed');
  });

  it('takes over a lease that expired (its holder died), checked in code since dynalite has no TTL', async () => {
    await store.begin('job-g', 1_000);
    clock += 5_000;
    expect(await store.begin('job-g', 1_000)).toBe('started');
  });

  it('forgets a completion after its TTL', async () => {
    await store.begin('job-h', 1_000);
    await store.complete('job-h', 60);
    clock += 120_000;
    expect(await store.begin('job-h', 1_000)).toBe('started');
  });
});

describe('the DynamoDB idempotency store, when DynamoDB accepts connections and never answers', () => {
  let silent: Server;
  let endpoint: string;
  const held = new Set<Socket>();

  beforeAll(async () => {
    silent = createServer((socket) => {
      held.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('gives up on recording a completion after DYNAMODB_WAIT_MS, with a DynamoDbTimeoutError', async () => {
    const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const store = createDynamoDbIdempotencyStore({ tableName: 'idempotency', dynamo: dynamoDbLoader(client) });
    const started = Date.now();
    await expect(store.complete('job#silent', 60)).rejects.toBeInstanceOf(DynamoDbTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(DYNAMODB_WAIT_MS - 50);
    client.destroy();
  });
});

/** An endpoint on 127.0.0.1 that the store's default client reaches (through AWS_ENDPOINT_URL_DYNAMODB), counting connections. */
interface DefaultClientEndpoint {
  connections(): number;
  close(): Promise<void>;
}

/** Starts it; `serve` handles each connection (1 for the first) and returns any socket it opened, closed at the end. */
async function defaultClientEndpoint(serve: (socket: Socket, connection: number) => Socket | undefined): Promise<DefaultClientEndpoint> {
  const saved = { ...process.env };
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    const opened = serve(socket, connections);
    if (opened) sockets.add(opened);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
  return {
    connections: () => connections,
    async close() {
      process.env = saved;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the DynamoDB idempotency store with its default client, when one request stalls', () => {
  let dynamo: LocalDynamo;
  let endpoint: DefaultClientEndpoint;

  beforeAll(async () => {
    dynamo = await startDynalite();
    await dynamo.createTable('idempotency');
    const target = new URL(dynamo.endpoint);
    // The first connection is accepted and never answered; every later one reaches dynalite.
    endpoint = await defaultClientEndpoint((socket, connection) => {
      if (connection === 1) return undefined;
      const upstream = connect(Number(target.port), target.hostname);
      upstream.on('error', () => socket.destroy());
      socket.pipe(upstream).pipe(socket);
      return upstream;
    });
  });
  afterAll(async () => {
    await endpoint.close();
    await dynamo.close();
  });

  it('retries the stalled request and answers within DYNAMODB_WAIT_MS', async () => {
    const store = createDynamoDbIdempotencyStore({ tableName: 'idempotency' });
    await expect(store.begin('job#stalled-once', 30_000)).resolves.toBe('started');
    expect(endpoint.connections()).toBe(2);
  });
});

describe('the DynamoDB idempotency store with its default client, when DynamoDB never answers', () => {
  let endpoint: DefaultClientEndpoint;

  beforeAll(async () => {
    endpoint = await defaultClientEndpoint(() => undefined);
  });
  afterAll(() => endpoint.close());

  it('sends no retry of a call after it gave up on it', async () => {
    const store = createDynamoDbIdempotencyStore({ tableName: 'idempotency' });
    await expect(store.begin('job#given-up', 30_000)).rejects.toBeInstanceOf(DynamoDbTimeoutError);
    const atGiveUp = endpoint.connections();
    // Past the request in flight's own timeout and the SDK's retry delay: a retry would have connected by then.
    await new Promise((resolve) => setTimeout(resolve, DYNAMODB_WAIT_MS));
    expect(atGiveUp).toBeGreaterThanOrEqual(1);
    expect(endpoint.connections()).toBe(atGiveUp);
  });
});
