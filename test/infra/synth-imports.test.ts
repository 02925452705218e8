/**
 * What `cdk synth` loads: the stack's import graph, as esbuild resolves it from infra/main.ts, takes the
 * runtime's shared constants from side-effect-free modules and never the worker's metrics client.
 */
import path from 'node:path';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/bundling.ts';

/** The repository files and the packages the CDK app imports, from esbuild's metafile (nothing is written). */
function appImports(): { files: string[]; packages: string[] } {
  const { metafile } = buildSync({
    entryPoints: [path.join(REPO_ROOT, 'infra', 'main.ts')],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    write: false,
    outdir: path.join(REPO_ROOT, 'cdk.out', 'imports-check'),
    metafile: true,
    logLevel: 'silent',
  });
  const packages = Object.values(metafile.outputs).flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path));
  return { files: Object.keys(metafile.inputs), packages };
}

describe("the CDK app's imports", () => {
  const { files, packages } = appImports();

  it('take the metric limits from functions/runtime/metric-limits.ts', () => {
    expect(files).toContain('functions/runtime/metric-limits.ts');
  });

  it("do not load the worker's metrics client or hot-shots", () => {
    expect(files).not.toContain('functions/runtime/metrics.ts');
    expect(packages.filter((name) => name === 'hot-shots' || name.startsWith('hot-shots/'))).toEqual([]);
  });
});
