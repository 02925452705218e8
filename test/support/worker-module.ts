/**
 * Loads a fresh instance of the real worker module (functions/handlers/worker.ts) with the given
 * environment, as a new Lambda sandbox would, and closes its metrics client afterwards.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';

type WorkerModule = typeof import('../../functions/handlers/worker.ts');

/** The environment every test worker gets unless overridden. */
export function workerEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DEAD_LETTER_QUEUE_URL: 'http://127.0.0.1:9/000000000000/test-default-dlq',
    JOB_QUEUE: 'default',
    EMAIL_OUTBOX_DIR: mkdtempSync(join(tmpdir(), 'outbox-')),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...overrides,
  };
}

/** Imports a new instance of the worker module with `env` set. */
export async function loadWorker(env: Record<string, string>): Promise<WorkerModule> {
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  vi.resetModules();
  return import('../../functions/handlers/worker.ts');
}
