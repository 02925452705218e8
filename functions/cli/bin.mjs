#!/usr/bin/env node
/**
 * The `jobs` bin: runs functions/cli/jobs.ts on the repository's pinned Node 24 (the `node` dev
 * dependency) with tsx's loader, whatever `node` comes first on PATH and whatever the working directory.
 * Ctrl-C reaches the CLI itself (same process group), which stops gracefully; this launcher waits for it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../../', import.meta.url);
const pinnedNode = fileURLToPath(new URL('node_modules/node/bin/node', root));
const node = existsSync(pinnedNode) ? pinnedNode : process.execPath;
const loader = import.meta.resolve('tsx');
const script = fileURLToPath(new URL('functions/cli/jobs.ts', root));

const child = spawn(node, ['--import', loader, script, ...process.argv.slice(2)], { stdio: 'inherit' });
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('error', (error) => {
  process.stderr.write(`jobs: cannot start ${node}: ${error.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal === 'SIGINT' ? 130 : 1));
});
