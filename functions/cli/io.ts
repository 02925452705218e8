/** What a CLI run reads and writes: injected, so tests run the CLI in-process against a local SQS. */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ProgressStream } from './progress.ts';

/** An output stream (process.stdout, or a test's collector). */
export type CliOutput = ProgressStream;

/** The world of one CLI run. */
export interface CliIo {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** Environment variables (AWS_REGION, AWS_ENDPOINT_URL_SQS, LOCAL_SQS_PORT, JOBS_DEBUG). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Working directory for relative file arguments. Default `process.cwd()`. */
  readonly cwd?: string;
  /** Standard input, for `@-` payloads. */
  readonly stdin?: NodeJS.ReadableStream;
  /** Aborts the run gracefully (Ctrl-C): the current batch finishes, held messages are released. */
  readonly signal?: AbortSignal;
  /** Asks a yes/no question; absent = not interactive (destructive commands then need `--yes`). */
  readonly confirm?: (question: string) => Promise<boolean>;
  /** An SQS client to use instead of the one the target would create (tests: fault injection). */
  readonly sqs?: SQSClient;
}

/** Parsed command-line values shared by every command. */
export interface ParsedValues {
  readonly [option: string]: string | boolean | undefined;
}

/** Writes a line to an output. */
export function println(out: CliOutput, text = ''): void {
  out.write(`${text}\n`);
}
