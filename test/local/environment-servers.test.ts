/**
 * The local environment's list of servers: the core ones (SQS, DogStatsD, DynamoDB) each with the line
 * `npm start` prints, and the ones a caller adds through `servers`, started last with the running environment
 * and closed first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalEnvironment, type LocalEnvironment } from '../../functions/local/environment.ts';
import { serverLines, type LocalServerSpec } from '../../functions/local/local-server.ts';
import { fixtureTemplate } from './fixtures/stack-template.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function start(servers: readonly LocalServerSpec[] = []): Promise<LocalEnvironment> {
  const dir = mkdtempSync(join(tmpdir(), 'environment-servers-'));
  dirs.push(dir);
  return startLocalEnvironment({
    sqsPort: 0,
    dogstatsdPort: 0,
    localDir: dir,
    source: { template: fixtureTemplate() },
    startWorkers: false,
    applyToProcessEnv: false,
    servers,
    onNotice: () => undefined,
  });
}

describe('the local environment servers', () => {
  it('lists SQS, DogStatsD, DynamoDB and the Scheduler with where each listens', async () => {
    const env = await start();
    try {
      expect(env.servers.map((server) => server.name)).toEqual(['SQS', 'DogStatsD', 'DynamoDB', 'Scheduler']);
      const lines = serverLines(env.servers);
      const urls = [...env.queues.values()].map((queue) => queue.url).join(', ');
      expect(lines[0]).toBe(`  SQS        ${env.sqs.endpoint}    (port: LOCAL_SQS_PORT; AWS_ENDPOINT_URL_SQS; queues ${urls})`);
      expect(lines[1]).toMatch(new RegExp(`^  DogStatsD  udp://127\\.0\\.0\\.1:${env.listener.port} `));
      expect(lines[1]).toContain('standing in for the Datadog Lambda extension layer 99 (DataDog/serverless-components@d0c7f44');
      expect(lines[2]).toContain(env.dynamodb.endpoint);
      expect(lines[3]).toContain(`${env.scheduler.endpoint}    (port: LOCAL_SCHEDULER_PORT; AWS_ENDPOINT_URL_SCHEDULER;`);
    } finally {
      await env.stop();
    }
  }, 30_000);

  it('names on each server line the variable that moves its port', async () => {
    const env = await start();
    try {
      const lines = serverLines(env.servers);
      for (const [index, variable] of ['LOCAL_SQS_PORT', 'LOCAL_DOGSTATSD_PORT', 'LOCAL_DYNAMODB_PORT', 'LOCAL_SCHEDULER_PORT'].entries()) {
        expect(lines[index]).toContain(`(port: ${variable};`);
      }
    } finally {
      await env.stop();
    }
  }, 30_000);

  it('starts an added server last, with the running environment, and closes it before the core servers', async () => {
    const events: string[] = [];
    const extra: LocalServerSpec = {
      name: 'Extra',
      start: async (environment) => {
        events.push(`started with ${environment.queues.size} job queue(s)`);
        return {
          name: 'Extra',
          line: 'http://127.0.0.1:9499',
          close: async () => void events.push(`closed while SQS answered ${(await environment.sqs.counts()).size > 0}`),
        };
      },
    };
    const env = await start([extra]);
    expect(env.servers.map((server) => server.name)).toEqual(['SQS', 'DogStatsD', 'DynamoDB', 'Scheduler', 'Extra']);
    await env.stop();
    expect(events).toEqual(['started with 2 job queue(s)', 'closed while SQS answered true']);
  }, 30_000);

  it('closes the core servers again when an added server does not start', async () => {
    const failing: LocalServerSpec = {
      name: 'Dashboard',
      start: () => Promise.reject(new Error('port 9400 is taken')),
    };
    await expect(start([failing])).rejects.toThrow('port 9400 is taken');
    const again = await start();
    await again.stop();
  }, 30_000);
});
