/**
 * The AWS permissions a job type needs beyond the queue plumbing, in one place a reviewer can read.
 * A worker gets the statements of the job types on its queue, and nothing for the others.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { JobType } from '../functions/jobs/catalog.ts';

/** The address part of a sender: `jobs@example.org` or `Jobs <jobs@example.org>`. */
export interface Sender {
  readonly address: string;
  readonly domain: string;
}

const ADDRESS = String.raw`[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+`;
const SENDER_PATTERN = new RegExp(`^(?:(${ADDRESS})|[\x20-\x7e]*<(${ADDRESS})>)$`);

/** Parses EMAIL_FROM (one ASCII line, a bare address or `Name <address>`); undefined when it is neither. */
export function parseSender(emailFrom: string): Sender | undefined {
  const match = SENDER_PATTERN.exec(emailFrom.trim());
  const address = match?.[1] ?? match?.[2];
  return address === undefined ? undefined : { address, domain: address.slice(address.lastIndexOf('@') + 1) };
}

/** What a permission builder gets. */
export interface JobPermissionContext {
  /** Any construct in the stack (for ARNs). */
  readonly scope: Construct;
  /** The sender of outgoing email (from EMAIL_FROM). */
  readonly sender: Sender;
}

/** Builds the statements one job type needs. */
export type JobPermissions = (context: JobPermissionContext) => iam.PolicyStatement[];

/** Permissions per job type; a job type that calls nothing in AWS is absent. */
export const JOB_PERMISSIONS: Readonly<Partial<Record<JobType, JobPermissions>>> = {
  // SES v2 SendEmail is authorized against the sending identity: the verified address, or its verified domain.
  // The condition pins the From address, so the worker cannot send as anyone else on that domain.
  'send-email': ({ scope, sender }) => {
    const stack = Stack.of(scope);
    const identity = (name: string): string => stack.formatArn({ service: 'ses', resource: 'identity', resourceName: name });
    return [
      new iam.PolicyStatement({
        sid: 'SendEmailFromConfiguredAddress',
        actions: ['ses:SendEmail'],
        resources: [identity(sender.address), identity(sender.domain)],
        conditions: { StringEquals: { 'ses:FromAddress': sender.address } },
      }),
    ];
  },
};
