// The SSRF guard for URLs Billflow posts to on a user's behalf (webhook endpoints, Slack): https
// only, and never an address inside the network Billflow runs in — loopback, private, link-local
// (cloud metadata), shared, multicast, reserved — unless BILLFLOW_WEBHOOK_ALLOW_HOSTS lists it.
// The address is checked where the socket connects (a custom `lookup`), so a name that resolves
// to a public address when saved and to 127.0.0.1 when used (DNS rebinding) is refused too.
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

export interface UrlGuard {
  /** Host names (exact, case-insensitive) that may be used, over http too. */
  hosts: ReadonlySet<string>;
  /** Addresses and networks that may be connected to. */
  networks: BlockList;
}

const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}

/** Parses `BILLFLOW_WEBHOOK_ALLOW_HOSTS`: comma-separated host names, addresses and CIDRs. */
export function parseAllowHosts(raw: string | undefined): UrlGuard {
  const hosts = new Set<string>();
  const networks = new BlockList();
  for (const item of (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [address, bits, extra] = item.split('/');
    const family = isIP(address ?? '');
    if (family !== 0 && extra === undefined) {
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) {
        networks.addAddress(address as string, type);
        hosts.add((address as string).toLowerCase());
        continue;
      }
      const prefix = Number(bits);
      if (/^\d+$/.test(bits) && prefix <= (family === 4 ? 32 : 128)) {
        networks.addSubnet(address as string, prefix, type);
        continue;
      }
    } else if (bits === undefined && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(item)) {
      hosts.add(item.toLowerCase());
      continue;
    }
    throw new Error(`"${item}" is not a host name, an address or a CIDR`);
  }
  return { hosts, networks };
}

export const NO_EXCEPTIONS: UrlGuard = parseAllowHosts('');

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

/** Whether connecting to `address` is refused (IPv4-mapped IPv6 is judged as the IPv4 it maps). */
export function isBlockedAddress(guard: UrlGuard, address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const plain = mapped ?? address;
  const type = familyOf(plain);
  if (guard.networks.check(plain, type)) return false;
  return BLOCKED.check(plain, type);
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/**
 * The checks a URL can pass or fail before anything is resolved: a problem in words, or null.
 * (The address a name resolves to is checked when connecting, by `guardedLookup`.)
 */
export function urlProblem(guard: UrlGuard, raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  const host = hostOf(url);
  const literal = isIP(host) !== 0;
  const allowed = guard.hosts.has(host) || (literal && guard.networks.check(host, familyOf(host)));
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed)) return 'must be an https URL';
  if (url.username || url.password) return 'must not carry a user name or password';
  if (!allowed) {
    if (literal && isBlockedAddress(guard, host)) return 'points to a private, loopback or link-local address';
    if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal')) {
      return 'points to a local host name';
    }
  }
  return null;
}

export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );

/** The error a refused connection fails with (never retried as if the network were down). */
export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKEDADDRESS';
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request: resolves with `resolver` and refuses when an address is
 * blocked, so the check holds for the address the socket actually connects to. A name the
 * allow list names may resolve to anything.
 */
export function guardedLookup(guard: UrlGuard, resolver: Resolver = systemResolver) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    resolver(hostname).then(
      (addresses) => {
        const named = guard.hosts.has(hostname.toLowerCase());
        const refused = named ? undefined : addresses.find((a) => isBlockedAddress(guard, a.address));
        if (refused || addresses.length === 0) {
          const why = refused
            ? `${hostname} resolves to ${refused.address}, a private, loopback or link-local address`
            : `${hostname} has no address`;
          callback(new BlockedAddressError(why), '', 0);
          return;
        }
        if (options.all) callback(null, addresses);
        else callback(null, (addresses[0] as LookupAddress).address, (addresses[0] as LookupAddress).family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}
