/**
 * Datadog on the workers: the Datadog Lambda extension (it receives the worker's DogStatsD metrics on
 * 127.0.0.1:8125 and ships them, and the function's logs, to Datadog), through `datadog-cdk-constructs-v2`.
 *
 * The Node library layer is pinned here; the extension layer in functions/datadog-extension.ts (with the DogStatsD
 * revision the local listener follows). Extension 99 reads DogStatsD datagrams of up to
 * 8,192 bytes per packet (its `DD_DOGSTATSD_BUFFER_SIZE` default; the 1,024-byte read buffer of early
 * releases was raised to 8 KB in DataDog/libdatadog#698, Oct 2024), which is the size the worker's
 * metrics client packs its datagrams to (`MAX_DATAGRAM_BYTES`); the stack sets the variable explicitly so
 * the two stay tied together.
 *
 * Nothing here calls the network or Docker at synth: layers are referenced by ARN, the API key by the ARN
 * of a Secrets Manager secret (never a plaintext key).
 */
import { Annotations, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DatadogLambda } from 'datadog-cdk-constructs-v2';
import { DATADOG_EXTENSION_LAYER_VERSION } from '../functions/datadog-extension.ts';
import { ConfigurationError } from '../functions/runtime/errors.ts';
import { MAX_DATAGRAM_BYTES } from '../functions/runtime/metric-limits.ts';

/** The Datadog Lambda extension layer version (`Datadog-Extension-ARM`), pinned in functions/datadog-extension.ts with its DogStatsD revision. */
export { DATADOG_EXTENSION_LAYER_VERSION };

/** The Datadog Node.js library layer version (`Datadog-Node24-x`), used only when the library is switched on. */
export const DATADOG_NODE_LAYER_VERSION = 142;

/** The Datadog site used when none is configured. */
export const DEFAULT_DATADOG_SITE = 'datadoghq.com';

/** Datadog sites the construct accepts. */
export const DATADOG_SITES: readonly string[] = [
  'datadoghq.com',
  'us3.datadoghq.com',
  'us5.datadoghq.com',
  'datadoghq.eu',
  'ap1.datadoghq.com',
  'ap2.datadoghq.com',
  'ddog-gov.com',
];

/** A complete Secrets Manager secret ARN: the name ends with the 6-character suffix AWS adds. */
const SECRET_ARN_PATTERN = /^arn:aws(?:-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;

/** How the workers are instrumented. */
export interface DatadogSettings {
  /** Complete ARN of the Secrets Manager secret holding the Datadog API key (plain string value). */
  readonly apiKeySecretArn: string;
  /** Datadog site, e.g. `datadoghq.eu`. */
  readonly site: string;
  /**
   * Add the Datadog Node.js library layer (redirects the handler through datadog-lambda-js and enables APM
   * tracing). Off by default: it adds cold-start time and the workers' own metrics do not need it.
   */
  readonly nodeLibrary: boolean;
  /** Tag functions with the git commit and repository (runs `git` locally at synth; no network). */
  readonly sourceCodeIntegration: boolean;
}

/** Unified service tags. */
export interface ServiceTags {
  readonly service: string;
  readonly env: string;
  readonly version: string;
}

/** Validates Datadog settings once; throws {@link ConfigurationError} with what to fix. */
export function checkDatadogSettings(settings: DatadogSettings): DatadogSettings {
  if (!SECRET_ARN_PATTERN.test(settings.apiKeySecretArn)) {
    throw new ConfigurationError(
      `datadogApiKeySecretArn "${settings.apiKeySecretArn}" is not a complete Secrets Manager secret ARN ` +
        '(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, as printed by `aws secretsmanager create-secret`)',
    );
  }
  if (!DATADOG_SITES.includes(settings.site)) {
    throw new ConfigurationError(`datadogSite "${settings.site}" is not a Datadog site (one of: ${DATADOG_SITES.join(', ')})`);
  }
  return settings;
}

/**
 * Instruments the workers with the Datadog extension (and, when asked, the Node library). Grants each
 * worker read access to exactly the API key secret.
 */
export class DatadogInstrumentation extends Construct {
  /** The construct doing the work. */
  readonly datadog: DatadogLambda;

  constructor(scope: Construct, id: string, settings: DatadogSettings, tags: ServiceTags) {
    super(scope, id);
    checkDatadogSettings(settings);
    const apiKeySecret = secretsmanager.Secret.fromSecretCompleteArn(this, 'ApiKeySecret', settings.apiKeySecretArn);
    this.datadog = new DatadogLambda(this, 'Lambda', {
      extensionLayerVersion: DATADOG_EXTENSION_LAYER_VERSION,
      addLayers: settings.nodeLibrary,
      ...(settings.nodeLibrary ? { nodeLayerVersion: DATADOG_NODE_LAYER_VERSION } : {}),
      // Without the library there is nothing to redirect to (datadog-lambda-js is not in the bundle).
      redirectHandler: settings.nodeLibrary,
      enableDatadogTracing: settings.nodeLibrary,
      injectLogContext: settings.nodeLibrary,
      enableDatadogLogs: true,
      flushMetricsToLogs: false,
      captureLambdaPayload: false,
      sourceCodeIntegration: settings.sourceCodeIntegration,
      apiKeySecret,
      site: settings.site,
      service: tags.service,
      env: tags.env,
      version: tags.version,
    });
  }

  /** Instruments these functions. */
  addWorkers(workers: readonly lambda.Function[]): void {
    for (const worker of workers) {
      // The worker packs metrics into datagrams of MAX_DATAGRAM_BYTES; the extension must read that much per packet.
      this.datadog.setEnvironment(worker, 'DD_DOGSTATSD_BUFFER_SIZE', String(MAX_DATAGRAM_BYTES));
    }
    this.datadog.addLambdaFunctions([...workers]);
  }
}

/** Says, on the stack, that monitoring is off (shown by `cdk synth`), and returns the message. */
export function annotateMonitoringOff(scope: Construct): string {
  const message =
    'Datadog monitoring is OFF: no datadogApiKeySecretArn context (or DATADOG_API_KEY_SECRET_ARN env) was given, so the workers ' +
    'run without the Datadog extension and their metrics are dropped. Deploy with --context datadogApiKeySecretArn=<secret ARN>.';
  Annotations.of(Stack.of(scope)).addWarningV2('serverless-jobs:datadog-off', message);
  return message;
}
