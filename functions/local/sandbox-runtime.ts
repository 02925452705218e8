/**
 * The inside of one local Lambda sandbox: runs in its own worker thread (its own module graph, globals and
 * `process.env`, like a Lambda execution environment), imports the handler module ONCE (the cold start) and
 * then serves invocations one at a time with a Lambda-like context. On shutdown it closes the module's
 * metrics client when the module exports one (`metrics.close()`), as a sandbox that goes away would.
 */
import { randomBytes } from 'node:crypto';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { serializeError, type FromSandbox, type SandboxWorkerData, type ToSandbox } from './sandbox-protocol.ts';

// The nodejs24.x runtime calls handlers with (event, context) only: callback-style handlers are gone from it.
type Handler = (event: unknown, context: Context) => unknown;

if (parentPort === null) throw new Error('sandbox-runtime.ts runs only inside a worker thread');
const port: MessagePort = parentPort;
const data = workerData as SandboxWorkerData;
const post = (message: FromSandbox): void => port.postMessage(message);

const logStreamName = `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomBytes(16).toString('hex')}`;

function unsupported(): never {
  throw new Error('context.done/fail/succeed are not supported: return a value or a promise');
}

function contextFor(requestId: string, deadline: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: data.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${data.region}:${data.accountId}:function:${data.functionName}`,
    memoryLimitInMB: String(data.memorySize),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${data.functionName}`,
    logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  let module: Record<string, unknown>;
  try {
    module = (await import(data.entryUrl)) as Record<string, unknown>;
  } catch (error) {
    post({ type: 'init-error', error: serializeError(error) });
    return;
  }
  const exported = module[data.exportName];
  if (typeof exported !== 'function') {
    post({
      type: 'init-error',
      error: { name: 'Runtime.HandlerNotFound', message: `${data.entryUrl} has no function export "${data.exportName}"` },
    });
    return;
  }
  const handler = exported as Handler;
  port.on('message', (message: ToSandbox) => {
    if (message.type === 'invoke') {
      Promise.resolve()
        .then(() => handler(message.event, contextFor(message.requestId, message.deadline)))
        .then(
          (value) => post({ type: 'result', ok: true, value }),
          (error: unknown) => post({ type: 'result', ok: false, error: serializeError(error) }),
        );
    } else if (message.type === 'shutdown') {
      const metrics = module.metrics as { close?: () => Promise<void> } | undefined;
      // A close that fails or is missing still ends the sandbox.
      void Promise.resolve()
        .then(() => metrics?.close?.())
        .catch(() => undefined)
        .then(() => {
          post({ type: 'closed' });
          port.close();
        });
    }
  });
  post({ type: 'ready', initMs: performance.now() - started });
}

await main();
