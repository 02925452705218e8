/**
 * The local EventBridge Scheduler endpoint: a real HTTP server on 127.0.0.1 (default port 9326, moved by
 * `LOCAL_SCHEDULER_PORT`) speaking the Scheduler's REST-JSON protocol, so the real `@aws-sdk/client-scheduler`
 * talks to it through `AWS_ENDPOINT_URL_SCHEDULER`. No npm package emulates EventBridge Scheduler, so this
 * implements the operations the project calls: CreateSchedule, GetSchedule, DeleteSchedule, ListSchedules,
 * CreateScheduleGroup, GetScheduleGroup, with AWS's error shapes (`x-amzn-ErrorType`, `{"Message"}`).
 *
 * Due occurrences are delivered (SQS SendMessage) with the Scheduler's context attributes replaced in the
 * input, checked every `tickMs` against an injectable clock, or when `runDue()` is called. A delivery that fails
 * goes, as the Scheduler sends an error it does not retry, to the schedule's dead-letter queue when it has one:
 * the input as the body, the Scheduler's dead-letter attributes (`ERROR_CODE`, `SCHEDULE_ARN`, ...) beside it.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { text } from 'node:stream/consumers';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { stringMessageAttributes } from '../runtime/dead-letter-attributes.ts';
import { SCHEDULER_DEAD_LETTER_ATTRIBUTE } from '../scheduling/message.ts';
import { checkPort, listenTcp, once } from './local-server.ts';
import { DEFAULT_SCHEDULER_PORT, LOCAL_ACCOUNT_ID, LOCAL_HOST, LOCAL_CREDENTIALS, LOCAL_REGION, SCHEDULER_PORT_ENV } from './ports.ts';
import {
  SchedulerApiError,
  SchedulerStore,
  SYSTEM_CLOCK,
  type DueOccurrence,
  type SchedulerClock,
  type StoredSchedule,
} from './scheduler-store.ts';

/** One message the Scheduler sends. */
export interface SchedulerDelivery {
  readonly queueArn: string;
  /** The input with the context attributes replaced. */
  readonly body: string;
  readonly messageGroupId: string | undefined;
  readonly scheduleName: string;
  /** SQS message attributes (a dead letter's). */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** Messages the endpoint delivered so far (each copy of an occurrence counts), and deliveries that failed. */
export interface SchedulerDeliveries {
  /** Occurrences of periodic (`cron` / `rate`) schedules. */
  readonly periodic: number;
  /** One-time (`at`) schedules: delayed jobs. */
  readonly oneTime: number;
  readonly failed: number;
  /** Failed deliveries put on the schedule's dead-letter queue. */
  readonly deadLettered: number;
}

/** Options of {@link startLocalSchedulerServer}. */
export interface LocalSchedulerServerOptions {
  /** TCP port; 0 picks a free one (tests). Default {@link DEFAULT_SCHEDULER_PORT}. */
  readonly port?: number;
  /** Where the time comes from. Default: the system clock. */
  readonly clock?: SchedulerClock;
  /** Sends one message to its target; see {@link sqsDelivery}. */
  readonly deliver: (delivery: SchedulerDelivery) => Promise<void>;
  /** How often due occurrences are looked for, in ms; 0 = only on `runDue()`. Default 1,000. */
  readonly tickMs?: number;
  /** Times each occurrence is delivered: 2 plays the Scheduler's at-least-once delivery. Default 1. */
  readonly deliveriesPerOccurrence?: number;
  /** Schedule groups that exist from the start (besides `default`). */
  readonly groups?: readonly string[];
  /** Told when a delivery fails (the occurrence then goes to the schedule's DLQ, or is dropped without one). */
  readonly onDeliveryError?: (error: unknown, delivery: SchedulerDelivery) => void;
}

/** The running endpoint. */
export interface LocalSchedulerServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>`: the value of `AWS_ENDPOINT_URL_SCHEDULER`. */
  readonly endpoint: string;
  /** The schedules and groups (for in-process readers such as `npm start`'s view). */
  readonly store: SchedulerStore;
  /** A SchedulerClient pointed at this endpoint with dummy credentials; the caller destroys it. */
  createClient(): SchedulerClient;
  /** Delivers every occurrence due now; resolves with the number of messages sent. */
  runDue(): Promise<number>;
  /** What was delivered since the endpoint started (`npm start`'s live view shows it). */
  deliveries(): SchedulerDeliveries;
  /** Stops the timer and the server. */
  close(): Promise<void>;
}

/** Delivery into SQS through `sqs`, the queue URL taken from the ARN's account and name under `sqsEndpoint`. */
export function sqsDelivery(sqs: SQSClient, sqsEndpoint: string): (delivery: SchedulerDelivery) => Promise<void> {
  return async (delivery) => {
    const [, , service, , account, name] = delivery.queueArn.split(':');
    if (service !== 'sqs' || !account || !name) throw new Error(`target ${delivery.queueArn} is not an SQS queue ARN`);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: `${sqsEndpoint}/${account}/${name}`,
        MessageBody: delivery.body,
        MessageGroupId: delivery.messageGroupId,
        MessageAttributes: stringMessageAttributes(delivery.attributes ?? {}),
      }),
    );
  };
}

/** `2026-12-07T08:00:00Z`: how the Scheduler writes `<aws.scheduler.scheduled-time>`. */
function schedulerTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** The input of one occurrence with the Scheduler's context attributes filled in (first attempt: no retries locally). */
function substituteContext(input: string, occurrence: { scheduleArn: string; scheduledTime: Date; executionId: string }): string {
  return input
    .replaceAll('<aws.scheduler.scheduled-time>', schedulerTime(occurrence.scheduledTime))
    .replaceAll('<aws.scheduler.schedule-arn>', occurrence.scheduleArn)
    .replaceAll('<aws.scheduler.execution-id>', occurrence.executionId)
    .replaceAll('<aws.scheduler.attempt-number>', '1');
}

const seconds = (date: Date): number => date.getTime() / 1000;

function describeSchedule(schedule: StoredSchedule): Record<string, unknown> {
  return {
    Arn: schedule.arn,
    GroupName: schedule.groupName,
    Name: schedule.name,
    ScheduleExpression: schedule.expression.text,
    ScheduleExpressionTimezone: schedule.timeZone,
    State: schedule.state,
    ActionAfterCompletion: schedule.actionAfterCompletion,
    Description: schedule.description,
    CreationDate: seconds(schedule.createdAt),
    LastModificationDate: seconds(schedule.createdAt),
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: schedule.target,
  };
}

/** A ListSchedules entry: the schedule's description, summarized. */
function summary(schedule: StoredSchedule): Record<string, unknown> {
  const { Arn, Name, GroupName, State, CreationDate, LastModificationDate } = describeSchedule(schedule);
  return { Arn, Name, GroupName, State, CreationDate, LastModificationDate, Target: { Arn: schedule.target.Arn } };
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await text(request);
  if (body.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new SchedulerApiError('ValidationException', 'the request body is not a JSON object');
}

function send(response: ServerResponse, status: number, body: unknown, errorType?: string): void {
  response.writeHead(status, { 'content-type': 'application/json', ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
  response.end(JSON.stringify(body));
}

/** ListSchedules' page: up to MaxResults (1-100) from NextToken, an offset here. */
function listPage(store: SchedulerStore, query: (name: string) => string | undefined): Record<string, unknown> {
  const all = store.list({ groupName: query('ScheduleGroup'), namePrefix: query('NamePrefix'), state: query('State') });
  const start = Number(query('NextToken') ?? '0');
  const size = Math.min(Math.max(Number(query('MaxResults') ?? '100'), 1), 100);
  const next = start + size < all.length ? String(start + size) : undefined;
  return { Schedules: all.slice(start, start + size).map(summary), NextToken: next };
}

/** Answers one request from the store (AWS's shapes, status 200): the operations by method and path, `{name}` one segment. */
async function route(store: SchedulerStore, request: IncomingMessage): Promise<unknown> {
  const url = new URL(request.url ?? '/', `http://${LOCAL_HOST}`);
  const [collection = '', name = '', ...rest] = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const query = (key: string): string | undefined => url.searchParams.get(key) ?? undefined;
  const group = query('groupName');
  const operations: Record<string, () => unknown> = {
    'POST /schedules/{name}': async () => ({ ScheduleArn: store.create({ ...(await readJson(request)), Name: name }) }),
    'GET /schedules/{name}': () => describeSchedule(store.get(name, group)),
    'DELETE /schedules/{name}': () => {
      store.delete(name, group);
      return {};
    },
    'GET /schedules': () => listPage(store, query),
    'POST /schedule-groups/{name}': () => ({ ScheduleGroupArn: store.createGroup(name) }),
    'GET /schedule-groups/{name}': () => {
      const created = seconds(store.getGroup(name));
      return { Arn: store.groupArn(name), Name: name, State: 'ACTIVE', CreationDate: created, LastModificationDate: created };
    },
  };
  const operation = rest.length === 0 ? operations[`${request.method} /${collection}${name === '' ? '' : '/{name}'}`] : undefined;
  if (operation === undefined)
    throw new SchedulerApiError('ValidationException', `the local Scheduler does not implement ${request.method} ${url.pathname}`);
  return operation();
}

type Counts = { -readonly [K in keyof SchedulerDeliveries]: number };

/**
 * A failed delivery as the Scheduler dead-letters an error it does not retry (a missing queue, a refused send): on
 * the schedule's DLQ, when it has one, with the attributes the Scheduler sets. Resolves whether it was sent.
 */
async function deadLetter(
  { schedule, scheduledTime }: DueOccurrence,
  delivery: SchedulerDelivery,
  details: { readonly error: unknown; readonly executionId: string },
  options: LocalSchedulerServerOptions,
): Promise<boolean> {
  const queueArn = schedule.target.DeadLetterConfig?.Arn;
  if (queueArn === undefined) return false;
  const error = details.error instanceof Error ? details.error : new Error(String(details.error));
  const attribute = SCHEDULER_DEAD_LETTER_ATTRIBUTE;
  const attributes = {
    [attribute.errorCode]: error.name,
    [attribute.errorMessage]: error.message,
    [attribute.executionId]: details.executionId,
    [attribute.payloadTruncated]: 'false',
    [attribute.retryAttempts]: '0',
    [attribute.scheduledTime]: schedulerTime(scheduledTime),
    [attribute.scheduleArn]: schedule.arn,
    [attribute.targetArn]: delivery.queueArn,
  };
  return options.deliver({ ...delivery, queueArn, messageGroupId: undefined, attributes }).then(
    () => true,
    () => false,
  );
}

/** Sends one occurrence `copies` times, counting each in `counts`; resolves with the number of messages sent. */
async function deliverOccurrence(occurrence: DueOccurrence, options: LocalSchedulerServerOptions, counts: Counts): Promise<number> {
  const { schedule, scheduledTime } = occurrence;
  const executionId = randomBytes(8).toString('hex');
  const delivery: SchedulerDelivery = {
    queueArn: schedule.target.Arn,
    body: substituteContext(schedule.target.Input ?? '', { scheduleArn: schedule.arn, scheduledTime, executionId }),
    messageGroupId: schedule.target.SqsParameters?.MessageGroupId,
    scheduleName: schedule.name,
  };
  let sent = 0;
  for (let copy = 0; copy < (options.deliveriesPerOccurrence ?? 1); copy += 1) {
    try {
      await options.deliver(delivery);
      sent += 1;
      if (schedule.expression.kind === 'at') counts.oneTime += 1;
      else counts.periodic += 1;
    } catch (error) {
      counts.failed += 1;
      options.onDeliveryError?.(error, delivery);
      if (await deadLetter(occurrence, delivery, { error, executionId }, options)) counts.deadLettered += 1;
    }
  }
  return sent;
}

/** Starts the endpoint on 127.0.0.1. Rejects with `PortInUseError` (local-server.ts) when the port is taken. */
export async function startLocalSchedulerServer(options: LocalSchedulerServerOptions): Promise<LocalSchedulerServer> {
  const requestedPort = checkPort('Scheduler', options.port ?? DEFAULT_SCHEDULER_PORT);
  const store = new SchedulerStore(options.clock ?? SYSTEM_CLOCK, LOCAL_REGION, LOCAL_ACCOUNT_ID);
  for (const group of options.groups ?? []) store.createGroup(group);

  const server = createServer((request, response) => {
    route(store, request).then(
      (body) => send(response, 200, body),
      (error: unknown) => {
        if (error instanceof SchedulerApiError) send(response, error.status, { Message: error.message }, error.code);
        else send(response, 500, { Message: (error as Error).message }, 'InternalServerException');
      },
    );
  });
  const port = await listenTcp(server, requestedPort, 'The local Scheduler endpoint', SCHEDULER_PORT_ENV);
  const endpoint = `http://${LOCAL_HOST}:${port}`;

  const counts: Counts = { periodic: 0, oneTime: 0, failed: 0, deadLettered: 0 };
  // One run at a time: a tick never overlaps the previous one.
  let running: Promise<number> = Promise.resolve(0);
  const runDue = (): Promise<number> => {
    running = running.then(async () => {
      let sent = 0;
      for (const occurrence of store.takeDue()) sent += await deliverOccurrence(occurrence, options, counts);
      return sent;
    });
    return running;
  };
  const tickMs = options.tickMs ?? 1_000;
  const timer = tickMs > 0 ? setInterval(() => void runDue(), tickMs) : undefined;
  timer?.unref();

  return {
    port,
    endpoint,
    store,
    createClient: () => new SchedulerClient({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS }),
    runDue,
    deliveries: () => ({ ...counts }),
    close: once(async () => {
      if (timer) clearInterval(timer);
      await running.catch(() => undefined);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }),
  };
}
