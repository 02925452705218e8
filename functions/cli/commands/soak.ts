/**
 * `jobs soak <type> [--invocations N] [--payload <json|@file>] [--batch-size N]`: the leak check. Runs a job
 * type of the catalog in one warm local sandbox and prints heap, RSS and open descriptors per invocation with
 * their slopes; exits 1 when a figure grows over its threshold (or the job fails). Needs no running environment.
 */
import { findJob } from '../../jobs/catalog.ts';
import { numberOption, stringOption } from '../args.ts';
import { CliError, UsageError } from '../errors.ts';
import { println, type CliIo, type ParsedValues } from '../io.ts';
import { readPayloadText } from './enqueue.ts';

/** Invocations when `--invocations` is not given. */
export const DEFAULT_SOAK_INVOCATIONS = 2000;

async function payloadOption(values: ParsedValues, io: CliIo): Promise<unknown> {
  const argument = stringOption(values, 'payload');
  if (argument === undefined) return undefined;
  const text = await readPayloadText(argument, io);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`--payload is not valid JSON: ${(error as Error).message}`);
  }
}

/** Runs `soak`. */
export async function soakCommand(positionals: readonly string[], values: ParsedValues, io: CliIo): Promise<number> {
  const [type, ...extra] = positionals;
  if (!type || extra.length > 0) throw new UsageError('usage: jobs soak <type> [--invocations N] [--payload @file] [--batch-size N]');
  const job = findJob(type);
  if (!job) throw new UsageError(`unknown job type "${type}"`);
  const invocations = numberOption(values, 'invocations', 2, 10_000_000) ?? DEFAULT_SOAK_INVOCATIONS;
  const batchSize = numberOption(values, 'batch-size', 1, 10_000);
  const payload = await payloadOption(values, io);
  const { runSoak, SoakPayloadError } = await import('../../soak/run-soak.ts');
  const { renderSoak } = await import('../../soak/report.ts');
  const step = Math.max(1, Math.round(invocations / 10));
  try {
    const result = await runSoak({
      job,
      invocations,
      batchSize,
      payload,
      onProgress: (done, total) => {
        if (done % step === 0 && done < total) io.stderr.write(`soak ${type}: ${done}/${total} invocations\n`);
      },
    });
    if (values.json === true) println(io.stdout, JSON.stringify(result, null, 2));
    else println(io.stdout, renderSoak(result));
    return result.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof SoakPayloadError) throw new CliError(error.message);
    throw error;
  }
}
