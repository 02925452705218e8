/**
 * The fault-injection run's worker module: built exactly like functions/handlers/worker.ts (one
 * `createWorkerHandler` call at module scope: the sandbox's one metrics client, the batch processor configured
 * from the environment, the idempotency store, the flush-metrics middleware), with the chaos job catalog
 * (test/faults/chaos-jobs.ts) instead of the real one.
 *
 * Env: everything worker.ts reads, plus CHAOS_JOURNAL (the journal file every sandbox appends to).
 * Each load of this module (a cold start) journals an `init` line.
 */
import { randomUUID } from 'node:crypto';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import type { JobDefinition } from '../../functions/runtime/job.ts';
import type { JobMetrics } from '../../functions/runtime/metrics.ts';
import { createWorkerHandler } from '../../functions/runtime/worker-handler.ts';
import { chaosJobs } from './chaos-jobs.ts';
import { appendJournal, JOURNAL_ENV } from './journal.ts';

const journalPath = process.env[JOURNAL_ENV];
if (!journalPath) throw new ConfigurationError(`${JOURNAL_ENV} is not set: the chaos worker needs its journal file`);

const jobs = new Map(chaosJobs((line) => appendJournal(journalPath, line)).map((job): [string, JobDefinition] => [job.type, job]));

const worker = createWorkerHandler({ findJob: (type) => jobs.get(type) });

/** The sandbox's one metrics client (the local environment closes it when the sandbox is reloaded). */
export const metrics: JobMetrics = worker.metrics;

/** The Lambda handler. */
export const handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> = worker.handler;

appendJournal(journalPath, { event: 'init', at: Date.now(), instance: randomUUID() });
