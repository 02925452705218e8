import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MONITOR_KINDS, renderRunbookMarkdown, runbookAnchor } from '../infra/monitoring/runbook.ts';
import * as ports from '../functions/local/ports.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('shows the two commands, npm ci && npm start and npm test, within its first 40 lines', () => {
    const top = readme.split('\n').slice(0, 40).join('\n');
    expect(top).toContain('npm ci && npm start');
    expect(top).toContain('npm test');
  });

  it('carries the runbook exactly as the monitors render it', () => {
    expect(readme).toContain(renderRunbookMarkdown().trim());
  });

  it('has an anchor for every monitor kind the monitors link to', () => {
    for (const kind of MONITOR_KINDS) expect(readme).toContain(`<a id="${runbookAnchor(kind)}"></a>`);
  });

  it('lists each local server on the address and variable that functions/local/ports.ts defines', () => {
    const host = ports.LOCAL_HOST;
    expect(readme).toContain(`| \`http://${host}:${ports.DEFAULT_SQS_PORT}\` | \`${ports.SQS_PORT_ENV}\` |`);
    expect(readme).toContain(`| \`udp://${host}:${ports.DEFAULT_DOGSTATSD_PORT}\` | \`${ports.DOGSTATSD_PORT_ENV}\` |`);
    expect(readme).toContain(`| a free port (shown on start) | \`${ports.DYNAMODB_PORT_ENV}\` |`);
    expect(readme).toContain(`| \`http://${host}:${ports.DEFAULT_DASHBOARD_PORT}\` | \`${ports.DASHBOARD_PORT_ENV}\` |`);
    expect(readme).toContain(`| \`http://${host}:${ports.DEFAULT_SCHEDULER_PORT}\` | \`${ports.SCHEDULER_PORT_ENV}\` |`);
  });
});
