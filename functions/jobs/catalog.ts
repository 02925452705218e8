/**
 * The job catalog: every job type the workers run and producers may enqueue.
 * Add a job: write `functions/jobs/<type>.ts` with `defineJob(...)`, then list it here.
 */
import type { JobDefinition } from '../runtime/job.ts';
import { deliverWebhook } from './deliver-webhook.ts';
import { sendEmail } from './send-email.ts';

/** Every job type, by its `type`. */
export const catalog = {
  [sendEmail.type]: sendEmail,
  [deliverWebhook.type]: deliverWebhook,
} as const;

/** The catalog's shape. */
export type Catalog = typeof catalog;
/** A job type name. */
export type JobType = keyof Catalog;
/** The payload type of a job type. */
export type PayloadOf<T extends JobType> = Catalog[T] extends JobDefinition<string, infer P> ? P : never;

/** The distinct logical queues the catalog needs (each gets a queue, a DLQ and a worker). */
export const queueNames: readonly string[] = [...new Set(Object.values(catalog).map((job) => job.queue))].toSorted();

/** Looks a job up by type; `undefined` for a type the catalog does not know. */
export function findJob(type: string): JobDefinition | undefined {
  return Object.hasOwn(catalog, type) ? catalog[type as JobType] : undefined;
}
