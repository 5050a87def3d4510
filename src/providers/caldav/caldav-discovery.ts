/**
 * Connect-time discovery (RFC 6764 + RFC 4791 §6.2): from what a person typed to the
 * principal and calendar home, proving the credentials on the way. Nothing is
 * stored before this succeeds, and every failure says which of four things went wrong.
 */
import { BlockedAddressError, RefusedUrlError, TooManyRedirectsError } from '../../http/guarded-fetch.js';
import { formatBytes, ResponseTooLargeError } from '../types.js';
import { createDavAuthorizer, sendAuthorized, type DavAuthorizer } from './dav-authorizer.js';
import type { DavCredentials } from './dav-client.js';
import { canonicalUrl, DavXmlError, hrefsIn, parseMultistatus, prop, propfindBody, propKey, type DavResponse } from './dav-xml.js';

export type CaldavConnectReason = 'auth' | 'unreachable' | 'not_caldav' | 'blocked' | 'too_large';

/** A connect failure whose message can be shown to the person connecting. */
export class CaldavConnectError extends Error {
  constructor(
    readonly reason: CaldavConnectReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CaldavConnectError';
  }
}

export interface CaldavAccount {
  /** The user name as typed, trimmed (CalDAV user names can be case-sensitive). */
  accountId: string;
  principalUrl: string;
  calendarHomeUrl: string;
  /** The normalised server URL discovery started from. */
  serverUrl: string;
}

export interface DiscoveryMessages {
  auth: string;
  unreachable: (host: string) => string;
  notCaldav: (host: string) => string;
}

export const CALDAV_MESSAGES: DiscoveryMessages = {
  auth: 'The server rejected the user name or password.',
  unreachable: (host) => `Could not reach a server at ${host}. Check the address and try again.`,
  notCaldav: (host) => `${host} does not look like a CalDAV server: no calendar account was found there.`,
};

export interface DiscoveryPlan extends DavCredentials {
  serverUrl: string;
  /** Try RFC 6764 `/.well-known/caldav` (iCloud, for one, does not redirect it usefully). */
  useWellKnown: boolean;
  messages: DiscoveryMessages;
  signal?: AbortSignal;
  /**
   * Where else besides the origin the user typed the credentials may go (iCloud's
   * partition hosts). Discovery never sends them anywhere this does not allow.
   */
  alsoTrusted?(url: URL, typed: URL): boolean;
}

const MAX_REDIRECTS = 5;

/** `cal.example.com` → `https://cal.example.com/`; throws for anything that is not http(s). */
export function normalizeServerUrl(input: string, messages: DiscoveryMessages): URL {
  const trimmed = input.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CaldavConnectError('unreachable', messages.unreachable(trimmed.slice(0, 100) || 'that address'));
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) {
    throw new CaldavConnectError('unreachable', 'Enter the server address as an http:// or https:// URL, without a user name in it.');
  }
  url.hash = '';
  return url;
}

class Discovery {
  private readonly authorizer: DavAuthorizer;
  private readonly host: string;
  sawForbidden = false;

  constructor(
    private readonly fetch: typeof globalThis.fetch,
    private readonly plan: DiscoveryPlan,
    private readonly typed: URL,
  ) {
    this.authorizer = createDavAuthorizer(plan);
    this.host = typed.host;
  }

  /**
   * The user's password goes to the server they named and nowhere else: not to where a
   * redirect points, not to a principal or home another server's answer names.
   */
  mayReceiveCredentials(url: URL): boolean {
    return url.origin === this.typed.origin || this.plan.alsoTrusted?.(url, this.typed) === true;
  }

  /** A network-level failure as a connect error. */
  private networkFailure(err: unknown): CaldavConnectError {
    if (err instanceof BlockedAddressError) return new CaldavConnectError('blocked', err.message, { cause: err });
    if (err instanceof RefusedUrlError) return new CaldavConnectError('blocked', err.message, { cause: err });
    if (err instanceof ResponseTooLargeError) {
      return new CaldavConnectError('too_large', `${this.host} sent an answer larger than the ${formatBytes(err.limitBytes)} limit.`, { cause: err });
    }
    if (err instanceof TooManyRedirectsError) {
      return new CaldavConnectError('not_caldav', this.plan.messages.notCaldav(this.host), { cause: err });
    }
    return new CaldavConnectError('unreachable', this.plan.messages.unreachable(this.host), { cause: err });
  }

  /**
   * PROPFIND Depth 0, following redirects here so the credentials go along (discovery
   * redirects, e.g. well-known → /remote.php/dav, usually cross paths and sometimes hosts).
   * Resolves to null when the answer is not a usable multistatus.
   */
  async propfind(start: string, props = [prop.currentUserPrincipal, prop.calendarHomeSet, prop.resourcetype]): Promise<{
    url: string;
    response: DavResponse | undefined;
  } | null> {
    let url = new URL(start);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if (!this.mayReceiveCredentials(url)) return null;
      let response: Response;
      const body = propfindBody(props);
      const target = url;
      try {
        response = await sendAuthorized(this.authorizer, target.toString(), 'PROPFIND', body, (authorization) =>
          this.fetch(target, {
            method: 'PROPFIND',
            headers: { authorization, depth: '0', 'content-type': 'application/xml; charset=utf-8' },
            body,
            redirect: 'manual',
            ...(this.plan.signal ? { signal: this.plan.signal } : {}),
          }),
        );
      } catch (err) {
        throw this.networkFailure(err);
      }
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        const next = new URL(location, url);
        // Credentials never travel from https to plain http.
        if (next.protocol !== 'https:' && !(next.protocol === 'http:' && url.protocol === 'http:')) return null;
        url = next;
        continue;
      }
      if (response.status === 401) {
        await response.body?.cancel();
        throw new CaldavConnectError('auth', this.plan.messages.auth);
      }
      if (response.status === 403) this.sawForbidden = true;
      if (response.status !== 207) {
        await response.body?.cancel();
        return null;
      }
      const finalUrl = response.url || url.toString();
      try {
        const responses = parseMultistatus(await response.text(), finalUrl);
        const same = responses.find((r) => sameResource(r.href, finalUrl)) ?? responses[0];
        return { url: finalUrl, response: same };
      } catch (err) {
        if (err instanceof DavXmlError) return null;
        throw this.networkFailure(err);
      }
    }
    return null;
  }
}

function sameResource(a: string, b: string): boolean {
  const strip = (s: string): string => s.replace(/\/+$/, '');
  return strip(a) === strip(b);
}

/** Runs discovery with the plan's candidates; the shared core of CalDAV and iCloud connect. */
export async function discoverDavAccount(fetch: typeof globalThis.fetch, plan: DiscoveryPlan): Promise<CaldavAccount> {
  const accountId = plan.username.trim();
  if (!accountId || !plan.password) throw new CaldavConnectError('auth', plan.messages.auth);
  const base = normalizeServerUrl(plan.serverUrl, plan.messages);
  const discovery = new Discovery(fetch, { ...plan, username: accountId }, base);
  const wellKnown = new URL('/.well-known/caldav', base).toString();
  const candidates = !plan.useWellKnown ? [base.toString()] : base.pathname === '/' ? [wellKnown, base.toString()] : [base.toString(), wellKnown];

  let principalUrl: string | undefined;
  let homeFromContext: string | undefined;
  for (const candidate of candidates) {
    const found = await discovery.propfind(candidate);
    if (!found?.response) continue;
    const principal = hrefsIn(found.response.props.get(propKey(prop.currentUserPrincipal)), found.url)[0];
    const home = hrefsIn(found.response.props.get(propKey(prop.calendarHomeSet)), found.url)[0];
    if (principal || home) {
      principalUrl = principal ?? found.url;
      homeFromContext = principal && !sameResource(principal, found.url) ? undefined : home;
      break;
    }
  }
  const notCaldav = (): CaldavConnectError =>
    discovery.sawForbidden
      ? new CaldavConnectError('auth', plan.messages.auth)
      : new CaldavConnectError('not_caldav', plan.messages.notCaldav(base.host));
  if (!principalUrl) throw notCaldav();

  let calendarHomeUrl = homeFromContext;
  if (!calendarHomeUrl) {
    const found = await discovery.propfind(principalUrl, [prop.calendarHomeSet, prop.resourcetype]);
    calendarHomeUrl = found?.response && hrefsIn(found.response.props.get(propKey(prop.calendarHomeSet)), found.url)[0];
    if (found) principalUrl = found.url;
  }
  if (!calendarHomeUrl) throw notCaldav();

  // The home may live on another host (iCloud partitions): prove the credentials work there too.
  const home = await discovery.propfind(calendarHomeUrl, [prop.resourcetype]);
  if (!home) throw notCaldav();
  return { accountId, principalUrl, calendarHomeUrl: withTrailingSlash(home.url), serverUrl: base.toString() };
}

export function withTrailingSlash(url: string): string {
  const u = new URL(url);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return canonicalUrl(u);
}

/**
 * Verifies CalDAV credentials by discovery before anything is stored.
 * @throws CaldavConnectError with reason auth | unreachable | not_caldav | blocked
 */
export async function discoverCaldavAccount(
  fetch: typeof globalThis.fetch,
  input: { serverUrl: string; username: string; password: string; signal?: AbortSignal },
): Promise<CaldavAccount> {
  return discoverDavAccount(fetch, { ...input, useWellKnown: true, messages: CALDAV_MESSAGES });
}
