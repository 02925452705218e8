/**
 * SQS's limits for one batch call (SendMessageBatch, DeleteMessageBatch, ChangeMessageVisibilityBatch) and the one
 * way this project cuts a list into such calls: in order, at most 10 entries each and, when entries have a size,
 * at most 1 MiB in total. No imports, no side effects: the worker, the client, the CLI and the local event source
 * all use it.
 */

/** SQS's limit of entries per batch call. */
export const MAX_BATCH_ENTRIES = 10;
/** SQS's limit of a SendMessageBatch call's total size, in bytes. */
export const MAX_BATCH_BYTES = 1_048_576;

/**
 * Cuts `items`, in order, into batches of at most {@link MAX_BATCH_ENTRIES} entries; given `bytesOf`, also of at most
 * {@link MAX_BATCH_BYTES} in total (an entry larger than that gets a batch of its own, for SQS to refuse).
 */
export function inBatches<T>(items: readonly T[], bytesOf?: (item: T) => number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const itemBytes = bytesOf ? bytesOf(item) : 0;
    if (current.length > 0 && (current.length >= MAX_BATCH_ENTRIES || bytes + itemBytes > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += itemBytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
