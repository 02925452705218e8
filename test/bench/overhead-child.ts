/**
 * The per-record overhead benchmark's measuring process (started by test/bench/overhead.ts, metrics sent to
 * the listener in DD_AGENT_HOST / DD_DOGSTATSD_PORT). Every variant processes the same 10-record batch of the
 * same job (JSON body `{type, payload}`, a no-op handler); the variants run interleaved, in a new random
 * order each round, so drift and garbage collection hit them alike.
 *
 * Usage: overhead-child.ts <rounds> <invocationsPerRound>
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { parser as batchParser } from '@aws-lambda-powertools/batch/parser';
import middyCore from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z as zodClassic } from 'zod';
import * as z from 'zod/mini';
import type { JobMetrics } from '../../functions/runtime/metrics.ts';
import { BATCH_SIZE, benchJob, EMAIL_PAYLOAD, findBenchJob, lambdaContext, sqsEvent } from './fixtures.ts';
import { emitResult } from './result-file.ts';
import { shuffled } from './stats.ts';
import { assembledWorker, hotShotsMetrics, projectMetrics, stubSqs, type WorkerHandler } from './workers.ts';

/** One variant's timings: nanoseconds per record, one number per round. */
export interface OverheadResult {
  readonly type: 'result';
  readonly rounds: number;
  readonly invocationsPerRound: number;
  /** Wall time and this process's CPU time (user + system), in ns per record, one number per round. */
  readonly variants: {
    readonly id: string;
    readonly nsPerRecord: number[];
    readonly cpuNsPerRecord: number[];
    readonly failures: number;
  }[];
  /** Socket errors of the metrics clients. */
  readonly metricErrors: Record<string, number>;
}

const [roundsText = '5', perRoundText = '200'] = process.argv.slice(2);
const rounds = Number(roundsText);
const perRound = Number(perRoundText);
const host = process.env.DD_AGENT_HOST ?? '127.0.0.1';
const port = Number(process.env.DD_DOGSTATSD_PORT);

/** The job every variant runs: nothing, asynchronously. */
const runJob = async (_payload: unknown): Promise<void> => undefined;

// The zod/mini schemas the worker uses: the message envelope and the job's payload.
const envelope = z.looseObject({
  type: z.string().check(z.minLength(1), z.maxLength(256)),
  payload: z.optional(z.unknown()),
  jobId: z.optional(z.string()),
});
const payloadSchema = benchJob.schema;

const rawLoop: WorkerHandler = async (event) => {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      await runJob(JSON.parse(record.body));
    } catch {
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};

const middyPartial = middyCore<SQSEvent, SQSBatchResponse>()
  .use(sqsPartialBatchFailure())
  .handler((async (event: SQSEvent) =>
    Promise.allSettled(event.Records.map(async (record) => runJob(JSON.parse(record.body))))) as never) as WorkerHandler;

const powertoolsProcessor = new BatchProcessor(EventType.SQS);
const powertools: WorkerHandler = (event, context) =>
  processPartialResponse(event, async (record: SQSRecord) => runJob(JSON.parse(record.body)), powertoolsProcessor, { context });

const powertoolsZodProcessor = new BatchProcessor(EventType.SQS);
const powertoolsZod: WorkerHandler = (event, context) =>
  processPartialResponse(
    event,
    async (record: SQSRecord) => {
      const message = envelope.parse(JSON.parse(record.body));
      await runJob(payloadSchema.parse(message.payload));
    },
    powertoolsZodProcessor,
    { context },
  );

// Powertools' own parser integration: the record's body parsed and validated by a (classic) zod schema.
const innerSchema = zodClassic.object({
  type: zodClassic.literal(benchJob.type),
  payload: zodClassic.object({
    to: zodClassic.email(),
    subject: zodClassic.string().min(1).max(998),
    text: zodClassic.string().optional(),
    html: zodClassic.string().optional(),
  }),
});
const powertoolsParserProcessor = new BatchProcessor(EventType.SQS, { parser: batchParser, innerSchema, transformer: 'json' });
const powertoolsParser: WorkerHandler = (event, context) =>
  processPartialResponse(
    event,
    async (record: SQSRecord) => runJob((record as unknown as { body: unknown }).body),
    powertoolsParserProcessor,
    { context },
  );

const metricsProject = projectMetrics(host, port);
const metricsHotShots = hotShotsMetrics({ host, port, maxBufferSize: 8192 });
const noMetrics: JobMetrics = {
  errors: 0,
  recordJob: () => undefined,
  recordRuntime: () => undefined,
  flush: async () => undefined,
  close: async () => undefined,
};

const variants: { id: string; handler: WorkerHandler }[] = [
  { id: 'raw', handler: rawLoop },
  { id: 'middy-partial', handler: middyPartial },
  { id: 'powertools', handler: powertools },
  { id: 'powertools-zod', handler: powertoolsZod },
  { id: 'powertools-parser', handler: powertoolsParser },
  { id: 'worker-no-metrics', handler: assembledWorker(noMetrics, { findJob: findBenchJob, sqs: stubSqs() }) },
  { id: 'worker-hot-shots', handler: assembledWorker(metricsHotShots, { findJob: findBenchJob, sqs: stubSqs() }) },
  { id: 'worker', handler: assembledWorker(metricsProject, { findJob: findBenchJob, sqs: stubSqs() }) },
];

const event = sqsEvent(benchJob.type, EMAIL_PAYLOAD);
const timings = new Map<string, number[]>(variants.map((v) => [v.id, []]));
const cpuTimings = new Map<string, number[]>(variants.map((v) => [v.id, []]));
const failures = new Map<string, number>(variants.map((v) => [v.id, 0]));

// Warm-up: every variant, enough for the JIT to settle.
for (const variant of variants) {
  for (let i = 0; i < Math.min(500, perRound * 2); i++) await variant.handler(event, lambdaContext);
}

for (let round = 0; round < rounds; round++) {
  for (const variant of shuffled(variants)) {
    let failed = 0;
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) {
      const response = await variant.handler(event, lambdaContext);
      failed += response.batchItemFailures.length;
    }
    const elapsed = Number(process.hrtime.bigint() - started);
    const used = process.cpuUsage(cpu);
    timings.get(variant.id)?.push(elapsed / (perRound * BATCH_SIZE));
    cpuTimings.get(variant.id)?.push(((used.user + used.system) * 1000) / (perRound * BATCH_SIZE));
    failures.set(variant.id, (failures.get(variant.id) ?? 0) + failed);
  }
}

const result: OverheadResult = {
  type: 'result',
  rounds,
  invocationsPerRound: perRound,
  variants: variants.map((v) => ({
    id: v.id,
    nsPerRecord: timings.get(v.id) ?? [],
    cpuNsPerRecord: cpuTimings.get(v.id) ?? [],
    failures: failures.get(v.id) ?? 0,
  })),
  metricErrors: { worker: metricsProject.errors, 'worker-hot-shots': metricsHotShots.errors },
};
emitResult(result);
await metricsProject.close();
await metricsHotShots.close();
process.exit(0);
