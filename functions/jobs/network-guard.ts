/**
 * The webhook SSRF guard: which destinations a webhook may not reach (loopback, private, link-local, cloud
 * metadata, ...), checked on every address a host name resolves to, inside the connection itself.
 *
 * {@link createGuardedLookup} makes the `lookup` the webhook transport passes to `http.request` / `https.request`
 * (which hand it to `net.connect`), so the address that was checked is the address that is connected to (no gap
 * between the check and the connection for DNS rebinding to use). IP literals never reach a `lookup` (Node
 * connects to them directly), so the transport checks them with {@link assertHostAllowed} before the request.
 */
import type { LookupAddress, LookupAllOptions, LookupOptions } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { PermanentJobError } from '../runtime/errors.ts';

/** A webhook destination the guard refuses: retrying cannot help, so the job is dead at once. */
export class DestinationRefusedError extends PermanentJobError {
  override readonly name: string = 'DestinationRefusedError';
}

/** Ranges no webhook may reach, with the reason given in the error. IPv4-mapped IPv6 addresses match the IPv4 rules. */
const REFUSED_RANGES: readonly (readonly [network: string, prefix: number, family: 'ipv4' | 'ipv6', reason: string])[] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'ipv4', 'documentation'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['198.51.100.0', 24, 'ipv4', 'documentation'],
  ['203.0.113.0', 24, 'ipv4', 'documentation'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved (and broadcast)'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['::', 96, 'ipv6', 'IPv4-compatible (deprecated)'],
  ['100::', 64, 'ipv6', 'discard-only'],
  ['2001:db8::', 32, 'ipv6', 'documentation'],
  ['fc00::', 7, 'ipv6', 'unique-local (includes the EC2 metadata address fd00:ec2::254)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local (deprecated)'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

/** One BlockList per reason, built once at module load. */
const REFUSED_LISTS: readonly (readonly [BlockList, string])[] = (() => {
  const byReason = new Map<string, BlockList>();
  for (const [network, prefix, family, reason] of REFUSED_RANGES) {
    let list = byReason.get(reason);
    if (list === undefined) {
      list = new BlockList();
      byReason.set(reason, list);
    }
    list.addSubnet(network, prefix, family);
  }
  return [...byReason].map(([reason, list]) => [list, reason] as const);
})();

/** Host names refused before any DNS look-up (their addresses are refused too; the name gives the clearer error). */
const REFUSED_HOST_NAMES: ReadonlySet<string> = new Set([
  'localhost',
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.azure.internal',
]);

/**
 * Why an IP address may not be reached, or `undefined` when it may. Accepts IPv4, IPv6 and IPv6 in brackets;
 * an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is judged as its IPv4 address. Anything that is not an IP
 * address is refused (a look-up must never hand back something else).
 */
export function refusedAddressReason(address: string): string | undefined {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(bare);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [list, reason] of REFUSED_LISTS) {
    if (list.check(bare, type)) return reason;
  }
  return undefined;
}

/** Why a host name may not be reached by name alone (`localhost`, `*.localhost`, metadata names), or `undefined`. */
export function refusedHostNameReason(hostname: string): string | undefined {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback host name';
  if (REFUSED_HOST_NAMES.has(name)) return 'cloud metadata host name';
  return undefined;
}

/**
 * Checks a URL host (name or IP literal) before any connection: refused names and refused IP literals throw
 * {@link DestinationRefusedError}. A name that passes is still checked on every address it resolves to.
 */
export function assertHostAllowed(hostname: string): void {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  const reason = isIP(bare) === 0 ? refusedHostNameReason(bare) : refusedAddressReason(bare);
  if (reason !== undefined) {
    throw new DestinationRefusedError(`webhook destination refused: ${hostname} (${reason})`);
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A DNS resolver answering every address of a name (the shape of `dns.lookup` with `all: true`). */
export type Resolver = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/** The `lookup` signature `net.connect` calls (the `lookup` option of `http.request` / `https.request`). */
export type GuardedLookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/**
 * Makes a `lookup` for `net.connect` / `http.request`: resolves every address of the host with `resolve`
 * and fails with {@link DestinationRefusedError} when the name or ANY of its addresses is refused (with several
 * addresses, the socket may try each one). Answers in the shape asked for (`all: true` or a single address).
 */
export function createGuardedLookup(resolve: Resolver = dnsLookup): GuardedLookup {
  return (hostname, options, callback) => {
    const nameReason = refusedHostNameReason(hostname);
    if (nameReason !== undefined) {
      callback(new DestinationRefusedError(`webhook destination refused: ${hostname} (${nameReason})`), []);
      return;
    }
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, []);
        return;
      }
      for (const { address } of addresses) {
        const reason = refusedAddressReason(address);
        if (reason !== undefined) {
          callback(new DestinationRefusedError(`webhook destination refused: ${hostname} resolves to ${address} (${reason})`), []);
          return;
        }
      }
      const first = addresses[0];
      if (first === undefined) {
        callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      } else if (options.all === true) {
        callback(null, addresses);
      } else {
        callback(null, first.address, first.family);
      }
    });
  };
}

/** {@link createGuardedLookup} over the system resolver (`dns.lookup`). */
export const guardedLookup: GuardedLookup = createGuardedLookup();
