/**
 * The settings a delayed `jobs enqueue --stage` sends its one-time schedule with on AWS. SSM has no local stand-in,
 * so the parameter read is replaced here (and named so in each test); the rest is the CLI's own code.
 */
import { describe, expect, it } from 'vitest';
import { delaySettings, SchedulerRoleUnknownError, schedulerTarget, type ReadParameter } from '../../functions/cli/scheduler-target.ts';
import { resolveTarget } from '../../functions/cli/target.ts';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/serverless-jobs-prod-default';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/ServerlessJobs-prod-SchedulerRole';

async function settingsOnAws(env: Record<string, string>, readParameter: ReadParameter) {
  const target = resolveTarget({ stage: 'prod' }, env);
  const scheduler = schedulerTarget(target, env);
  try {
    return await delaySettings(target, scheduler, QUEUE_URL, env, readParameter);
  } finally {
    scheduler.client.destroy();
    target.sqs.destroy();
  }
}

describe('a delayed enqueue on a stage', () => {
  it("reads the Scheduler's role from the stack's SSM parameter, in the queue's region (SSM mocked)", async () => {
    const reads: [string, string | undefined][] = [];
    const settings = await settingsOnAws({}, async (name, region) => {
      reads.push([name, region]);
      return ROLE_ARN;
    });
    expect(reads).toEqual([['/serverless-jobs/prod/scheduler/role-arn', 'eu-west-1']]);
    expect(settings).toMatchObject({ groupName: 'serverless-jobs-prod', roleArn: ROLE_ARN });
  });

  it("sends deliveries the Scheduler gives up on to the stage's Scheduler DLQ, on the queue's account (SSM mocked)", async () => {
    const settings = await settingsOnAws({}, async () => ROLE_ARN);
    expect(settings.deadLetterQueueArn).toBe('arn:aws:sqs:eu-west-1:123456789012:serverless-jobs-prod-scheduler-dlq');
  });

  it('takes the role and the DLQ from their variables when set, without reading SSM (SSM mocked)', async () => {
    const env = { JOBS_SCHEDULER_ROLE_ARN: 'arn:aws:iam::1:role/given', JOBS_SCHEDULER_DLQ_ARN: 'arn:aws:sqs:eu-west-1:1:given' };
    const settings = await settingsOnAws(env, async () => {
      throw new Error('SSM must not be read');
    });
    expect(settings).toMatchObject({ roleArn: 'arn:aws:iam::1:role/given', deadLetterQueueArn: 'arn:aws:sqs:eu-west-1:1:given' });
  });

  it('says which variable to set when the SSM parameter cannot be read (SSM mocked)', async () => {
    const failing = settingsOnAws({}, async () => {
      throw new Error('AccessDeniedException: not authorized to perform ssm:GetParameter');
    });
    await expect(failing).rejects.toThrow(SchedulerRoleUnknownError);
    await expect(failing).rejects.toThrow(
      /reading SSM parameter \/serverless-jobs\/prod\/scheduler\/role-arn failed .*Set JOBS_SCHEDULER_ROLE_ARN/,
    );
  });
});
