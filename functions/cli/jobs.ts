/**
 * Entry point of the `jobs` CLI (`npm run jobs -- <command>`, or the `jobs` bin). Wires the process to
 * {@link runCli}: stdout/stderr, the environment, a y/N prompt on a terminal, and Ctrl-C as a graceful
 * stop (a second Ctrl-C exits at once).
 */
import { createInterface } from 'node:readline/promises';
import { runCli } from './main.ts';

const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(130);
  process.stderr.write('\nstopping after the current batch (Ctrl-C again to quit now)\n');
  controller.abort();
});

/**
 * The directory relative file arguments (`@payload.json`, `--from`, `--journal`) are read from: where the user typed the
 * command. `npm run jobs` runs this script at the package root, so there it is npm's INIT_CWD.
 */
const cwd = process.env.npm_lifecycle_event === 'jobs' && process.env.INIT_CWD ? process.env.INIT_CWD : process.cwd();

async function confirm(question: string): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd,
  stdin: process.stdin,
  signal: controller.signal,
  ...(process.stdin.isTTY ? { confirm } : {}),
});
