/**
 * The page's script and styles, bundled in memory by esbuild from `page/main.ts` and `page/style.css`
 * (uPlot and its CSS included from node_modules): nothing is fetched from elsewhere, and nothing is written to disk.
 * Bundled once per process, on first use.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The bundled page. */
export interface PageBundle {
  readonly js: string;
  readonly css: string;
}

const SCRIPT = fileURLToPath(new URL('./page/main.ts', import.meta.url));
const STYLES = fileURLToPath(new URL('./page/style.css', import.meta.url));
// The page's own tsconfig maps `uplot` to its type declarations (the package names none) for the type check;
// the bundle resolves the package itself, so it reads the project's tsconfig.
const TSCONFIG = fileURLToPath(new URL('../../tsconfig.json', import.meta.url));

let bundled: Promise<PageBundle> | undefined;

async function bundle(): Promise<PageBundle> {
  const result = await build({
    entryPoints: [SCRIPT, STYLES],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    outdir: 'dashboard',
    logLevel: 'silent',
    tsconfig: TSCONFIG,
  });
  const js = result.outputFiles.find((file) => file.path.endsWith('.js'))?.text ?? '';
  const css = result.outputFiles.find((file) => file.path.endsWith('.css'))?.text ?? '';
  return { js, css };
}

/** The page's bundle (built on first call, then reused). */
export function pageBundle(): Promise<PageBundle> {
  bundled ??= bundle().catch((error: unknown) => {
    bundled = undefined;
    throw error;
  });
  return bundled;
}
