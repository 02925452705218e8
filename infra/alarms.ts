/**
 * The CloudWatch side of the one alerting path. With Datadog monitoring on, Datadog pages and a queue gets
 * no CloudWatch alarm for a symptom one of its monitors covers; without it, each queue's alarms notify one
 * SNS topic: the one given (`alarmTopicArn`) or one the stack creates (`alarmEmail` subscribes an address).
 * Rule: no alarm notifies nobody. {@link refuseSilentAlarms} fails the synth on any alarm in the stack
 * without an action, naming it and what to set.
 */
import { CfnResource, Duration, type RemovalPolicy, type Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { ConfigurationError } from '../functions/runtime/errors.ts';
import { METADATA_KEY, type JobQueue, type JobQueueMetadata } from './job-queue.ts';

/** The symptoms a queue alarms on, named as the Datadog monitor kinds that cover them. */
export const ALARM_SYMPTOMS = ['dlq-not-empty', 'oldest-message-age', 'lambda-errors', 'lambda-throttles'] as const;
/** One symptom a queue alarms on. */
export type AlarmSymptom = (typeof ALARM_SYMPTOMS)[number];

/** The context keys of the CloudWatch path. */
export const ALARM_TOPIC_CONTEXT_KEY = 'alarmTopicArn';
export const ALARM_EMAIL_CONTEXT_KEY = 'alarmEmail';

const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

/** Where the CloudWatch alarms notify. */
export interface AlarmTopicProps {
  /** `serverless-jobs-<stage>`: the created topic is `<prefix>-alarms`. */
  readonly namePrefix: string;
  /** An existing topic every alarm notifies; no topic is created. */
  readonly alarmTopicArn?: string | undefined;
  /** An address subscribed to the created topic (it must confirm the subscription). */
  readonly alarmEmail?: string | undefined;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The topic every alarm notifies: the given one, or a topic the stack creates, encrypted with a rotated
 * key CloudWatch may use (AWS-managed SNS keys cannot take alarm notifications) and TLS-only.
 */
export function alarmTopic(scope: Construct, props: AlarmTopicProps): sns.ITopic {
  if (props.alarmEmail !== undefined && !EMAIL.test(props.alarmEmail)) {
    throw new ConfigurationError(`context ${ALARM_EMAIL_CONTEXT_KEY} "${props.alarmEmail}" is not an email address`);
  }
  if (props.alarmTopicArn !== undefined) {
    if (props.alarmEmail !== undefined) {
      throw new ConfigurationError(
        `give ${ALARM_TOPIC_CONTEXT_KEY} or ${ALARM_EMAIL_CONTEXT_KEY}, not both: subscribe the address to your topic instead`,
      );
    }
    return sns.Topic.fromTopicArn(scope, 'AlarmTopic', props.alarmTopicArn);
  }
  const masterKey = new kms.Key(scope, 'AlarmTopicKey', {
    description: `${props.namePrefix} alarm notifications`,
    enableKeyRotation: true,
    removalPolicy: props.removalPolicy,
  });
  masterKey.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
  const topic = new sns.Topic(scope, 'AlarmTopic', {
    topicName: `${props.namePrefix}-alarms`,
    displayName: `${props.namePrefix} alarms`,
    masterKey,
    enforceSSL: true,
  });
  if (props.alarmEmail !== undefined) topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
  return topic;
}

/** What {@link addQueueAlarms} needs. */
export interface QueueAlarmProps {
  readonly namePrefix: string;
  /** Where every alarm notifies. */
  readonly topic: sns.ITopic;
  /** Symptoms a Datadog monitor of this queue covers: no alarm for them. */
  readonly covered: ReadonlySet<string>;
}

/** A queue's alarms, by symptom; a symptom a monitor covers has none. */
export type QueueAlarms = Partial<Record<AlarmSymptom, cloudwatch.Alarm>>;

/** The CloudWatch alarms of one queue for the symptoms no monitor covers, each notifying the topic. */
export function addQueueAlarms(jobQueue: JobQueue, props: QueueAlarmProps): QueueAlarms {
  const { queueName: name, settings, queue, deadLetterQueue, worker } = jobQueue;
  const base = `${props.namePrefix}-${name}`;
  const minute = Duration.minutes(1);
  const fiveMinutes = Duration.minutes(5);
  const atLeastOne = { threshold: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD };
  const specs: Record<AlarmSymptom, readonly [string, Omit<cloudwatch.AlarmProps, 'treatMissingData'>]> = {
    'dlq-not-empty': [
      'DeadLetterQueueNotEmptyAlarm',
      {
        alarmName: `${base}-dlq-not-empty`,
        alarmDescription: `Dead messages on the DLQ of queue "${name}": list them with their reasons (npm run jobs -- dlq list ${name}), fix the cause, then redrive.`,
        metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: cloudwatch.Stats.MAXIMUM }),
        ...atLeastOne,
        evaluationPeriods: 1,
      },
    ],
    'oldest-message-age': [
      'OldestMessageAgeAlarm',
      {
        alarmName: `${base}-oldest-message-age`,
        alarmDescription: `The oldest message on queue "${name}" waited more than ${settings.oldestMessageAgeAlarmSeconds} s: the worker is not keeping up or keeps failing. Check its errors, throttles and concurrency.`,
        metric: queue.metricApproximateAgeOfOldestMessage({ period: minute, statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: settings.oldestMessageAgeAlarmSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
      },
    ],
    'lambda-errors': [
      'WorkerErrorsAlarm',
      {
        alarmName: `${base}-worker-errors`,
        alarmDescription: `The ${name} worker failed whole invocations (crash, timeout or out of memory): every record of those batches is retried. Read the worker's logs at the first error.`,
        metric: worker.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        ...atLeastOne,
        evaluationPeriods: 1,
      },
    ],
    'lambda-throttles': [
      'WorkerThrottlesAlarm',
      {
        alarmName: `${base}-worker-throttles`,
        alarmDescription: `The ${name} worker was throttled: concurrency is exhausted (maxConcurrency is ${settings.maxConcurrency}). Raise reserved or account concurrency, or lower maxConcurrency.`,
        metric: worker.metricThrottles({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        ...atLeastOne,
        evaluationPeriods: 1,
      },
    ],
  };
  const alarms: QueueAlarms = {};
  const action = new cloudwatchActions.SnsAction(props.topic);
  for (const symptom of ALARM_SYMPTOMS) {
    if (props.covered.has(symptom)) continue;
    const [id, alarmProps] = specs[symptom];
    const alarm = new cloudwatch.Alarm(jobQueue, id, { ...alarmProps, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING });
    alarm.addAlarmAction(action);
    const cfn = alarm.node.defaultChild;
    if (CfnResource.isCfnResource(cfn)) cfn.addMetadata(METADATA_KEY, { queue: name, component: 'alarm' } satisfies JobQueueMetadata);
    alarms[symptom] = alarm;
  }
  return alarms;
}

/**
 * Makes the synth fail when any CloudWatch alarm of the stack notifies nobody (no alarm action, or
 * actions disabled), naming each such alarm and the settings that give it a recipient.
 */
export function refuseSilentAlarms(stack: Stack): void {
  stack.node.addValidation({
    validate: () =>
      stack.node
        .findAll()
        .filter((c): c is cloudwatch.CfnAlarm => c instanceof cloudwatch.CfnAlarm)
        .filter((alarm) => {
          const actions: unknown = stack.resolve(alarm.alarmActions);
          return stack.resolve(alarm.actionsEnabled) === false || !Array.isArray(actions) || actions.length === 0;
        })
        .map(
          (alarm) =>
            `alarm ${alarm.node.path} (${String(stack.resolve(alarm.alarmName) ?? 'unnamed')}) notifies nobody: give it an alarm action ` +
            `(the stack's alarmTopic), or deploy with --context ${ALARM_EMAIL_CONTEXT_KEY}=<address> or --context ${ALARM_TOPIC_CONTEXT_KEY}=<SNS topic ARN>; ` +
            'with Datadog monitoring on, cover the symptom with a Datadog monitor instead of an alarm',
        ),
  });
}
