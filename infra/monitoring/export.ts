/**
 * Prints or writes the dashboard and monitors as Datadog API v1 JSON bodies: the same definitions the
 * stack deploys through the CloudFormation registry types, for accounts that prefer the API.
 *
 *   npx tsx infra/monitoring/export.ts                     # {dashboard, monitors} JSON on stdout
 *   npx tsx infra/monitoring/export.ts --stage prod --out .local/datadog
 *       # dashboard.json and monitors/<key>.json: bodies for POST /api/v1/dashboard and POST /api/v1/monitor
 *   npx tsx infra/monitoring/export.ts --runbook           # the README's Runbook section (markdown)
 *
 * By default the CDK app is built in-process (not synthesized, nothing bundled) with `datadogMonitoring`
 * on, and the definitions are taken from its `DatadogMonitoring` construct: names, service and env are
 * exactly the stack's. `--from-catalog` builds them from the job catalog and a naming rule instead.
 * Options: --stage (default dev), --notify @a,@b, --runbook-url URL, --from-catalog, --service (catalog only).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import { buildMonitoring, type MonitoringDefinitions } from './definitions.ts';
import type { MonitoringOptions } from './options.ts';
import { renderRunbookMarkdown } from './runbook.ts';
import { targetFromCatalog } from './target.ts';
import type { DashboardDefinition, MonitorDefinition } from './types.ts';

/** The export's JSON document. */
export interface MonitoringExport {
  readonly dashboard: DashboardDefinition;
  readonly monitors: readonly (MonitorDefinition & { readonly key: string })[];
}

/** The export document of built definitions. */
export function toExport(definitions: MonitoringDefinitions): MonitoringExport {
  return {
    dashboard: definitions.dashboard,
    monitors: definitions.monitors.map((m) => ({ key: m.key, ...m.definition })),
  };
}

/** Writes `dashboard.json` and one `monitors/<key>.json` per monitor (the API body, without the key) under `dir`; returns the files. */
export function writeExport(definitions: MonitoringDefinitions, dir: string): string[] {
  mkdirSync(join(dir, 'monitors'), { recursive: true });
  const dashboardFile = join(dir, 'dashboard.json');
  writeFileSync(dashboardFile, `${JSON.stringify(definitions.dashboard, null, 2)}\n`);
  const files = [dashboardFile];
  for (const m of definitions.monitors) {
    const file = join(dir, 'monitors', `${m.key}.json`);
    writeFileSync(file, `${JSON.stringify(m.definition, null, 2)}\n`);
    files.push(file);
  }
  return files;
}

/** The definitions the stack of `stage` deploys, from the CDK app built in-process (no synth, no bundling). */
export async function definitionsFromStack(stage: string, options: MonitoringOptions = {}): Promise<MonitoringDefinitions> {
  // Loaded on demand: the CDK app is only needed here (--runbook and --from-catalog start faster).
  const [{ buildApp }, { DatadogMonitoring, MONITORING_CONTEXT_KEY }, { datadogMonitoringFactory }] = await Promise.all([
    import('../app.ts'),
    import('./construct.ts'),
    import('./stack-wiring.ts'),
  ]);
  const { stack } = buildApp({
    context: { stage, [MONITORING_CONTEXT_KEY]: true, nag: false, 'aws:cdk:bundling-stacks': [] },
    monitoring: datadogMonitoringFactory(options),
  });
  const construct = stack.node.tryFindChild('DatadogMonitoring');
  if (!(construct instanceof DatadogMonitoring)) throw new ConfigurationError('the stack did not add its Datadog monitoring construct');
  return construct.definitions;
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      stage: { type: 'string', default: 'dev' },
      service: { type: 'string' },
      notify: { type: 'string' },
      'runbook-url': { type: 'string' },
      'from-catalog': { type: 'boolean', default: false },
      out: { type: 'string' },
      runbook: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.runbook) {
    process.stdout.write(`${renderRunbookMarkdown()}\n`);
    return;
  }
  const options: MonitoringOptions = {
    ...(values.notify === undefined
      ? {}
      : {
          notify: values.notify
            .split(',')
            .map((h) => h.trim())
            .filter((h) => h !== ''),
        }),
    ...(values['runbook-url'] === undefined ? {} : { runbookUrl: values['runbook-url'] }),
  };
  if (values.service !== undefined && !values['from-catalog'])
    throw new ConfigurationError('--service applies to --from-catalog only (the stack sets DD_SERVICE itself)');
  const definitions = values['from-catalog']
    ? buildMonitoring(
        targetFromCatalog({ env: values.stage, ...(values.service === undefined ? {} : { service: values.service }) }),
        options,
      )
    : await definitionsFromStack(values.stage, options);
  if (values.out === undefined) {
    process.stdout.write(`${JSON.stringify(toExport(definitions), null, 2)}\n`);
    return;
  }
  const files = writeExport(definitions, resolve(values.out));
  process.stderr.write(`wrote ${files.length} files under ${resolve(values.out)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`export: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
