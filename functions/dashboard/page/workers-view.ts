/**
 * The Workers view. Locally: per worker its sandboxes, invocations, cold starts, and heap / open
 * descriptors over time (a leak shows as a ramp). For a stage: Lambda invocations, errors, throttles,
 * duration and max memory used from CloudWatch, per minute.
 */
import type { LambdaWorkerView, LocalWorkerView, WorkersView } from '../model.ts';
import { chart } from './charts.ts';
import { el, replace } from './dom.ts';

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

function localWorker(worker: LocalWorkerView): HTMLElement {
  return el(
    'section',
    { class: 'worker', dataset: { worker: worker.functionName } },
    el('h3', {}, `${worker.functionName} (queue ${worker.queue})`),
    el(
      'p',
      { class: 'figures' },
      el('span', {}, `sandboxes ${worker.sandboxes}/${worker.concurrency}`),
      el('span', { class: 'invocations' }, `invocations ${worker.invocations}`),
      el('span', {}, `cold starts ${worker.coldStarts}`),
      el('span', {}, `failed ${worker.failed}`),
      worker.lastError ? el('span', { class: 'error' }, `last error: ${worker.lastError}`) : undefined,
    ),
    worker.sandboxSeries.length === 0
      ? el('p', { class: 'hint' }, 'No sandbox yet: one starts (a cold start) with the first batch.')
      : undefined,
    ...worker.sandboxSeries.map((sandbox) =>
      el(
        'div',
        { class: 'sandbox' },
        el(
          'p',
          { class: 'hint sandbox-label' },
          `sandbox ${sandbox.id}${sandbox.alive ? '' : ' (ended)'}: ${sandbox.invocations} invocations`,
        ),
        chart(`heap:${worker.functionName}:${sandbox.id}`, sandbox.samples, {
          title: "heap used (left), the process's open fds (right)",
          format: mb,
          rightAxis: ['fds'],
        }),
      ),
    ),
  );
}

function lambdaWorker(worker: LambdaWorkerView): HTMLElement {
  const totals = Object.entries(worker.totals).map(([name, value]) =>
    el('span', {}, `${name} ${value === undefined ? '-' : Math.round(value)}`),
  );
  const counts = { times: worker.metrics.times, series: pick(worker.metrics.series, ['Invocations', 'Errors', 'Throttles']) };
  const timing = { times: worker.metrics.times, series: pick(worker.metrics.series, ['Duration p95 (ms)', 'Max memory used (MB)']) };
  return el(
    'section',
    { class: 'worker', dataset: { worker: worker.functionName } },
    el('h3', {}, `${worker.functionName} (queue ${worker.queue})`),
    el('p', { class: 'figures' }, ...totals),
    chart(`lambda-counts:${worker.functionName}`, counts, { title: 'Invocations, errors, throttles per minute' }),
    chart(`lambda-timing:${worker.functionName}`, timing, {
      title: 'Duration p95 (ms, left), max memory used (MB, right)',
      rightAxis: ['Max memory used (MB)'],
    }),
  );
}

function pick<T>(series: Readonly<Record<string, T>>, names: readonly string[]): Record<string, T> {
  return Object.fromEntries(names.flatMap((name) => (series[name] === undefined ? [] : [[name, series[name]]])));
}

/** Renders the Workers view into `root`. */
export function renderWorkers(root: HTMLElement, view: WorkersView): void {
  if (view.kind === 'local') {
    replace(root, el('h2', {}, 'Workers'), ...view.workers.map(localWorker));
    return;
  }
  replace(
    root,
    el('h2', {}, 'Workers (CloudWatch, AWS/Lambda)'),
    view.problem ? el('p', { class: 'problem' }, view.problem) : undefined,
    ...view.workers.map(lambdaWorker),
  );
}
