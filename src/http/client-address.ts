import type { IncomingMessage } from 'node:http';
import { BlockList, SocketAddress, isIP } from 'node:net';
import { PowgateError } from '../errors.js';
import { describe } from '../validate.js';

/** Named sets of addresses for {@link TrustedProxies.from}. */
const PRESETS: Record<string, readonly string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
};

/** Most X-Forwarded-For hops walked; a longer chain is cut at its left (the part a client can forge). */
const MAX_HOPS = 32;
/** Longest X-Forwarded-For header read. */
const MAX_FORWARDED_CHARS = 4096;

/**
 * The proxies whose X-Forwarded-For claims are believed: addresses and CIDR
 * ranges (IPv4 and IPv6), or the presets `loopback`, `private` and `linklocal`.
 * Everything else is a client, whatever headers it sends.
 */
export class TrustedProxies {
  readonly #list = new BlockList();
  /** The entries as given, for status pages and logs. */
  readonly entries: readonly string[];

  private constructor(entries: string[]) {
    this.entries = Object.freeze(entries);
  }

  /**
   * From a comma-separated list (`'10.0.0.0/8, 192.168.1.7, loopback'`) or an
   * array of entries. Throws a PowgateError ERR_INVALID_ARGUMENT naming the bad entry.
   */
  static from(list: TrustedProxies | string | readonly string[]): TrustedProxies {
    if (list instanceof TrustedProxies) return list;
    const entries = typeof list === 'string' ? list.split(',') : Array.isArray(list) ? list : undefined;
    if (!entries)
      throw new PowgateError('ERR_INVALID_ARGUMENT', `expected a comma-separated string or an array of addresses and CIDR ranges for trustProxy but received ${describe(list)}`);
    const trimmed = entries.map((entry) => (typeof entry === 'string' ? entry.trim() : entry)).filter((entry) => entry !== '');
    const proxies = new TrustedProxies(trimmed as string[]);
    for (const entry of trimmed) proxies.#add(entry);
    return proxies;
  }

  /** True when `address` (as a socket reports it, IPv4-mapped IPv6 included) is a trusted proxy. */
  has(address: string): boolean {
    const ip = normalizeAddress(address);
    if (ip === undefined) return false;
    return this.#list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
  }

  #add(entry: unknown): void {
    const bad = (why: string) =>
      new PowgateError(
        'ERR_INVALID_ARGUMENT',
        `expected an IP address, a CIDR range or one of ${Object.keys(PRESETS).join(', ')} in trustProxy but received ${typeof entry === 'string' ? `'${entry.slice(0, 64)}'` : describe(entry)} (${why})`,
      );
    if (typeof entry !== 'string') throw bad('not a string');
    const preset = PRESETS[entry];
    if (preset) {
      for (const range of preset) this.#add(range);
      return;
    }
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const version = isIP(address);
    if (version === 0) throw bad('not an address');
    const type = version === 6 ? 'ipv6' : 'ipv4';
    if (slash === -1) {
      this.#list.addAddress(address, type);
      return;
    }
    const bits = entry.slice(slash + 1);
    const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!(prefix >= 0 && prefix <= (version === 6 ? 128 : 32))) throw bad('bad prefix length');
    this.#list.addSubnet(address, prefix, type);
    // An IPv4 range also covers its IPv4-mapped IPv6 form, as dual-stack sockets report it.
    if (version === 4) this.#list.addSubnet(`::ffff:${address}`, 96 + prefix, 'ipv6');
  }
}

/**
 * An address as a plain IPv4 or IPv6 string: IPv4-mapped IPv6 (`::ffff:1.2.3.4`)
 * becomes IPv4; `[v6]:port` and `v4:port` (as some proxies write them) lose the
 * port. Undefined when it is not an address.
 */
export function normalizeAddress(text: string): string | undefined {
  let ip = text.trim();
  if (ip.startsWith('[')) {
    const end = ip.indexOf(']');
    if (end === -1) return undefined;
    ip = ip.slice(1, end);
  } else if (/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(ip)) {
    ip = ip.slice(0, ip.indexOf(':'));
  }
  const zone = ip.indexOf('%'); // fe80::1%eth0
  if (zone !== -1) ip = ip.slice(0, zone);
  const version = isIP(ip);
  if (version === 0) return undefined;
  if (version === 4) return ip;
  // One spelling per address (2001:DB8:0::1 and 2001:db8::1 are one client), and every
  // IPv4-mapped form (::ffff:7f00:1 too) as plain IPv4.
  const canonical = new SocketAddress({ address: ip, family: 'ipv6' }).address;
  return /^::ffff:\d{1,3}(\.\d{1,3}){3}$/.test(canonical) ? canonical.slice(7) : canonical;
}

/**
 * The key a client's request rate is counted under: its IPv4 address, or the /64 of
 * its IPv6 address (one subscriber usually holds a whole /64, and would otherwise
 * get a fresh count from each of its 2^64 addresses).
 */
export function clientRateKey(address: string): string {
  if (isIP(address) !== 6 || address.includes('.')) return address;
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/**
 * The address a request came from. Without trusted proxies, or when the peer is
 * not one, it is the peer's socket address: forwarded headers of untrusted peers
 * are never read. When the peer is a trusted proxy, X-Forwarded-For is walked
 * from the right, skipping trusted hops; the first untrusted hop is the client
 * (the claim of the last trusted hop). A hop that is not an address stops the
 * walk at the trusted hop that wrote it; a chain of trusted hops only gives its
 * leftmost hop.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | readonly string[] | undefined, trusted: TrustedProxies | undefined): string {
  const remote = (peer && normalizeAddress(peer)) ?? peer ?? 'unknown';
  if (!trusted || !trusted.has(remote) || forwardedFor === undefined) return remote;
  let header = typeof forwardedFor === 'string' ? forwardedFor : forwardedFor.join(',');
  if (header.length > MAX_FORWARDED_CHARS) header = header.slice(-MAX_FORWARDED_CHARS);
  const hops = header.split(',');
  let last = remote;
  for (let i = hops.length - 1, walked = 0; i >= 0 && walked < MAX_HOPS; i--, walked++) {
    const hop = hops[i]!.trim();
    if (hop === '') continue;
    const ip = normalizeAddress(hop);
    if (ip === undefined) return last; // The trusted hop that wrote it is the best we know.
    if (!trusted.has(ip)) return ip;
    last = ip;
  }
  return last;
}

/** {@link clientAddress} of a node:http request. */
export function requestClientAddress(req: IncomingMessage, trusted: TrustedProxies | undefined): string {
  return clientAddress(req.socket?.remoteAddress, trusted ? req.headers['x-forwarded-for'] : undefined, trusted);
}
