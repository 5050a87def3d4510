/**
 * The adapter's page cursor: the sort key of the last event handed out, and the walk's
 * snapshot id (walk-snapshots.ts). A keyset rather than an offset, so when the snapshot
 * is gone and the calendar is read again, an event added or removed between two page
 * requests shifts nothing. The API layer signs the token; this only has to read its own.
 */
import { ProviderError } from '../types.js';

export interface PagePosition {
  /** Start of the last event returned, in ms. */
  start: number;
  id: string;
}

export interface PageToken extends PagePosition {
  /** The walk's snapshot, when one was kept. */
  walk?: string;
}

export function encodePageToken(token: PageToken): string {
  const value = token.walk === undefined ? [token.start, token.id] : [token.start, token.id, token.walk];
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function decodePageToken(token: string): PageToken {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(value) && (value.length === 2 || value.length === 3) && Number.isFinite(value[0]) && typeof value[1] === 'string') {
      if (value.length === 2) return { start: value[0] as number, id: value[1] };
      if (typeof value[2] === 'string' && value[2].length <= 64) return { start: value[0] as number, id: value[1], walk: value[2] };
    }
  } catch {
    // Falls through to the same error as a well-formed but wrong value.
  }
  throw new ProviderError('CURSOR_INVALID', 'The page token is not one this calendar issued');
}

/** Total order of the listing: start, then id. */
export function comparePosition(a: PagePosition, b: PagePosition): number {
  return a.start - b.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Index of the first listed event after `position` (the listing is sorted by comparePosition). */
export function firstAfter(listed: readonly { position: PagePosition }[], position: PagePosition): number {
  let low = 0;
  let high = listed.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (comparePosition(listed[mid]!.position, position) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}
