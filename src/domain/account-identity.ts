/**
 * How a connected provider account is recognised, and the public id applications see.
 *
 * The identity decides whether connecting an account again repairs the one stored or
 * adds another. A CalDAV user name means nothing without its server (`alice` on the
 * attacker's server is not `alice` on the victim's), so a CalDAV account is its
 * normalised principal URL (the server and path discovery proved the credentials on)
 * plus the user name; iCloud and Google accounts are their Apple ID or email.
 *
 * The public id (`id` in connection-status, `account=` of disconnect) stays what it
 * always was — the user name or email — unless the same user already has an account
 * of that provider with that id elsewhere; then the server's host tells them apart.
 */
import type { ProviderId } from './calendar.js';

/** C0 controls, DEL and C1 controls: never part of a user name, account id or server address. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

export function hasControlCharacters(value: string): boolean {
  return CONTROL_CHARACTERS.test(value);
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * RFC 3986 §6.2.2 normalisation of a URL that names a CalDAV resource: case of scheme
 * and host, default port, percent-encoding (unreserved characters decoded, hex digits
 * upper-cased), no query or fragment, and a trailing slash (a collection).
 */
export function normalizeCollectionUrl(input: string): string {
  const url = new URL(input);
  url.search = '';
  url.hash = '';
  url.username = '';
  url.password = '';
  let path = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
  if (!path.endsWith('/')) path += '/';
  return `${url.protocol}//${url.host}${path}`;
}

/** The identity of a CalDAV account: where its principal lives, and who signs in there. */
export function caldavIdentity(principalUrl: string, username: string): string {
  return JSON.stringify([normalizeCollectionUrl(principalUrl), username]);
}

/** The identity of an account named by an email address (Google, iCloud): case does not matter. */
export function emailIdentity(email: string): string {
  return email.trim().toLowerCase();
}

function parseCaldavIdentity(identity: string): { principalUrl: string; username: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(identity);
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      return { principalUrl: parsed[0], username: parsed[1] };
    }
  } catch {
    // Not a CalDAV identity (legacy rows carry a marker until they are upgraded).
  }
  return undefined;
}

/**
 * Public ids an account may take, best first: the plain id (the user name or email),
 * then (CalDAV only) the user name with its server's host, then with host and path.
 * Whoever needs a free one takes the first that no other account of the same user and
 * provider holds. `fallbackId` is used when the identity carries no user name.
 */
export function publicIdCandidates(provider: ProviderId, identity: string, fallbackId: string): string[] {
  const parsed = provider === 'caldav' ? parseCaldavIdentity(identity) : undefined;
  if (!parsed) return [fallbackId];
  const url = new URL(parsed.principalUrl);
  const plain = parsed.username;
  return [...new Set([plain, `${plain} (${url.host})`, `${plain} (${url.host}${url.pathname.replace(/\/+$/, '')})`])];
}

/** The first candidate not in `taken`, or the last one numbered until it is free. */
export function firstFreeId(candidates: readonly string[], taken: ReadonlySet<string>): string {
  for (const candidate of candidates) if (!taken.has(candidate)) return candidate;
  const base = candidates[candidates.length - 1] ?? 'account';
  for (let n = 2; ; n++) {
    const numbered = `${base} #${n}`;
    if (!taken.has(numbered)) return numbered;
  }
}
