/**
 * Fault: DynamoDB (the idempotency store and the attempts ledger) becomes unavailable in the middle of the run, then
 * comes back (issue 13). A seeded plan of 1,000 standard-queue jobs (all idempotent: retries, permanent failures,
 * timeouts, Retry-After, duplicates) runs on the chaos stack with the workers' DynamoDB endpoint behind a TCP proxy.
 * Once a quarter of the records are finished, the proxy resets every connection for a while, then accepts them and
 * never answers for a while (the client's request timeout must end each wait), then forwards again. Jobs whose lease
 * could not be taken were not run: they come back, spend no attempt, and none is dead-lettered for the outage; every
 * job ends as the plan says, with exactly one side effect for those that complete. Prints its accounting.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  deadByReason,
  planMismatches,
  focusedPlan,
  startFocusedRun,
  WORKER_LOGS,
  type FocusedResult,
  type FocusedRun,
} from './focused-run.ts';
import { startFlakyProxy, type FlakyProxy } from './flaky-proxy.ts';
import { renderTable } from './table.ts';

const plan = focusedPlan(20_261_208, 1000);
const messages = plan.standardSendOrder.length;
/** The outage begins after this many finished records. */
const OUTAGE_AFTER = Math.round(messages / 4);
/** How long the proxy resets connections, then how long it holds them unanswered. */
const REFUSE_MS = 3_000;
const STALL_MS = 3_000;
/** Lines the worker logs because the store is down (besides retries): a completion or a failed run it could not record. */
const OUTAGE_LOGS = new Set([
  'could not record the job as completed',
  'could not count the failed run: it may run once more than retry.maxAttempts; check DynamoDB',
]);

let proxy: FlakyProxy;
let run: FocusedRun;
let result: FocusedResult;
let outage: Promise<void> | undefined;
let outageStartedAt = 0;
let outageEndedAt = 0;
const finishedAt = { start: 0, end: 0 };
let finishedRecords = 0;
/** When each invocation began (its report's time less its duration). */
const begunAt = new Map<string, number>();

/** Refuse, then stall, then pass again. */
async function injectOutage(): Promise<void> {
  outageStartedAt = Date.now();
  finishedAt.start = finishedRecords;
  proxy.set('refuse');
  await sleep(REFUSE_MS);
  proxy.set('stall');
  await sleep(STALL_MS);
  proxy.set('pass');
  outageEndedAt = Date.now();
  finishedAt.end = finishedRecords;
}

beforeAll(async () => {
  proxy = await startFlakyProxy();
  run = await startFocusedRun({
    name: 'dynamodb-outage',
    plan,
    sandboxEnv: { AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint },
    onInvocation: (report, finished) => {
      begunAt.set(report.requestId, Date.now() - report.durationMs);
      finishedRecords = finished;
      if (outage === undefined && finished >= OUTAGE_AFTER) outage = injectOutage();
    },
    alsoExpected: (log) => OUTAGE_LOGS.has(log.message ?? ''),
  });
  proxy.target(Number(new URL(run.env.dynamodb.endpoint).port));
  result = await run.finish();
  await outage;
  console.log(accounting());
}, 600_000);

afterAll(async () => {
  await run?.stop();
  await proxy?.close();
});

const logsOf = (message: string) => run.logs.filter((log) => log.message === message);
const duringOutage = () =>
  run.reports.filter((report) => {
    const at = begunAt.get(report.requestId) ?? 0;
    return at >= outageStartedAt && at < outageEndedAt;
  });

function accounting(): string {
  const completions = [...OUTAGE_LOGS].map((message) => logsOf(message).length);
  return renderTable(`Fault: DynamoDB unavailable mid-run, seed ${plan.options.seed}`, [
    ['jobs planned / messages sent', `${plan.jobs.length} / ${result.sent}`],
    ['jobs not ending as planned', planMismatches(plan, result).length],
    ['dead-lettered', deadByReason(result)],
    [
      'outage',
      `${((outageEndedAt - outageStartedAt) / 1000).toFixed(1)} s (reset ${REFUSE_MS / 1000} s, then unanswered ${STALL_MS / 1000} s), records ${finishedAt.start}-${finishedAt.end}`,
    ],
    ['connections reset / held / forwarded', `${proxy.counts.refused} / ${proxy.counts.stalled} / ${proxy.counts.forwarded}`],
    ['receives not run (lease or ledger unreachable)', logsOf(WORKER_LOGS.notStarted).length],
    ['failed runs retried', logsOf(WORKER_LOGS.retry).length],
    ['completions / failed runs not recorded', `${completions[0]} / ${completions[1]}`],
    ['invocations (begun in the outage)', `${run.reports.length} (${duringOutage().length})`],
    ['wall time, first send to drained', `${(result.wallMs / 1000).toFixed(1)} s`],
  ]);
}

describe('fault: DynamoDB is unavailable for a while in the middle of the run', () => {
  it('resets and then stalls the connections to DynamoDB while jobs run, and lets them through again', () => {
    expect(outageEndedAt - outageStartedAt).toBeGreaterThanOrEqual(REFUSE_MS + STALL_MS);
    expect(proxy.counts.refused).toBeGreaterThan(0);
    expect(proxy.counts.stalled).toBeGreaterThan(0);
    expect(duringOutage().length).toBeGreaterThan(0);
  });

  it('returns the jobs it could not start as not run, and logs nothing unexpected', () => {
    expect(logsOf(WORKER_LOGS.notStarted).length).toBeGreaterThan(0);
    expect(run.unexpectedLogs).toEqual([]);
  });

  it('ends every invocation by itself', () => {
    expect(run.reports.filter((report) => report.status !== 'success' && report.status !== 'partial').map((r) => r.error)).toEqual([]);
  });

  it('ends every job as the plan says: none dead-lettered for the outage, none run twice', () => {
    expect(result.sent).toBe(messages);
    expect(planMismatches(plan, result)).toEqual([]);
    expect(result.unplannedDeadLetters).toEqual([]);
  });
});
