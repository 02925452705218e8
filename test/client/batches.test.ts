import { describe, expect, it } from 'vitest';
import { inBatches, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES } from '../../functions/client/batches.ts';

describe('cutting a list into SQS batch calls', () => {
  it('makes batches of at most 10 entries, in order', () => {
    const items = Array.from({ length: 23 }, (_, i) => i);
    const batches = inBatches(items);
    expect(batches.map((batch) => batch.length)).toEqual([MAX_BATCH_ENTRIES, MAX_BATCH_ENTRIES, 3]);
    expect(batches.flat()).toEqual(items);
  });

  it('makes no batch of an empty list', () => {
    expect(inBatches([])).toEqual([]);
  });

  it('starts a new batch before the total size would pass 1 MiB, when entries have a size', () => {
    const half = MAX_BATCH_BYTES / 2;
    const batches = inBatches([half, half, 1, half], (bytes) => bytes);
    expect(batches).toEqual([
      [half, half],
      [1, half],
    ]);
  });

  it('gives an entry larger than 1 MiB a batch of its own, for SQS to refuse', () => {
    expect(inBatches([1, MAX_BATCH_BYTES + 1, 1], (bytes) => bytes)).toEqual([[1], [MAX_BATCH_BYTES + 1], [1]]);
  });
});
