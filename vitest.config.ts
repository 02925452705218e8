import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Temporary files of a run go under one directory, deleted when it ends.
    globalSetup: ['test/support/temp-root.ts'],
    setupFiles: ['test/support/use-temp-root.ts'],
    reporters: ['default'],
    // Job logs are JSON lines on stdout; tests read outcomes, not logs.
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  },
});
