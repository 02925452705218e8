/**
 * `deliver-webhook` `{url, body?, headers?, method?}`: one HTTP request with a timeout. 2xx succeeds;
 * 408, 429, 5xx and network errors retry (429/503 honour `Retry-After`); other 4xx are permanent.
 * Loopback, private, link-local and metadata destinations are refused, checked on the resolved address,
 * unless `WEBHOOK_ALLOW_PRIVATE_NETWORKS=1` (local runs and tests only).
 */
import * as z from 'zod/mini';
import { defineJob } from '../runtime/job.ts';
import { deliver } from './webhook-transport.ts';

/** The payload of `deliver-webhook`. */
export const deliverWebhookSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    body: z.optional(z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())])),
    headers: z.optional(z.record(z.string(), z.string())),
    method: z.optional(z.enum(['POST', 'PUT', 'PATCH', 'DELETE', 'GET'])),
  })
  .check(z.refine((p) => !(p.method === 'GET' && p.body !== undefined), { message: 'a GET request cannot have a body' }));

/** The payload of `deliver-webhook`. */
export type DeliverWebhookPayload = z.infer<typeof deliverWebhookSchema>;

/** The `deliver-webhook` job. */
export const deliverWebhook = defineJob({
  type: 'deliver-webhook',
  queue: 'webhooks',
  schema: deliverWebhookSchema,
  timeoutMs: 10_000,
  retry: { maxAttempts: 5, baseDelaySeconds: 5, maxDelaySeconds: 600 },
  example: ({ httpUrl }) => ({ url: `${httpUrl}/ok/orders`, body: { orderId: 42, status: 'paid' } }),
  handler: (payload, context) => deliver(payload, context),
});
