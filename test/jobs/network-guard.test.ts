/**
 * The webhook SSRF guard, on (the default): refused destinations are permanent errors and never receive a
 * request, whether named by IP literal, by a refused host name, or by a name that RESOLVES to a refused address.
 * A real HTTP server on 127.0.0.1 (port 0) stands as the would-be victim and counts what reaches it.
 */
import type { LookupAddress } from 'node:dns';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PermanentJobError } from '../../functions/runtime/errors.ts';
import type { Resolver } from '../../functions/jobs/network-guard.ts';
import {
  assertHostAllowed,
  createGuardedLookup,
  DestinationRefusedError,
  refusedAddressReason,
  refusedHostNameReason,
} from '../../functions/jobs/network-guard.ts';
import type { WebhookTransport } from '../../functions/jobs/webhook-transport.ts';
import { createWebhookTransport } from '../../functions/jobs/webhook-transport.ts';
import { jobContext, startRecordingServer } from './job-context.ts';

/** A resolver that answers from a fixed table (names that are not in it do not exist). */
function fixedResolver(table: Record<string, readonly LookupAddress[]>): Resolver {
  return (hostname, _options, callback) => {
    const addresses = table[hostname];
    if (addresses === undefined) {
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    } else {
      callback(null, [...addresses]);
    }
  };
}

let victim: Awaited<ReturnType<typeof startRecordingServer>>;
let guarded: WebhookTransport;

beforeAll(async () => {
  victim = await startRecordingServer((_request, response) => response.end('ok'));
  guarded = createWebhookTransport({
    timeoutMs: 2_000,
    resolve: fixedResolver({
      'hooks.example.com': [{ address: '127.0.0.1', family: 4 }],
      'mixed.example.com': [
        { address: '93.184.216.34', family: 4 },
        { address: '10.1.2.3', family: 4 },
      ],
      'v6.example.com': [{ address: '::ffff:169.254.169.254', family: 6 }],
    }),
  });
});

afterEach(() => {
  victim.requests.length = 0;
});

afterAll(async () => {
  await guarded.close();
  await victim.close();
});

async function refusal(url: string): Promise<Error> {
  try {
    await guarded.deliver({ url, body: { hello: 'world' } }, jobContext());
  } catch (error) {
    return error as Error;
  }
  throw new Error(`expected ${url} to be refused`);
}

describe('with the guard on, a webhook is refused (permanently) and nothing is sent, for', () => {
  it.each([
    ['127.0.0.1 (loopback)', (port: number) => `http://127.0.0.1:${port}/hook`],
    ['10.0.0.1 (private)', (port: number) => `http://10.0.0.1:${port}/hook`],
    ['169.254.169.254 (cloud metadata)', () => 'http://169.254.169.254/latest/meta-data/'],
    ['[::1] (IPv6 loopback)', (port: number) => `http://[::1]:${port}/hook`],
    ['[::ffff:127.0.0.1] (IPv4-mapped loopback)', (port: number) => `http://[::ffff:127.0.0.1]:${port}/hook`],
    ['localhost', (port: number) => `http://localhost:${port}/hook`],
    ['a metadata host name', () => 'http://metadata.google.internal/computeMetadata/v1/'],
  ])('%s', async (_label, url) => {
    const error = await refusal(url(victim.port));
    expect(error).toBeInstanceOf(DestinationRefusedError);
    expect(error).toBeInstanceOf(PermanentJobError);
    expect(victim.requests).toHaveLength(0);
  });

  it('a host name that resolves to loopback (checked on the resolved address, inside the connection)', async () => {
    const error = await refusal(`http://hooks.example.com:${victim.port}/hook`);
    expect(error).toBeInstanceOf(DestinationRefusedError);
    expect(error.message).toContain('127.0.0.1');
    expect(victim.requests).toHaveLength(0);
  });

  it('an https URL whose host name resolves to loopback (the TLS connection is guarded too)', async () => {
    const error = await refusal(`https://hooks.example.com:${victim.port}/hook`);
    expect(error).toBeInstanceOf(DestinationRefusedError);
    expect(error.message).toContain('127.0.0.1');
    expect(victim.requests).toHaveLength(0);
  });

  it('a host name with one public and one private address', async () => {
    const error = await refusal(`http://mixed.example.com:${victim.port}/hook`);
    expect(error).toBeInstanceOf(DestinationRefusedError);
    expect(error.message).toContain('10.1.2.3');
  });

  it('a host name that resolves to an IPv4-mapped metadata address', async () => {
    expect(await refusal(`http://v6.example.com:${victim.port}/hook`)).toBeInstanceOf(DestinationRefusedError);
  });

  it('a host name that does not resolve is a network error, so it retries', async () => {
    const error = await refusal('http://nowhere.example.com/hook');
    expect(error).not.toBeInstanceOf(PermanentJobError);
    expect(error.message).toContain('ENOTFOUND');
  });
});

describe('address rules', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '[::1]',
    'fe80::1',
    'fc00::1',
    'fd00:ec2::254',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
  ])('refuses %s', (address) => {
    expect(refusedAddressReason(address)).toBeDefined();
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (address) => {
    expect(refusedAddressReason(address)).toBeUndefined();
  });

  it('refuses anything that is not an IP address', () => {
    expect(refusedAddressReason('example.com')).toBe('not an IP address');
  });

  it.each(['localhost', 'LOCALHOST', 'localhost.', 'api.localhost', 'metadata.google.internal', 'instance-data.ec2.internal'])(
    'refuses the host name %s before any look-up',
    (name) => {
      expect(refusedHostNameReason(name)).toBeDefined();
      expect(() => assertHostAllowed(name)).toThrow(DestinationRefusedError);
    },
  );

  it('lets an ordinary host name through to the address check', () => {
    expect(() => assertHostAllowed('hooks.example.com')).not.toThrow();
  });
});

describe('the guarded lookup', () => {
  const lookup = createGuardedLookup(fixedResolver({ 'public.example.com': [{ address: '93.184.216.34', family: 4 }] }));

  it('answers a single address when one is asked for', async () => {
    const answer = await new Promise<unknown[]>((resolve) => lookup('public.example.com', {}, (...args) => resolve(args)));
    expect(answer).toEqual([null, '93.184.216.34', 4]);
  });

  it('answers every address when all are asked for (as net.connect does with autoSelectFamily)', async () => {
    const answer = await new Promise<unknown[]>((resolve) => lookup('public.example.com', { all: true }, (...args) => resolve(args)));
    expect(answer).toEqual([null, [{ address: '93.184.216.34', family: 4 }]]);
  });

  it('refuses localhost with the system resolver too', async () => {
    const system = createGuardedLookup();
    const [error] = await new Promise<unknown[]>((resolve) => system('localhost', { all: true }, (...args) => resolve(args)));
    expect(error).toBeInstanceOf(DestinationRefusedError);
  });
});
