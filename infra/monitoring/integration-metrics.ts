/**
 * The Datadog integration metrics the dashboard and monitors may query, with their documentation.
 *
 * This is the explicit allow-list the checks hold every non-`jobs.*` metric to: a query naming a
 * metric outside {@link INTEGRATION_METRICS} or the worker's own `METRIC` constants fails the tests
 * (and the construct at synth). Names are taken from Datadog's integration pages:
 * - SQS (CloudWatch, crawled by the AWS integration, ~10 min late): https://docs.datadoghq.com/integrations/amazon_sqs/
 * - Lambda (CloudWatch, crawled): https://docs.datadoghq.com/integrations/amazon_lambda/
 * - Lambda enhanced metrics (real time, emitted by the Datadog Lambda extension):
 *   https://docs.datadoghq.com/serverless/aws_lambda/metrics/#enhanced-lambda-metrics
 * - EventBridge Scheduler (CloudWatch namespace AWS/Scheduler, dimension ScheduleGroup, crawled): NOT confirmed on a
 *   Datadog page (none found); the names follow the AWS integration's CloudWatch convention, `aws.<namespace>.<metric
 *   in snake_case>` tagged by each dimension lower-cased (`schedulegroup`). Check them in the Metrics Summary once deployed.
 */
import { TAG } from '../../functions/runtime/metric-names.ts';

/** Tag keys the AWS integration puts on its metrics. */
export const INTEGRATION_TAG = {
  /** The SQS queue name, lower-cased. */
  queueName: 'queuename',
  /** The Lambda function name, lower-cased (the worker's metrics carry the same key). */
  functionName: TAG.functionName,
  /** The EventBridge Scheduler schedule group name (CloudWatch dimension ScheduleGroup), lower-cased. */
  scheduleGroup: 'schedulegroup',
} as const;

/** Where a metric comes from; decides the evaluation delay a monitor on it needs. */
export type MetricSource = 'cloudwatch' | 'extension';

/** One allowed integration metric. */
export interface IntegrationMetric {
  readonly name: string;
  readonly source: MetricSource;
  readonly unit: string;
  /** The tag key that selects one resource of ours. */
  readonly resourceTag: (typeof INTEGRATION_TAG)[keyof typeof INTEGRATION_TAG];
  readonly docs: string;
}

const SQS_DOCS = 'https://docs.datadoghq.com/integrations/amazon_sqs/';
const LAMBDA_DOCS = 'https://docs.datadoghq.com/integrations/amazon_lambda/';
const ENHANCED_DOCS = 'https://docs.datadoghq.com/serverless/aws_lambda/metrics/#enhanced-lambda-metrics';
/** Datadog's AWS integration page (its CloudWatch naming); AWS lists the metrics: https://docs.aws.amazon.com/scheduler/latest/UserGuide/monitoring-cloudwatch.html */
const SCHEDULER_DOCS = 'https://docs.datadoghq.com/integrations/amazon_web_services/';

function sqs(name: string, unit: string): IntegrationMetric {
  return { name, source: 'cloudwatch', unit, resourceTag: INTEGRATION_TAG.queueName, docs: SQS_DOCS };
}
function lambda(name: string, unit: string): IntegrationMetric {
  return { name, source: 'cloudwatch', unit, resourceTag: INTEGRATION_TAG.functionName, docs: LAMBDA_DOCS };
}
function enhanced(name: string, unit: string): IntegrationMetric {
  return { name, source: 'extension', unit, resourceTag: INTEGRATION_TAG.functionName, docs: ENHANCED_DOCS };
}

function scheduler(name: string, unit: string): IntegrationMetric {
  return { name, source: 'cloudwatch', unit, resourceTag: INTEGRATION_TAG.scheduleGroup, docs: SCHEDULER_DOCS };
}

/** The integration metrics used, by a short key. */
export const INTEGRATION_METRICS = {
  sqsVisible: sqs('aws.sqs.approximate_number_of_messages_visible', 'messages'),
  sqsOldestAge: sqs('aws.sqs.approximate_age_of_oldest_message', 'seconds'),
  lambdaInvocations: lambda('aws.lambda.invocations', 'invocations (count)'),
  lambdaErrors: lambda('aws.lambda.errors', 'errors (count)'),
  lambdaThrottles: lambda('aws.lambda.throttles', 'throttles (count)'),
  lambdaDuration: lambda('aws.lambda.duration', 'milliseconds (average)'),
  lambdaDurationP99: lambda('aws.lambda.duration.p99', 'milliseconds'),
  lambdaDurationMax: lambda('aws.lambda.duration.maximum', 'milliseconds'),
  lambdaConcurrency: lambda('aws.lambda.concurrent_executions', 'executions (average)'),
  lambdaConcurrencyMax: lambda('aws.lambda.concurrent_executions.maximum', 'executions'),
  enhancedMaxMemoryUsed: enhanced('aws.lambda.enhanced.max_memory_used', 'megabytes'),
  enhancedMemorySize: enhanced('aws.lambda.enhanced.memorysize', 'megabytes'),
  enhancedOutOfMemory: enhanced('aws.lambda.enhanced.out_of_memory', 'kills (count)'),
  // Names by convention, not confirmed on a Datadog page (see the module comment).
  schedulerTargetErrors: scheduler('aws.scheduler.target_error_count', 'failed target calls (count)'),
  schedulerDropped: scheduler('aws.scheduler.invocation_dropped_count', 'dropped invocations (count)'),
} as const satisfies Record<string, IntegrationMetric>;

/** Every allowed integration metric name. */
export const INTEGRATION_METRIC_NAMES: ReadonlySet<string> = new Set(Object.values(INTEGRATION_METRICS).map((m) => m.name));
