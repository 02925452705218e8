/**
 * The leak check (`jobs soak`): every catalog job type runs flat for a few hundred warm invocations in a
 * real local sandbox, and a test-only job that creates a DogStatsD client per run and never closes it fails it.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { catalog, findJob } from '../../functions/jobs/catalog.ts';
import type { JobDefinition } from '../../functions/runtime/job.ts';
import { runSoak } from '../../functions/soak/run-soak.ts';
import { leastSquaresSlope } from '../../functions/soak/slopes.ts';
import { leakyClient } from './fixtures/leaky-job.ts';

const LEAKY_WORKER = fileURLToPath(new URL('./fixtures/leaky-worker.ts', import.meta.url));
/** Small enough for `npm test`; `npm run jobs -- soak <type> --invocations 20000` is the long run. */
const INVOCATIONS = 300;
const catalogJobs: JobDefinition[] = Object.keys(catalog).flatMap((type) => findJob(type) ?? []);

describe('jobs soak', () => {
  for (const job of catalogJobs) {
    it(`finds no growth in ${job.type}, whose every record succeeds`, { timeout: 180_000 }, async () => {
      const result = await runSoak({ job, invocations: INVOCATIONS });
      expect(result.failedRecords).toBe(0);
      expect(result.invocationErrors).toEqual([]);
      expect(result.verdicts.filter((verdict) => !verdict.ok)).toEqual([]);
      expect(result.ok).toBe(true);
    });
  }

  it('fails a job that creates a metrics client per run and never closes it', { timeout: 180_000 }, async () => {
    const result = await runSoak({ job: leakyClient, invocations: 100, entry: LEAKY_WORKER });
    expect(result.failedRecords).toBe(0);
    const fds = result.verdicts.find((verdict) => verdict.figure === 'fds');
    expect(fds?.ok).toBe(false);
    expect(fds?.slope).toBeGreaterThan(5);
    expect(result.ok).toBe(false);
  });

  it('refuses a payload that does not fit the job schema, before starting a sandbox', async () => {
    await expect(
      runSoak({ job: catalogJobs[0] ?? leakyClient, invocations: 10, payload: { not: 'a payload of any job' } }),
    ).rejects.toThrow(/payload is invalid/);
  });

  it('gives every catalog job type an example payload that fits its schema', () => {
    for (const job of catalogJobs) {
      const example = job.example?.({ httpUrl: 'http://127.0.0.1:1' });
      expect({ type: job.type, fits: job.schema.safeParse(example).success }).toEqual({ type: job.type, fits: true });
    }
  });

  it('takes the least-squares slope of a line exactly', () => {
    expect(leastSquaresSlope([1, 2, 3, 4], [10, 12, 14, 16])).toBe(2);
    expect(leastSquaresSlope([1, 2, 3], [5, 5, 5])).toBe(0);
  });
});
