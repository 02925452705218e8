/**
 * `send-email` `{to, subject, text?, html?}`: sends one email (SES v2 in AWS; an .eml file in
 * `EMAIL_OUTBOX_DIR` locally). Idempotent by default: a redelivered job whose email was sent is not sent again.
 */
import * as z from 'zod/mini';
import { defineJob } from '../runtime/job.ts';

/** The payload of `send-email`. */
export const sendEmailSchema = z
  .object({
    to: z.email(),
    subject: z.string().check(z.minLength(1), z.maxLength(998)),
    text: z.optional(z.string()),
    html: z.optional(z.string()),
  })
  .check(z.refine((p) => p.text !== undefined || p.html !== undefined, { message: 'one of text or html is required' }));

/** The payload of `send-email`. */
export type SendEmailPayload = z.infer<typeof sendEmailSchema>;

/** The `send-email` job. */
export const sendEmail = defineJob({
  type: 'send-email',
  queue: 'default',
  schema: sendEmailSchema,
  timeoutMs: 15_000,
  retry: { maxAttempts: 5, baseDelaySeconds: 30, maxDelaySeconds: 900 },
  idempotency: true,
  // The local demo's periodic job (`npm start`): an email every minute in the outbox, on stage local only.
  schedules: [
    {
      name: 'demo-heartbeat',
      expression: 'rate(1 minute)',
      stages: ['local'],
      payload: { to: 'demo@example.com', subject: 'Scheduled hello', text: 'Sent every minute by the local EventBridge Scheduler.' },
      description: 'local demo: a periodic job',
    },
  ],
  example: () => ({ to: 'ada@example.com', subject: 'Welcome', text: 'Hello Ada', html: '<p>Hello Ada</p>' }),
  handler: async (payload, context) => {
    const { deliverEmail } = await import('./email-transport.ts');
    await deliverEmail(payload, context);
  },
});
