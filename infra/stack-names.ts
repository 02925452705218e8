/**
 * Physical names at synth: the one rule of functions/client/queue-names.ts, with a name that breaks it turned into a
 * {@link ConfigurationError} that says what to change, so `cdk synth` refuses it.
 */
import { stageNamePrefix } from '../functions/client/queue-names.ts';
import { ConfigurationError } from '../functions/runtime/errors.ts';

/** A physical name by the rule of functions/client/queue-names.ts; one that breaks it is a {@link ConfigurationError}. */
export function stackName<T>(name: () => T): T {
  try {
    return name();
  } catch (error) {
    if (error instanceof RangeError) throw new ConfigurationError(error.message);
    throw error;
  }
}

/** Throws a {@link ConfigurationError} when `stage` cannot be part of resource names. */
export function checkStage(stage: string): string {
  stackName(() => stageNamePrefix(stage));
  return stage;
}
