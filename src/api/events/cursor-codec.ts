/**
 * `nextPageToken` of GET /api/events: the merge's resume state, authenticated and bound
 * to the query that produced it.
 *
 * Wire form: base64url( version | flags | payload | mac ), where payload is compact JSON
 * `[pageSize, [[sourceId, skip, token?], …]]`, raw-deflated when that is shorter
 * (Graph's next links are long URLs and compress well), and mac is the first 16 bytes
 * of HMAC-SHA256(key, context | fingerprint | version | flags | payload). A token from
 * another user or query, or one changed in any byte, fails the MAC; every failure is the
 * same 400 "Invalid nextPageToken" so the answer reveals nothing about why.
 *
 * The state holds no secret (provider page tokens are the user's own), so it is signed,
 * not encrypted. Tokens do not expire here: a stale provider page token fails at the
 * provider (CURSOR_INVALID), which the merge reports like any other source failure.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { ProviderId } from '../../domain/calendar.js';
import { ValidationError } from '../../domain/errors.js';
import type { CalendarFilter } from './parse-list-query.js';
import { MAX_PAGE_SIZE } from './parse-list-query.js';

/** Where one source stands: the next unread event is `skip` items into the page `token` names. */
export interface SourceCursor {
  /** The provider's token of the page being read; absent for the source's first page. */
  token?: string;
  /** How many events of that page were already returned. */
  skip: number;
}

export interface CursorState {
  /**
   * The page-size hint passed to every provider during this walk. It is fixed at the first
   * page: re-reading a provider page with another size could move its boundaries and make
   * `skip` point at the wrong event.
   */
  providerPageSize: number;
  /**
   * Sources still being read, by `sourceId(key)`. A source absent here is finished: it ran
   * out, it failed earlier in the walk, or it did not exist when the walk started.
   */
  sources: Record<string, SourceCursor>;
  /**
   * Calendars (row ids) this walk reads from the local mirror, fixed at its first page so
   * a calendar never switches between mirror and provider in the middle of a walk.
   */
  mirror?: string[];
  /** The mirror clock value the walk reads at, so it sees one consistent state. */
  snapshot?: number;
}

export interface CursorCodec {
  /** A token that `decode` accepts only with the same `fingerprint` and key. */
  encode(state: CursorState, fingerprint: string): string;
  /** The state, or ValidationError (400) "Invalid nextPageToken" for anything else. */
  decode(token: string, fingerprint: string): CursorState;
}

export interface FingerprintInput {
  /** The end user's row id (unique across clients). */
  userId: string;
  start: Date;
  end: Date;
  singleEvents: boolean;
  calendarIds: CalendarFilter;
}

const VERSION = 1;
const FLAG_DEFLATED = 1;
const MAC_BYTES = 16;
const HEADER_BYTES = 2;
const CONTEXT = 'almanac/events-cursor/v1\0';
/** Limits enforced on decode (after the MAC, so only against our own bugs or a leaked key). */
const MAX_TOKEN_CHARS = 32 * 1024;
const MAX_INFLATED_BYTES = 256 * 1024;
const MAX_SOURCES = 5000;
const MAX_SOURCE_ID = 64;
const MAX_PROVIDER_TOKEN = 16 * 1024;
const MAX_SKIP = 1_000_000;
/** Below this size deflate rarely wins; skip it. */
const DEFLATE_FROM = 120;

/**
 * A digest of everything that defines the result set. Canonical: provider keys and ids
 * are sorted, so `{"google":["b","a"]}` and `{"google":["a","b"]}` give the same one.
 * `pageSize` is left out on purpose: a client may change it between pages.
 */
export function queryFingerprint(input: FingerprintInput): string {
  const filter = Object.keys(input.calendarIds)
    .sort()
    .map((p) => [p, [...(input.calendarIds[p as ProviderId] ?? [])].sort()]);
  const canonical = JSON.stringify([
    input.userId,
    input.start.toISOString(),
    input.end.toISOString(),
    input.singleEvents,
    filter,
  ]);
  return createHash('sha256').update(canonical).digest('base64url');
}

function invalidToken(): ValidationError {
  return new ValidationError('Invalid nextPageToken', [{ field: 'nextPageToken', message: 'invalid or tampered token' }]);
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

const MAX_MIRROR_CALENDARS = 5000;

function toMirror(json: unknown): string[] | undefined | false {
  if (json === undefined) return undefined;
  if (!Array.isArray(json) || json.length > MAX_MIRROR_CALENDARS) return false;
  if (!json.every((id) => typeof id === 'string' && id.length > 0 && id.length <= MAX_SOURCE_ID)) return false;
  return json as string[];
}

function toState(json: unknown): CursorState | undefined {
  if (!Array.isArray(json) || json.length < 2 || json.length > 4) return undefined;
  const [providerPageSize, entries, mirrorJson, snapshot] = json as unknown[];
  const mirror = toMirror(mirrorJson);
  if (mirror === false) return undefined;
  if (snapshot !== undefined && !isInt(snapshot, 0, Number.MAX_SAFE_INTEGER)) return undefined;
  if (!isInt(providerPageSize, 1, MAX_PAGE_SIZE) || !Array.isArray(entries) || entries.length > MAX_SOURCES) return undefined;
  // A Map, then fromEntries: an id such as `__proto__` stays an ordinary own property.
  const sources = new Map<string, SourceCursor>();
  for (const entry of entries as unknown[]) {
    if (!Array.isArray(entry) || entry.length < 2 || entry.length > 3) return undefined;
    const [id, skip, token] = entry as unknown[];
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_SOURCE_ID || sources.has(id)) return undefined;
    if (!isInt(skip, 0, MAX_SKIP)) return undefined;
    if (entry.length === 3 && (typeof token !== 'string' || token.length > MAX_PROVIDER_TOKEN)) return undefined;
    sources.set(id, typeof token === 'string' ? { token, skip } : { skip });
  }
  return { providerPageSize, sources: Object.fromEntries(sources), ...(mirror ? { mirror } : {}), ...(typeof snapshot === 'number' ? { snapshot } : {}) };
}

/** `key` authenticates tokens; use a key of its own (Keys.cursors), at least 32 bytes. */
export function createCursorCodec(key: Uint8Array): CursorCodec {
  if (key.byteLength < 32) throw new TypeError('cursor key must be at least 32 bytes');
  const macKey = Buffer.from(key);

  const mac = (fingerprint: string, body: Buffer): Buffer =>
    createHmac('sha256', macKey).update(CONTEXT).update(fingerprint).update('\0').update(body).digest().subarray(0, MAC_BYTES);

  return {
    encode(state, fingerprint) {
      const entries = Object.entries(state.sources).map(([id, s]) =>
        s.token === undefined ? [id, s.skip] : [id, s.skip, s.token],
      );
      const tail = state.mirror ? (state.snapshot !== undefined ? [state.mirror, state.snapshot] : [state.mirror]) : [];
      const json = Buffer.from(JSON.stringify([state.providerPageSize, entries, ...tail]), 'utf8');
      let flags = 0;
      let payload = json;
      if (json.length >= DEFLATE_FROM) {
        const deflated = deflateRawSync(json, { level: 9 });
        if (deflated.length < json.length) {
          payload = deflated;
          flags |= FLAG_DEFLATED;
        }
      }
      const body = Buffer.concat([Buffer.from([VERSION, flags]), payload]);
      return Buffer.concat([body, mac(fingerprint, body)]).toString('base64url');
    },

    decode(token, fingerprint) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) {
        throw invalidToken();
      }
      const raw = Buffer.from(token, 'base64url');
      // Non-canonical base64url (stray trailing bits) would decode to the same bytes: refuse it.
      if (raw.length < HEADER_BYTES + MAC_BYTES + 1 || raw.toString('base64url') !== token) throw invalidToken();
      const body = raw.subarray(0, raw.length - MAC_BYTES);
      const given = raw.subarray(raw.length - MAC_BYTES);
      if (!timingSafeEqual(given, mac(fingerprint, body))) throw invalidToken();

      const version = body[0];
      const flags = body[1] ?? 0;
      if (version !== VERSION || (flags & ~FLAG_DEFLATED) !== 0) throw invalidToken();
      let json: unknown;
      try {
        let payload = body.subarray(HEADER_BYTES);
        if (flags & FLAG_DEFLATED) payload = inflateRawSync(payload, { maxOutputLength: MAX_INFLATED_BYTES });
        json = JSON.parse(payload.toString('utf8'));
      } catch {
        throw invalidToken();
      }
      const state = toState(json);
      if (!state) throw invalidToken();
      return state;
    },
  };
}
