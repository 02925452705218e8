/**
 * The browser tests' world: the real local environment (SQS, DogStatsD listener, workers in sandboxes) on
 * free ports, a webhook peer that refuses jobs until told otherwise, the dashboard serving it, and headless
 * Chromium. Screenshots go under test-results/dashboard/ (gitignored).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { createLocalSource, type LocalSource } from '../../functions/dashboard/local-source.ts';
import { startDashboardServer, type DashboardServer } from '../../functions/dashboard/server.ts';
import { startLocalEnvironment, type LocalEnvironment, type LocalJobQueue } from '../../functions/local/environment.ts';
import { launchChromium, type TestBrowser } from './browser.ts';

/** Where the screenshots go. */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../test-results/dashboard/', import.meta.url));

/** The running world. */
export interface LocalDashboard {
  readonly env: LocalEnvironment;
  readonly source: LocalSource;
  readonly dashboard: DashboardServer;
  readonly browser: TestBrowser;
  readonly page: Page;
  /** `http://127.0.0.1:<port>` of the webhook peer. */
  readonly peerUrl: string;
  /** Paths the peer accepted (while not refusing). */
  readonly delivered: Set<string>;
  /** While true the peer answers 410 Gone, which the worker treats as permanent: the job is dead-lettered. */
  refusing: boolean;
  queue(name: string): LocalJobQueue;
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts the environment, the dashboard (actions allowed unless `readOnly`) and a browser page on it. */
export async function startLocalDashboard(options: { readonly readOnly?: boolean } = {}): Promise<LocalDashboard> {
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-test-'));
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const delivered = new Set<string>();
  let source: LocalSource | undefined;
  const world: { refusing: boolean } = { refusing: true };
  const peer: Server = createServer((request, response) => {
    request.resume();
    if (!world.refusing) delivered.add(request.url ?? '');
    response.statusCode = world.refusing ? 410 : 200;
    response.end();
  });
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  const env = await startLocalEnvironment({
    sqsPort: 0,
    dogstatsdPort: 0,
    localDir: dir,
    applyToProcessEnv: false,
    waitTimeSeconds: 1,
    onLog: () => undefined,
    onNotice: () => undefined,
    onInvocation: (report) => source?.invocation(report),
  });
  source = createLocalSource(env, { refreshMs: 500 });
  const dashboard = await startDashboardServer({ port: 0, allowActions: options.readOnly !== true, source });
  const browser = await launchChromium();
  const page = await browser.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const localSource = source;
  return Object.assign(world, {
    env,
    source: localSource,
    dashboard,
    browser,
    page,
    peerUrl: `http://127.0.0.1:${(peer.address() as AddressInfo).port}`,
    delivered,
    queue(name: string): LocalJobQueue {
      const found = env.queues.get(name);
      if (!found) throw new Error(`the stack has no queue ${name}`);
      return found;
    },
    async screenshot(name: string) {
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    },
    async close() {
      await browser.close().catch(() => undefined);
      await dashboard.close();
      await env.stop();
      await new Promise((resolve) => peer.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
