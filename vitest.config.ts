import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    // Job logs are JSON lines on stdout; tests read outcomes, not logs.
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  },
});
