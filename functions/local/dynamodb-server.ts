/**
 * The local DynamoDB stand-in: dynalite (DynamoDB's API on an in-memory LevelDB) on 127.0.0.1, with the
 * template's tables (the idempotency table). Workers reach it through `AWS_ENDPOINT_URL_DYNAMODB`.
 * dynalite has no TTL; the idempotency store checks expiry in its conditions, so that does not matter.
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { checkPort, listenTcp } from './local-server.ts';
import { DEFAULT_DYNAMODB_PORT, DYNAMODB_PORT_ENV, LOCAL_CREDENTIALS, LOCAL_HOST, LOCAL_REGION } from './ports.ts';
import type { TemplateTable } from './template.ts';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

/** The running stand-in. */
export interface LocalDynamoDb {
  /** `http://127.0.0.1:<port>`: the endpoint for `AWS_ENDPOINT_URL_DYNAMODB`. */
  readonly endpoint: string;
  /** Creates the template's tables (key schema and attribute definitions; on-demand). */
  createTables(tables: readonly TemplateTable[]): Promise<void>;
  close(): Promise<void>;
}

/** Starts dynalite in memory on 127.0.0.1, on `port` (default {@link DEFAULT_DYNAMODB_PORT}: any free port). */
export async function startLocalDynamoDb(port = DEFAULT_DYNAMODB_PORT): Promise<LocalDynamoDb> {
  checkPort('DynamoDB', port);
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const endpoint = `http://${LOCAL_HOST}:${await listenTcp(server, port, 'The local DynamoDB', DYNAMODB_PORT_ENV)}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  return {
    endpoint,
    async createTables(tables) {
      for (const table of tables) {
        await client.send(
          new CreateTableCommand({
            TableName: table.tableName,
            KeySchema: [...table.keySchema],
            AttributeDefinitions: [...table.attributeDefinitions],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
      }
    },
    async close() {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
