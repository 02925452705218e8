/**
 * What Datadog receives, read by Datadog's own API client: the exported dashboard and every monitor body
 * are deserialized with `@datadog/datadog-api-client`'s v1 `ObjectSerializer` into its `Dashboard` and
 * `Monitor` models. A body fails when a field is unknown to the model, an enum value is unknown, or a
 * required field is missing (the serializer throws for those).
 */
import { v1 } from '@datadog/datadog-api-client';
import { describe, expect, it } from 'vitest';
import { buildMonitoring } from '../../infra/monitoring/definitions.ts';
import { toExport } from '../../infra/monitoring/export.ts';
import { targetFromCatalog } from '../../infra/monitoring/target.ts';

/** Every model class the v1 package exports: a deserialized object that is none of them was not parsed. */
const MODELS: ReadonlySet<unknown> = new Set(Object.values(v1).filter((value) => typeof value === 'function'));

/**
 * What the model did not understand in a deserialized value: fields it kept aside as additional
 * properties, and values it could not parse (an unknown enum value, a widget matching no definition).
 */
function problems(value: unknown, path: string): string[] {
  if (value === null || typeof value !== 'object' || value instanceof Date) return [];
  if (Array.isArray(value)) return value.flatMap((item, i) => problems(item, `${path}[${i}]`));
  if (!MODELS.has(value.constructor)) return [`${path}: a value the model does not know`];
  const found: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    if (key === 'additionalProperties') found.push(...Object.keys(child as object).map((extra) => `${path}.${extra}: unknown field`));
    else found.push(...problems(child, `${path}.${key}`));
  }
  return found;
}

/** Deserializes `body` as the v1 model `type`; returns what it did not understand (throws on a missing required field). */
function readAs(type: 'Dashboard' | 'Monitor', body: unknown): string[] {
  const parsed: unknown = v1.ObjectSerializer.deserialize(JSON.parse(JSON.stringify(body)), type);
  return problems(parsed, type);
}

const exported = toExport(buildMonitoring(targetFromCatalog({ env: 'prod' }), { notify: ['@slack-jobs'] }));

describe("Datadog's API client models", () => {
  it('read the exported dashboard without an unknown field or value', () => {
    expect(readAs('Dashboard', exported.dashboard)).toEqual([]);
  });

  it('read every exported monitor body without an unknown field or value', () => {
    expect(exported.monitors.length).toBeGreaterThan(10);
    const found = exported.monitors.flatMap(({ key, ...body }) => readAs('Monitor', body).map((p) => `${key}: ${p}`));
    expect(found).toEqual([]);
  });
});

describe('the check with those models', () => {
  const monitor = (({ key: _key, ...body }) => body)(exported.monitors[0]!);

  it('fails on a field the model does not know', () => {
    expect(readAs('Monitor', { ...monitor, options: { ...monitor.options, notify_nobody: true } })).toEqual([
      'Monitor.options.notify_nobody: unknown field',
    ]);
  });

  it('fails on a field the model does not know inside a widget', () => {
    const [group] = exported.dashboard.widgets;
    const widget = { definition: { ...group!.definition, show_everything: true } };
    expect(readAs('Dashboard', { ...exported.dashboard, widgets: [widget] })).toEqual([
      'Dashboard.widgets[0].definition.show_everything: unknown field',
    ]);
  });

  it('fails on an enum value the model does not know', () => {
    expect(readAs('Monitor', { ...monitor, type: 'query alarm' })).toEqual(['Monitor.type: a value the model does not know']);
  });

  it('fails on a widget that matches no widget definition', () => {
    const widget = { definition: { type: 'timeseries', title: 't', requests: [{ display_type: 'dots', queries: [] }] } };
    expect(readAs('Dashboard', { ...exported.dashboard, widgets: [widget] })[0]).toMatch(
      /^Dashboard\.widgets\[0\]\.definition: a value the model does not know/,
    );
  });

  it('fails on a missing required field', () => {
    const { query: _query, ...withoutQuery } = monitor;
    expect(() => readAs('Monitor', withoutQuery)).toThrow("missing required property 'query'");
  });
});
