/**
 * The module the leak check loads in its sandbox: it imports the real handler module (`SOAK_HANDLER_URL`)
 * once, re-exports its `metrics` (so the sandbox closes that client on shutdown) and calls its `handler`
 * unchanged. Every `SOAK_SAMPLE_EVERY`-th invocation, after the handler returned, it runs a full garbage
 * collection and adds the sandbox's figures to the response (`soakSample`): the V8 heap still in use
 * and the memory its objects hold outside it (what a leak keeps), the process's resident set and its open descriptors. Measuring after a collection is
 * what makes a short run meaningful: garbage is gone, only what is retained remains.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { openFileDescriptors } from '../runtime/metrics.ts';

/** The figures of one sampled invocation. */
export interface SoakSample {
  /** V8 heap in use plus external memory (Buffers), bytes. */
  readonly heap: number;
  readonly rss: number;
  readonly fds: number;
}

/** The handler's response plus, on sampled invocations, the figures. */
export type SoakResponse = SQSBatchResponse & { readonly soakSample?: SoakSample };

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const url = process.env.SOAK_HANDLER_URL;
if (url === undefined || url === '') throw new Error('SOAK_HANDLER_URL is not set: the soak sets it to the handler module to measure');
const sampleEvery = Math.max(1, Number(process.env.SOAK_SAMPLE_EVERY ?? '1'));
const real = (await import(url)) as { handler?: unknown; metrics?: unknown };
if (typeof real.handler !== 'function') throw new Error(`${url} has no function export "handler"`);
const realHandler = real.handler as Handler;

// `--expose-gc` set at run time makes `gc` visible in contexts created afterwards; Node offers no other
// way to collect garbage on demand in a worker thread.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** The real module's metrics client, for the sandbox's shutdown. */
export const metrics: unknown = real.metrics;

let invocations = 0;

/** Calls the real handler; samples every `SOAK_SAMPLE_EVERY`-th invocation. */
export async function handler(event: SQSEvent, context: Context): Promise<SoakResponse> {
  const response = await realHandler(event, context);
  invocations += 1;
  if (invocations % sampleEvery !== 0) return response;
  collectGarbage();
  const heap = getHeapStatistics();
  const soakSample: SoakSample = {
    heap: heap.used_heap_size + heap.external_memory,
    rss: process.memoryUsage.rss(),
    fds: openFileDescriptors(),
  };
  return { ...response, soakSample };
}
