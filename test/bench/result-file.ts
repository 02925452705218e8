/**
 * The child side of runChild() (test/bench/child.ts): appends JSON lines to the result file the parent
 * reads. The file is opened once, at module load, so writing still works when the process has run out
 * of file descriptors (the seed-way leak benchmark does exactly that).
 */
import { openSync, writeSync } from 'node:fs';

const file = process.env.BENCH_RESULT_FILE;
const fd = file === undefined ? undefined : openSync(file, 'a');

/** Writes `value` as one JSON line (synchronously, so it survives a crash right after). */
export function emitResult(value: unknown): void {
  if (fd === undefined) throw new Error('BENCH_RESULT_FILE is not set: run this script through runChild()');
  writeSync(fd, `${JSON.stringify(value)}\n`);
}
