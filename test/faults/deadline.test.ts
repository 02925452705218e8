/**
 * The invocation deadline on the embedded local environment: a batch that needs more time than the worker
 * (Lambda) timeout leaves. The chaos stack with a 3 s worker timeout, one record at a time
 * (WORKER_CONCURRENCY 1) and WORKER_SAFETY_MARGIN_MS 1000 (the processor keeps min(margin, 25 % of the
 * remaining time) = 750 ms); one sandbox; 10 jobs of 400 ms each, sent in one batch: about 5 run, the one
 * running at the deadline is aborted through its signal, the rest are not started. The invocation ends by
 * itself (no Lambda timeout), the cut records come back and every job completes once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalEnvironment } from '../../functions/local/environment.ts';
import type { InvocationReport } from '../../functions/local/event-source.ts';
import { METRIC, TAG, UNKNOWN_JOB_TYPE } from '../../functions/runtime/metric-names.ts';
import { CHAOS_ORDERED_QUEUE, CHAOS_TASK, CHAOS_TASK_QUEUE } from './chaos-jobs.ts';
import { startChaosEnvironment, synthesizeChaosTemplate } from './chaos-stack.ts';
import { readJournal, type JournalLine } from './journal.ts';
import { sendPaced, waitUntilDrained } from './queues.ts';

const WORKER_TIMEOUT_SECONDS = 3;
const JOBS = 10;
const JOB_MS = 400;

let env: LocalEnvironment;
let dir: string;
let journal: JournalLine[] = [];
const reports: InvocationReport[] = [];
const retryErrors: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deadline-'));
  const journalPath = join(dir, 'journal.jsonl');
  const template = await synthesizeChaosTemplate({
    [CHAOS_TASK_QUEUE]: { timeoutSeconds: WORKER_TIMEOUT_SECONDS, workerConcurrency: 1 },
    [CHAOS_ORDERED_QUEUE]: { fifo: true, timeoutSeconds: WORKER_TIMEOUT_SECONDS },
  });
  env = await startChaosEnvironment({
    template,
    localDir: dir,
    journalPath,
    waitTimeSeconds: 1,
    concurrencyLimit: 1,
    onInvocation: (report) => void reports.push(report),
    onLog: (_fn, _stream, line) => {
      const parsed = JSON.parse(line) as { message?: string; error?: string };
      if (parsed.message === 'job failed, will retry') retryErrors.push(parsed.error ?? '');
    },
  });
  const queue = env.queues.get(CHAOS_TASK_QUEUE);
  if (!queue) throw new Error('no default queue');
  const bodies = Array.from({ length: JOBS }, (_, i) => ({
    body: JSON.stringify({ type: CHAOS_TASK, jobId: `deadline-${i}`, payload: { steps: [], durationMs: JOB_MS } }),
  }));
  await sendPaced(env.client, queue.url, bodies, { perSecond: 1000 });
  await waitUntilDrained(env.sqs, [queue.name], 60_000);
  while (env.workers.some((worker) => worker.running() > 0)) await sleep(50);
  const records = reports.reduce((sum, report) => sum + report.messageIds.length, 0);
  await env.listener.waitFor(METRIC.processed, records, { timeoutMs: 5000 }).catch(() => undefined);
  journal = readJournal(journalPath);
}, 120_000);

afterAll(async () => {
  await env?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the invocation deadline (a batch longer than the worker timeout)', () => {
  it('ends every invocation by itself before the worker timeout', () => {
    expect(reports.map((report) => report.status).filter((status) => status !== 'success' && status !== 'partial')).toEqual([]);
    expect(reports.every((report) => report.durationMs < WORKER_TIMEOUT_SECONDS * 1000)).toBe(true);
  });

  it('cuts the first batch: returns the records it did not start, and aborts the one running at the deadline', () => {
    const first = reports[0];
    expect(first?.messageIds).toHaveLength(JOBS);
    expect(first?.failedIds.length).toBeGreaterThanOrEqual(2);
    const notStarted = env.listener.countBy(METRIC.processed, TAG.outcome, { [TAG.jobType]: UNKNOWN_JOB_TYPE }).get('retry') ?? 0;
    expect(notStarted).toBeGreaterThanOrEqual(1);
    expect(retryErrors).toContain('the invocation is about to time out');
    expect(journal.filter((line) => line.event === 'aborted').length).toBeGreaterThanOrEqual(1);
  });

  it('completes every job exactly once in later invocations', () => {
    const effects = journal.filter((line) => line.event === 'effect').map((line) => line.jobId);
    expect(effects.toSorted()).toEqual(Array.from({ length: JOBS }, (_, i) => `deadline-${i}`).toSorted());
    expect(reports.length).toBeGreaterThan(1);
  });

  it('flushes jobs.processed for every record, cut ones included', () => {
    const records = reports.reduce((sum, report) => sum + report.messageIds.length, 0);
    expect(env.listener.query(METRIC.processed)?.count).toBe(records);
  });
});
