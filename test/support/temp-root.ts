/**
 * Vitest global setup: every test run writes its temporary files (synthesized assemblies, outboxes, bundles) under one
 * directory of its own, deleted when the run ends, so repeated `npm test` runs leave nothing in the system's temporary
 * directory. The directory is provided to the test files, whose setup file (`use-temp-root.ts`) points `TMPDIR` at it:
 * `os.tmpdir()` reads that variable, and processes the tests start inherit it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's temporary directory. */
    tempRoot: string;
  }
}

/** Creates the run's directory and provides it; the returned teardown deletes it. */
export function setup(project: TestProject): () => void {
  const root = mkdtempSync(join(tmpdir(), 'serverless-jobs-test-'));
  project.provide('tempRoot', root);
  return () => rmSync(root, { recursive: true, force: true });
}
