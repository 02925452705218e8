/**
 * The Dead letters actions' request bodies, checked with zod before anything runs. zod/mini, as the rest of
 * the project: the full zod would load its English messages into zod's global configuration for the process.
 */
import * as z from 'zod/mini';
import { summarizeIssues } from '../runtime/payload-issues.ts';

/** A request body that is not a valid action. */
export class ActionRequestError extends Error {
  override readonly name: string = 'ActionRequestError';
}

const bounded = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));
const queue = bounded(80);
const messageIds = z.array(bounded(200)).check(z.minLength(1), z.maxLength(1000));
const filter = z.strictObject({
  jobType: z.optional(z.string().check(z.maxLength(200))),
  reason: z.optional(z.string().check(z.maxLength(200))),
});

const SCHEMAS = {
  redrive: z.strictObject({ queue, messageIds: z.optional(messageIds), filter: z.optional(filter) }),
  delete: z.strictObject({ queue, messageIds }),
  purge: z.strictObject({ queue, confirm: z.string().check(z.maxLength(200)) }),
  cancel: z.strictObject({ schedule: bounded(64) }),
} as const;

/** A checked action. */
export type ParsedAction =
  | {
      readonly kind: 'redrive';
      readonly queue: string;
      readonly messageIds: string[] | undefined;
      readonly filter: z.infer<typeof filter> | undefined;
    }
  | { readonly kind: 'delete'; readonly queue: string; readonly messageIds: string[] }
  | { readonly kind: 'purge'; readonly queue: string }
  | { readonly kind: 'cancel'; readonly schedule: string };

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ActionRequestError('the request body is not JSON');
  }
}

/** Checks one action's body; throws {@link ActionRequestError} saying what is wrong. */
export function parseAction(name: string, text: string): ParsedAction {
  const json = parseJson(text);
  const check = <T>(schema: z.ZodMiniType<T>): T => {
    const result = schema.safeParse(json);
    if (!result.success) throw new ActionRequestError(`invalid ${name} request: ${summarizeIssues(result.error.issues)}`);
    return result.data;
  };
  switch (name) {
    case 'redrive': {
      const body = check(SCHEMAS.redrive);
      if ((body.messageIds === undefined) === (body.filter === undefined))
        throw new ActionRequestError('a redrive names either messageIds or a filter');
      return { kind: 'redrive', queue: body.queue, messageIds: body.messageIds, filter: body.filter };
    }
    case 'delete': {
      const body = check(SCHEMAS.delete);
      return { kind: 'delete', queue: body.queue, messageIds: body.messageIds };
    }
    case 'purge': {
      const body = check(SCHEMAS.purge);
      if (body.confirm !== body.queue) throw new ActionRequestError(`type the queue's name ("${body.queue}") to confirm the purge`);
      return { kind: 'purge', queue: body.queue };
    }
    case 'cancel':
      return { kind: 'cancel', schedule: check(SCHEMAS.cancel).schedule };
    default:
      throw new ActionRequestError(`unknown action "${name}" (redrive, delete, purge, cancel)`);
  }
}
