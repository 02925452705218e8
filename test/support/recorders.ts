/**
 * In-memory stand-ins for the processor's seams, for tests of its decisions alone: a metrics recorder
 * and recorded SQS actions. Tests that need SQS itself use the local SQS server instead.
 */
import type { JobMetrics, RecordMetrics } from '../../functions/runtime/metrics.ts';
import type { SqsActions } from '../../functions/runtime/processor.ts';
import type { DeadLetterEntry, VisibilityEntry } from '../../functions/runtime/sqs-actions.ts';

/** A JobMetrics that keeps what it was given. */
export function recordingMetrics(): JobMetrics & { records: RecordMetrics[]; runtimeCalls: number } {
  const records: RecordMetrics[] = [];
  const recorder = {
    records,
    runtimeCalls: 0,
    errors: 0,
    recordJob(record: RecordMetrics) {
      records.push(record);
    },
    recordRuntime() {
      recorder.runtimeCalls += 1;
    },
    flush: async () => undefined,
    close: async () => undefined,
  };
  return recorder;
}

/** SqsActions that record their calls; `failDeadLetters` / `failVisibility` make them report failure. */
export function recordedSqsActions(options: { failDeadLetters?: boolean; failVisibility?: boolean } = {}): SqsActions & {
  deadLetters: DeadLetterEntry[];
  visibility: VisibilityEntry[];
} {
  const deadLetters: DeadLetterEntry[] = [];
  const visibility: VisibilityEntry[] = [];
  return {
    deadLetters,
    visibility,
    async sendToDeadLetterQueue(_url, entries) {
      if (options.failDeadLetters) return new Set(entries.map((entry) => entry.id));
      deadLetters.push(...entries);
      return new Set();
    },
    async changeVisibility(_url, entries) {
      if (options.failVisibility) return new Set(entries.map((entry) => entry.id));
      visibility.push(...entries);
      return new Set();
    },
  };
}
