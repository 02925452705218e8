import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildMonitoring } from '../../infra/monitoring/definitions.ts';
import { toExport, type MonitoringExport } from '../../infra/monitoring/export.ts';
import { renderRunbookMarkdown } from '../../infra/monitoring/runbook.ts';
import { targetFromCatalog } from '../../infra/monitoring/target.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const SCRIPT = path.join(ROOT, 'infra/monitoring/export.ts');
const dirs: string[] = [];

/** Runs the export script as a user would (`npx tsx infra/monitoring/export.ts ...`). */
function runExport(...args: string[]) {
  const result = spawnSync(TSX, [SCRIPT, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, DATADOG_API_KEY_SECRET_ARN: '' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('infra/monitoring/export.ts', () => {
  it('prints the definitions the stack deploys as API v1 JSON', () => {
    const { status, stdout } = runExport('--stage', 'prod');
    expect(status).toBe(0);
    const printed = JSON.parse(stdout) as MonitoringExport;
    expect(printed).toEqual(toExport(buildMonitoring(targetFromCatalog({ env: 'prod' }))));
  });

  it('prints the same definitions from the catalog alone (--from-catalog) as from the stack', () => {
    const fromStack = runExport('--stage', 'dev');
    const fromCatalog = runExport('--stage', 'dev', '--from-catalog');
    expect(fromCatalog.status).toBe(0);
    expect(JSON.parse(fromCatalog.stdout)).toEqual(JSON.parse(fromStack.stdout));
  });

  it('writes dashboard.json and one API body per monitor with --out', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'monitoring-export-'));
    dirs.push(dir);
    const { status, stderr } = runExport('--out', dir, '--notify', '@slack-jobs');
    expect(status).toBe(0);
    const expected = buildMonitoring(targetFromCatalog(), { notify: ['@slack-jobs'] });
    expect(stderr).toContain(`wrote ${expected.monitors.length + 1} files`);
    expect(JSON.parse(readFileSync(path.join(dir, 'dashboard.json'), 'utf8'))).toEqual(expected.dashboard);
    expect(readdirSync(path.join(dir, 'monitors')).toSorted()).toEqual(expected.monitors.map((m) => `${m.key}.json`).toSorted());
    const dlq = JSON.parse(readFileSync(path.join(dir, 'monitors', 'default-dlq-not-empty.json'), 'utf8')) as Record<string, unknown>;
    expect(dlq).toEqual(expected.monitors.find((m) => m.key === 'default-dlq-not-empty')!.definition);
  });

  it('prints the README runbook section with --runbook', () => {
    const { status, stdout } = runExport('--runbook');
    expect(status).toBe(0);
    expect(stdout).toBe(`${renderRunbookMarkdown()}\n`);
  });

  it('fails with a clear message and status 1 on a bad option value', () => {
    const { status, stderr, stdout } = runExport('--notify', 'slack-jobs');
    expect(status).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('export: monitoring: notification handle "slack-jobs" must look like @slack-channel');
  });

  it('fails on an unknown flag', () => {
    const { status, stderr } = runExport('--stgae', 'prod');
    expect(status).toBe(1);
    expect(stderr).toContain("Unknown option '--stgae'");
  });
});
