/**
 * A fetch for URLs that users type in (CalDAV servers). Without it a user could make
 * the server talk to its own network: loopback admin ports, cloud metadata at
 * 169.254.169.254, databases on 10/8. The address is checked where the socket is
 * opened (undici's `connect.lookup`), so the checked address is the connected one
 * and a DNS answer that changes between check and connect (rebinding) cannot slip
 * through. Redirects are followed one hop at a time (provider-fetch.ts), so every hop
 * is checked; answers are capped and buffered there too.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent } from 'undici';
import { createProviderFetch, RefusedUrlError } from './provider-fetch.js';

export { RefusedUrlError, TooManyRedirectsError } from './provider-fetch.js';

export type BlockReason =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared-address-space'
  | 'unique-local'
  | 'multicast'
  | 'reserved'
  | 'documentation';

const REASON_TEXT: Record<BlockReason, string> = {
  unspecified: 'an unspecified ("this network") address',
  loopback: 'a loopback address',
  private: 'a private network address',
  'link-local': 'a link-local address (this includes cloud metadata services)',
  'shared-address-space': 'a carrier-grade NAT (100.64.0.0/10) address',
  'unique-local': 'an IPv6 unique-local address',
  multicast: 'a multicast address',
  reserved: 'a reserved address',
  documentation: 'a documentation-only address',
};

/** Thrown before any byte is sent to an address the policy refuses. */
export class BlockedAddressError extends Error {
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly reason: BlockReason,
  ) {
    super(
      `Refusing to connect to ${hostname}${hostname === address ? '' : ` (${address})`}: it is ${REASON_TEXT[reason]}. ` +
        'Set ALMANAC_ALLOW_PRIVATE_NETWORKS=true to allow servers on private networks.',
    );
    this.name = 'BlockedAddressError';
  }
}

function parseIpv4(address: string): number[] | null {
  const parts = address.split('.');
  if (parts.length !== 4) return null;
  const bytes = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : null;
}

/** Eight 16-bit groups, or null. Accepts `::` compression, a dotted IPv4 tail and a zone id. */
function parseIpv6(input: string): number[] | null {
  let address = input.replace(/^\[|\]$/g, '');
  const zone = address.indexOf('%');
  if (zone >= 0) address = address.slice(0, zone);
  let tail: number[] = [];
  const lastColon = address.lastIndexOf(':');
  if (address.includes('.', lastColon)) {
    const v4 = parseIpv4(address.slice(lastColon + 1));
    if (!v4) return null;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    address = `${address.slice(0, lastColon + 1)}0:0`;
  }
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const toGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const groups = s.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN));
    return groups.some(Number.isNaN) ? null : groups;
  };
  const head = toGroups(halves[0]!);
  const rest = halves.length === 2 ? toGroups(halves[1]!) : [];
  if (!head || !rest) return null;
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  if (tail.length) groups.splice(6, 2, ...tail);
  return groups;
}

function classifyIpv4([a, b, c]: number[]): BlockReason | null {
  if (a === undefined || b === undefined || c === undefined) return 'reserved';
  if (a === 0) return 'unspecified';
  if (a === 10) return 'private';
  if (a === 100 && b >= 64 && b <= 127) return 'shared-address-space';
  if (a === 127) return 'loopback';
  if (a === 169 && b === 254) return 'link-local';
  if (a === 172 && b >= 16 && b <= 31) return 'private';
  if (a === 192 && b === 0 && c === 0) return 'reserved';
  if (a === 192 && b === 0 && c === 2) return 'documentation';
  if (a === 192 && b === 88 && c === 99) return 'reserved';
  if (a === 192 && b === 168) return 'private';
  if (a === 198 && (b === 18 || b === 19)) return 'reserved';
  if (a === 198 && b === 51 && c === 100) return 'documentation';
  if (a === 203 && b === 0 && c === 113) return 'documentation';
  if (a >= 224 && a <= 239) return 'multicast';
  if (a >= 240) return 'reserved';
  return null;
}

function embeddedIpv4(hi: number, lo: number): number[] {
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];
}

function classifyIpv6(g: number[]): BlockReason | null {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (upperZero && g5 === 0 && g6 === 0 && g7 === 0) return 'unspecified';
  if (upperZero && g5 === 0 && g6 === 0 && g7 === 1) return 'loopback';
  // Mapped (::ffff:a.b.c.d) and the deprecated compatible form (::a.b.c.d) reach IPv4 hosts.
  if (upperZero && (g5 === 0xffff || g5 === 0)) return classifyIpv4(embeddedIpv4(g6, g7));
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) translate to the embedded IPv4 address.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return classifyIpv4(embeddedIpv4(g6, g7));
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'reserved';
  if (g0 === 0x2002) return classifyIpv4(embeddedIpv4(g1, g2));
  if (g0 === 0x100 && g1 === 0 && g2 === 0 && g3 === 0) return 'reserved';
  if (g0 === 0x2001 && g1 === 0xdb8) return 'documentation';
  if ((g0 & 0xfe00) === 0xfc00) return 'unique-local';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  if ((g0 & 0xffc0) === 0xfec0) return 'private';
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  return null;
}

/**
 * Why an IP address must not be fetched, or null when it is a public unicast
 * address. Anything that does not parse as an IP address is refused as reserved.
 */
export function classifyAddress(address: string): BlockReason | null {
  const v4 = parseIpv4(address);
  if (v4) return classifyIpv4(v4);
  const v6 = parseIpv6(address);
  if (v6) return classifyIpv6(v6);
  return 'reserved';
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `net.connect` lookup that refuses the connection when any resolved address is
 * blocked: connecting to "the public one" of a mixed answer would let an attacker
 * steer us with record ordering.
 */
function guardedLookup(allowed: ReadonlySet<string>) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const { address } of addresses) {
        const reason = allowed.has(address) ? null : classifyAddress(address);
        if (reason) return callback(new BlockedAddressError(hostname, address, reason) as NodeJS.ErrnoException, []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`No address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

export interface GuardedFetchOptions {
  /** Lets user-supplied URLs reach loopback and private networks (self-hosted servers, tests). */
  allowPrivateNetworks: boolean;
  /** Largest answer accepted, in bytes. Default 10 MB. */
  maxResponseBytes?: number;
  /** Whole-exchange limit including the body, across redirects. Default 30 s. */
  timeoutMs?: number;
  /** Default 5. */
  maxRedirects?: number;
  /** Exact IP addresses let through despite the policy (one known internal server). */
  allowAddresses?: readonly string[];
}

function checkUrl(url: URL, allowPrivateNetworks: boolean, allowed: ReadonlySet<string>): void {
  if (url.username || url.password) {
    throw new RefusedUrlError('URLs must not carry credentials');
  }
  // Literal addresses never reach `lookup`, so they are checked here.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivateNetworks && isIP(host) && !allowed.has(host)) {
    const reason = classifyAddress(host);
    if (reason) throw new BlockedAddressError(host, host, reason);
  }
}

/** Connect failures arrive wrapped (`TypeError('fetch failed')`); the policy error is what callers need. */
function unwrapBlocked(err: unknown): unknown {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (current instanceof BlockedAddressError) return current;
    current = current.cause;
  }
  return err;
}

export function createGuardedFetch(options: GuardedFetchOptions): typeof fetch {
  const { allowPrivateNetworks } = options;
  const allowed = new Set(options.allowAddresses ?? []);
  return createProviderFetch({
    ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.maxRedirects === undefined ? {} : { maxRedirects: options.maxRedirects }),
    dispatcher: new Agent(allowPrivateNetworks ? {} : { connect: { lookup: guardedLookup(allowed) } }),
    checkUrl: (url) => checkUrl(url, allowPrivateNetworks, allowed),
    mapError: unwrapBlocked,
  });
}
