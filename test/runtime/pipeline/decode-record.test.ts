import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { decodeRecord } from '../../../functions/runtime/decode-record.ts';
import { InvalidMessageError, InvalidPayloadError, UnknownJobTypeError } from '../../../functions/runtime/errors.ts';
import { defineJob, type JobDefinition } from '../../../functions/runtime/job.ts';

const greet = defineJob({
  type: 'greet',
  schema: z.object({ name: z.string().check(z.trim()) }),
  handler: async () => undefined,
});
const findJob = (type: string): JobDefinition | undefined => (type === greet.type ? greet : undefined);

describe('decoding a record', () => {
  it('routes a job message to its definition with the payload as the schema outputs it, and its job id', () => {
    const decoded = decodeRecord(JSON.stringify({ type: 'greet', payload: { name: ' Ada ' }, jobId: 'job-1' }), findJob);
    expect(decoded).toEqual({ ok: true, job: greet, payload: { name: 'Ada' }, jobId: 'job-1' });
  });

  it("reads a delayed job's scheduledAt as the time it was meant to run, and ignores one that is not a time", () => {
    const at = '2026-12-07T08:00:00Z';
    const decoded = decodeRecord(JSON.stringify({ type: 'greet', payload: { name: 'Ada' }, scheduledAt: at }), findJob);
    expect(decoded.ok && decoded.scheduledAt).toBe(Date.parse(at));
    const bad = decodeRecord(JSON.stringify({ type: 'greet', payload: { name: 'Ada' }, scheduledAt: 'soon' }), findJob);
    expect(bad.ok && bad.scheduledAt).toBeUndefined();
  });

  it('leaves the job id undefined when the message has none', () => {
    const decoded = decodeRecord(JSON.stringify({ type: 'greet', payload: { name: 'Ada' } }), findJob);
    expect(decoded.jobId).toBeUndefined();
  });

  it('rejects a body that is not JSON as invalid_json, job type unknown', () => {
    const decoded = decodeRecord('{"type": ', findJob);
    expect(decoded).toMatchObject({ ok: false, verdict: { outcome: 'dead', reason: 'invalid_json', jobType: 'unknown' } });
    expect(!decoded.ok && decoded.verdict.error).toBeInstanceOf(InvalidMessageError);
  });

  it.each([
    ['an array', '[1, 2]'],
    ['null', 'null'],
    ['a message without a type', JSON.stringify({ payload: {} })],
    ['an empty type', JSON.stringify({ type: '', payload: {} })],
    ['a type over 256 characters', JSON.stringify({ type: 'x'.repeat(257), payload: {} })],
    ['a job id that is not a string', JSON.stringify({ type: 'greet', payload: {}, jobId: 7 })],
  ])('rejects %s as invalid_json, saying what is wrong with the envelope', (_, body) => {
    const decoded = decodeRecord(body, findJob);
    expect(decoded).toMatchObject({ ok: false, verdict: { reason: 'invalid_json' } });
    expect(!decoded.ok && decoded.verdict.error.message).toMatch(/^body is not a job message \{type, payload\}: /);
  });

  it('rejects an unknown type as unknown_type without using the type as the job type, keeping the job id', () => {
    const decoded = decodeRecord(JSON.stringify({ type: 'user-42-secret', payload: {}, jobId: 'job-2' }), findJob);
    expect(decoded).toMatchObject({ ok: false, jobId: 'job-2', verdict: { reason: 'unknown_type', jobType: 'unknown' } });
    expect(!decoded.ok && decoded.verdict.error).toBeInstanceOf(UnknownJobTypeError);
  });

  it('rejects a payload that fails the schema as invalid_payload, naming the job type and the issue', () => {
    const decoded = decodeRecord(JSON.stringify({ type: 'greet', payload: { name: 3 }, jobId: 'job-3' }), findJob);
    expect(decoded).toMatchObject({ ok: false, jobId: 'job-3', verdict: { reason: 'invalid_payload', jobType: 'greet' } });
    expect(!decoded.ok && decoded.verdict.error).toBeInstanceOf(InvalidPayloadError);
    expect(!decoded.ok && decoded.verdict.error.message).toMatch(/^invalid greet payload: .*name/);
  });
});
