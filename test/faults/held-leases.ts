/**
 * Held leases of the fault-injection run (issue 13): the run writes an `in_progress` idempotency item for each planned
 * job before it is sent, as if another delivery held its lease, and deletes it once the worker has returned the job
 * unprocessed for its planned number of receives. Every such receive spends an SQS receive but no attempt.
 */
import { DeleteItemCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { LocalEnvironment } from '../../functions/local/environment.ts';
import type { HeldLease } from './plan.ts';

/** The leases of a run, held until released. */
export interface HeldLeases {
  /** Job id -> its planned lease. */
  readonly byJob: ReadonlyMap<string, HeldLease>;
  /** Called for each receive that did not run a held job: frees its lease after its planned receives. */
  notStarted(jobId: string | undefined, receiveCount: number | undefined): void;
  /** Jobs whose lease was freed, and after how many receives. */
  readonly released: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

/** The idempotency item of a job's lease. */
const key = (lease: HeldLease) => ({ id: { S: `${lease.type}#${lease.jobId}` } });

/** Holds `leases` in the environment's idempotency table (an hour each, longer than any run). */
export async function holdLeases(env: LocalEnvironment, leases: readonly HeldLease[]): Promise<HeldLeases> {
  const tableName = env.model.tables[0]?.tableName ?? '';
  const client = new DynamoDBClient({
    endpoint: env.dynamodb.endpoint,
    region: env.env.AWS_REGION,
    credentials: { accessKeyId: env.env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: env.env.AWS_SECRET_ACCESS_KEY ?? '' },
  });
  const expiresAt = { N: String(Math.ceil(Date.now() / 1000) + 3600) };
  await Promise.all(
    leases.map((lease) =>
      client.send(new PutItemCommand({ TableName: tableName, Item: { ...key(lease), status: { S: 'in_progress' }, expiresAt } })),
    ),
  );
  const byJob = new Map(leases.map((lease) => [lease.jobId, lease]));
  const released = new Map<string, number>();
  const pending: Promise<unknown>[] = [];
  return {
    byJob,
    released,
    notStarted(jobId, receiveCount) {
      const lease = byJob.get(jobId ?? '');
      if (!lease || released.has(lease.jobId) || (receiveCount ?? 0) < lease.receives) return;
      released.set(lease.jobId, receiveCount ?? 0);
      pending.push(client.send(new DeleteItemCommand({ TableName: tableName, Key: key(lease) })));
    },
    async close() {
      await Promise.allSettled(pending);
      client.destroy();
    },
  };
}
