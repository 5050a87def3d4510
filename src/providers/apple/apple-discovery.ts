/**
 * iCloud connect. caldav.icloud.com answers PROPFIND on `/` itself (its well-known
 * path does not lead anywhere useful), names the principal (sometimes as a bare
 * `/principal/`) and puts the calendar home on a partition host
 * (`https://pNN-caldav.icloud.com/…`); the shared discovery follows all of that.
 */
import { discoverDavAccount, type CaldavAccount, type DiscoveryMessages } from '../caldav/index.js';

export const ICLOUD_CALDAV_URL = 'https://caldav.icloud.com/';

const APPLE_MESSAGES: DiscoveryMessages = {
  auth:
    'iCloud did not accept this Apple ID and password. Use an app-specific password ' +
    '(appleid.apple.com → Sign-In and Security → App-Specific Passwords), not your Apple ID password.',
  unreachable: (host) => `Could not reach iCloud at ${host}. Try again in a moment.`,
  notCaldav: (host) => `${host} did not answer like iCloud Calendar: no calendar account was found.`,
};

/**
 * iCloud's documented partition hosts for the configured entry point: `pNN-caldav.icloud.com`
 * beside `caldav.icloud.com` (same scheme; any NN). The only other hosts an Apple ID's
 * password is sent to.
 */
export function isPartitionHost(url: URL, entry: URL): boolean {
  const [first, ...rest] = entry.hostname.split('.');
  if (!first || rest.length === 0 || url.protocol !== entry.protocol) return false;
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^p\\d{1,3}-${escape(first)}\\.${escape(rest.join('.'))}$`, 'i').test(url.hostname);
}

export interface AppleAccountInput {
  appleId: string;
  appPassword: string;
  /** Defaults to https://caldav.icloud.com/; overridable for tests and proxies. */
  serverUrl?: string;
  signal?: AbortSignal;
}

/**
 * Verifies an Apple ID + app-specific password by discovery.
 * accountId is the Apple ID trimmed and lower-cased: Apple IDs are case-insensitive emails.
 * @throws CaldavConnectError with reason auth | unreachable | not_caldav | blocked
 */
export async function discoverAppleAccount(fetch: typeof globalThis.fetch, input: AppleAccountInput): Promise<CaldavAccount> {
  const account = await discoverDavAccount(fetch, {
    serverUrl: input.serverUrl ?? ICLOUD_CALDAV_URL,
    username: input.appleId.trim(),
    password: input.appPassword,
    useWellKnown: false,
    messages: APPLE_MESSAGES,
    alsoTrusted: isPartitionHost,
    ...(input.signal ? { signal: input.signal } : {}),
  });
  return { ...account, accountId: account.accountId.toLowerCase() };
}
