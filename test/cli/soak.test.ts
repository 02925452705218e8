/** `jobs soak`: the command line of the leak check (the measurement itself is in test/soak). */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../functions/cli/main.ts';
import { Collector } from './cli-harness.ts';

async function jobs(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Collector();
  const stderr = new Collector();
  const code = await runCli(args, { stdout, stderr, env: {} });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('jobs soak', () => {
  it('refuses a job type the catalog does not know, with exit code 2', async () => {
    const run = await jobs(['soak', 'resize-image']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown job type "resize-image"');
  });

  it('refuses fewer than two invocations', async () => {
    const run = await jobs(['soak', 'send-email', '--invocations', '1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--invocations must be a whole number from 2');
  });

  it('refuses a payload that is not JSON', async () => {
    const run = await jobs(['soak', 'send-email', '--payload', '{nope']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--payload is not valid JSON');
  });

  it('prints the sampled table, a slope per figure and a verdict that matches its exit code', { timeout: 120_000 }, async () => {
    const run = await jobs(['soak', 'send-email', '--invocations', '30', '--batch-size', '2']);
    expect(run.stdout).toContain('30 invocations of 2 records');
    expect(run.stdout).toMatch(/invocation\s+heap MiB\s+rss MiB\s+open fds/);
    for (const figure of ['heap', 'rss', 'open fds']) expect(run.stdout).toMatch(new RegExp(`^(ok  |FAIL)  ${figure} `, 'm'));
    expect(run.code).toBe(run.stdout.includes('verdict: flat') ? 0 : 1);
  });
});
