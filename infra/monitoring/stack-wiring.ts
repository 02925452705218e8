/**
 * Plugs the Datadog dashboard and monitors into {@link ServerlessJobsStack} through its `monitoring`
 * hook. Nothing is added unless the stack has Datadog monitoring on (context `datadogMonitoring=true`).
 *
 * The `service` and `env` the queries filter on are read from the workers' own DD_SERVICE and DD_ENV
 * environment variables (the tags their metrics carry), not typed a second time.
 */
import { Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { ConfigurationError } from '../../functions/runtime/errors.ts';
import type { JobQueueResources } from '../catalog-queues.ts';
import type { MonitoredSymptoms, MonitoringFactory, ServerlessJobsStack } from '../stack.ts';
import { addDatadogMonitoring } from './construct.ts';
import type { MonitoringOptions } from './options.ts';

function workerTag(stack: Stack, entry: JobQueueResources, variable: 'DD_SERVICE' | 'DD_ENV'): string {
  const child = entry.worker.node.defaultChild as CfnFunction | undefined;
  const resolved: unknown = child === undefined ? undefined : stack.resolve(child.environment);
  const value = (resolved as { variables?: Record<string, unknown> } | undefined)?.variables?.[variable];
  if (typeof value !== 'string' || value === '') {
    throw new ConfigurationError(
      `monitoring: the worker of queue "${entry.queueName}" has no ${variable} environment variable to filter its metrics by`,
    );
  }
  return value;
}

/** The one value of a worker variable across all queues (the dashboard filters on one service and env). */
function sharedTag(stack: Stack, queues: readonly JobQueueResources[], variable: 'DD_SERVICE' | 'DD_ENV'): string {
  const values = new Set(queues.map((entry) => workerTag(stack, entry, variable)));
  if (values.size !== 1) throw new ConfigurationError(`monitoring: the workers disagree on ${variable} (${[...values].join(', ')})`);
  return [...values][0]!;
}

/**
 * A monitoring hook for the stack: when the stack has Datadog monitoring on, adds the dashboard and monitors
 * and returns, per queue, the monitor kinds it deployed (the stack creates no CloudWatch alarm for those).
 */
export function datadogMonitoringFactory(options: MonitoringOptions = {}): MonitoringFactory {
  return (stack: ServerlessJobsStack, queues: readonly JobQueueResources[]): MonitoredSymptoms | undefined => {
    if (queues.length === 0 || !stack.datadogMonitoring) return undefined;
    const added = addDatadogMonitoring(stack, {
      service: sharedTag(stack, queues, 'DD_SERVICE'),
      env: sharedTag(stack, queues, 'DD_ENV'),
      queues,
      extensionEnabled: stack.datadog !== undefined,
      enabled: true,
      options,
    });
    const covered = new Map<string, Set<string>>();
    for (const m of added?.definitions.monitors ?? []) covered.set(m.queue, (covered.get(m.queue) ?? new Set()).add(m.kind));
    return covered;
  };
}
