/** `jobs queues`: depth, in flight, delayed and dead-letter depth of every queue of the stack. */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { queueNames } from '../../jobs/catalog.ts';
import { QueueMissingError } from '../errors.ts';
import { println, type CliIo, type ParsedValues } from '../io.ts';
import { renderTable } from '../table.ts';
import { locateDeadLetterQueue, locateQueue, type Target } from '../target.ts';

/** Counts of one queue. */
export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

/** One row of `jobs queues`. */
export interface QueueRow {
  readonly queue: string;
  readonly name: string | undefined;
  readonly depth: QueueDepth | undefined;
  readonly deadLetterName: string | undefined;
  readonly deadLetter: QueueDepth | undefined;
  readonly problem: string | undefined;
}

/** Reads a queue's approximate counts. */
export async function queueDepth(target: Pick<Target, 'sqs'>, url: string): Promise<QueueDepth> {
  const { Attributes: a = {} } = await target.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return {
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

async function row(target: Target, queue: string): Promise<QueueRow> {
  try {
    const source = await locateQueue(target, queue);
    const depth = await queueDepth(target, source.url);
    try {
      const dlq = await locateDeadLetterQueue(target, source);
      return {
        queue,
        name: source.name,
        depth,
        deadLetterName: dlq.name,
        deadLetter: await queueDepth(target, dlq.url),
        problem: undefined,
      };
    } catch (error) {
      if (!(error instanceof QueueMissingError)) throw error;
      return { queue, name: source.name, depth, deadLetterName: undefined, deadLetter: undefined, problem: error.message };
    }
  } catch (error) {
    if (!(error instanceof QueueMissingError)) throw error;
    return { queue, name: undefined, depth: undefined, deadLetterName: undefined, deadLetter: undefined, problem: error.message };
  }
}

const cell = (value: number | undefined): string | number => value ?? '-';

/** Runs `queues`. Exit code 1 when a queue or DLQ of the stack is missing. */
export async function queuesCommand(target: Target, _positionals: readonly string[], values: ParsedValues, io: CliIo): Promise<number> {
  const rows = await Promise.all(queueNames.map((queue) => row(target, queue)));
  if (values.json === true) {
    println(io.stdout, JSON.stringify(rows));
  } else {
    println(io.stdout, `${target.target}`);
    println(
      io.stdout,
      renderTable(
        ['QUEUE', 'NAME', 'VISIBLE', 'IN FLIGHT', 'DELAYED', 'DLQ', 'DLQ IN FLIGHT'],
        rows.map((r) => [
          r.queue,
          r.name ?? 'missing',
          cell(r.depth?.visible),
          cell(r.depth?.inFlight),
          cell(r.depth?.delayed),
          cell(r.deadLetter?.visible),
          cell(r.deadLetter?.inFlight),
        ]),
      ),
    );
  }
  const problems = rows.flatMap((r) => (r.problem ? [r.problem] : []));
  for (const problem of problems) println(io.stderr, `jobs: ${problem}`);
  return problems.length > 0 ? 1 : 0;
}
