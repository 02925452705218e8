/**
 * Finds the URL of a logical queue: an explicit map first, then the environment variable the
 * infrastructure sets ({@link queueUrlEnvVar}). A URL found is kept; a missing one is looked up again next
 * time (so a process that sets the variable later still works).
 */
import { queueNames } from '../jobs/catalog.ts';
import { ConfigurationError } from '../runtime/errors.ts';
import { QueueNotConfiguredError } from './errors.ts';
import { queueUrlEnvVar } from './queue-names.ts';

/** Resolves logical queue names to queue URLs. */
export type QueueUrlResolver = (queue: string) => string;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * Builds a resolver. `queueUrls` is validated here, once: a queue no job uses or a malformed URL is a
 * {@link ConfigurationError}.
 * A missing or malformed environment value is a {@link QueueNotConfiguredError} when that queue is used.
 */
export function createQueueUrlResolver(
  queueUrls: Readonly<Record<string, string | undefined>> = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): QueueUrlResolver {
  const known = new Map<string, string>();
  for (const [queue, url] of Object.entries(queueUrls)) {
    if (url === undefined) continue;
    if (!queueNames.includes(queue))
      throw new ConfigurationError(`queueUrls.${queue}: no job uses queue "${queue}" (queues: ${queueNames.join(', ')})`);
    if (!isHttpUrl(url)) throw new ConfigurationError(`queueUrls.${queue} is not an http(s) URL: "${url}"`);
    known.set(queue, url);
  }
  return (queue) => {
    const cached = known.get(queue);
    if (cached !== undefined) return cached;
    const envVar = queueUrlEnvVar(queue);
    const value = env[envVar]?.trim();
    if (!value) throw new QueueNotConfiguredError(queue, envVar);
    if (!isHttpUrl(value)) throw new QueueNotConfiguredError(queue, envVar, `is not an http(s) URL ("${value}")`);
    known.set(queue, value);
    return value;
  };
}
