/**
 * `cdk synth` through the real CLI (cdk.json's app command, no AWS credentials), and the worker asset it
 * bundles with the local esbuild: it exists, both workers share it, it loads on Node.js 24 and exports the
 * handler, and the SQS client stays off the path a successful batch loads. Bundles once for the whole file.
 */
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueNames } from '../../functions/jobs/catalog.ts';
import { describeBundle, REPO_ROOT, WORKER_ENTRY_FILE, type WorkerBundle } from '../../infra/bundling.ts';
import { jobQueueLogicalIds } from '../../infra/job-queue.ts';

const run = promisify(execFile);

interface CfnFunction {
  Properties: { Code: { S3Key: string }; Handler: string };
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

/** The environment without AWS credentials or profile, with the repository's node_modules/.bin (Node 24) first on PATH. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(AWS_|CDK_DEFAULT_)/.test(key) && key !== 'DATADOG_API_KEY_SECRET_ARN') env[key] = value;
  }
  env.PATH = `${path.join(REPO_ROOT, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH ?? ''}`;
  env.AWS_EC2_METADATA_DISABLED = 'true';
  return env;
}

describe('cdk synth through the CLI, offline and without credentials', () => {
  let outdir: string;
  let template: { Resources: Record<string, unknown> };
  let bundle: WorkerBundle;
  let listener: Socket;

  beforeAll(async () => {
    outdir = mkdtempSync(path.join(tmpdir(), 'serverless-jobs-cli-'));
    await run(
      path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk'),
      ['synth', '--quiet', '--output', outdir, '--context', 'emailFrom=jobs@example.org'],
      {
        cwd: REPO_ROOT,
        env: offlineEnv(),
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    template = JSON.parse(readFileSync(path.join(outdir, 'ServerlessJobs-dev.template.json'), 'utf8')) as typeof template;
    const assets = JSON.parse(readFileSync(path.join(outdir, 'ServerlessJobs-dev.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    const worker = template.Resources[jobQueueLogicalIds(queueNames[0] as string).worker] as CfnFunction;
    const hash = worker.Properties.Code.S3Key.replace(/\.zip$/, '');
    const asset = assets.files[hash];
    if (!asset) throw new Error(`no asset ${hash} in the assembly`);
    bundle = describeBundle(path.join(outdir, asset.source.path));
    listener = createSocket('udp4');
    await new Promise<void>((resolve) => listener.bind(0, '127.0.0.1', resolve));
  }, 120_000);

  afterAll(() => {
    listener?.close();
  });

  it('bundles the worker into one asset that every worker uses', () => {
    const keys = queueNames.map((name) => (template.Resources[jobQueueLogicalIds(name).worker] as CfnFunction).Properties.Code.S3Key);
    expect(new Set(keys).size).toBe(1);
    expect(bundle.files[0]?.path).toBe(WORKER_ENTRY_FILE);
    expect(bundle.files[0]?.loads).toBe('start');
  });

  it('prints the asset size: what a successful batch loads, and the whole bundle', () => {
    const start = bundle.files.filter((file) => file.loads === 'start');
    console.log(
      `worker asset: ${kb(bundle.startBytes)} loaded at start (${start.map((file) => `${file.path} ${kb(file.bytes)}`).join(', ')}); ` +
        `${kb(bundle.totalBytes)} of JavaScript in ${bundle.files.length} files (the rest loads on first use)`,
    );
    expect(bundle.startBytes).toBeGreaterThan(0);
    expect(bundle.startBytes).toBeLessThanOrEqual(bundle.totalBytes);
  });

  it('keeps the SQS client (DLQ sends, visibility changes) off the start path', () => {
    const holders = bundle.files.filter((file) => readFileSync(path.join(bundle.outdir, file.path), 'utf8').includes('AmazonSQS'));
    expect(holders.length).toBeGreaterThan(0);
    expect(holders.every((file) => file.loads === 'first-use')).toBe(true);
  });

  it('loads on Node.js 24 as an ES module and exports the handler the functions name', async () => {
    const handlerName = (template.Resources[jobQueueLogicalIds(queueNames[0] as string).worker] as CfnFunction).Properties.Handler;
    expect(handlerName).toBe('index.handler');
    const script = `const m = await import(${JSON.stringify(bundle.entryFile)}); console.log(process.version, typeof m.handler);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '--enable-source-maps', '-e', script], {
      env: {
        PATH: process.env.PATH,
        DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/serverless-jobs-dev-default-dlq',
        JOB_QUEUE: 'default',
        JOB_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/serverless-jobs-dev-default',
        DD_DOGSTATSD_URL: `udp://127.0.0.1:${listener.address().port}`,
        AWS_REGION: 'eu-west-1',
      },
    });
    expect(stdout.trim()).toMatch(/^v24\.\d+\.\d+ function$/);
  });
});
