/**
 * The adapter's page cursor: the sort key of the last event handed out. A keyset
 * rather than an offset, so an event added or removed between two page requests
 * shifts nothing. The API layer signs the token; this only has to read its own.
 */
import { ProviderError } from '../types.js';

export interface PagePosition {
  /** Start of the last event returned, in ms. */
  start: number;
  id: string;
}

export function encodePageToken(position: PagePosition): string {
  return Buffer.from(JSON.stringify([position.start, position.id]), 'utf8').toString('base64url');
}

export function decodePageToken(token: string): PagePosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isFinite(value[0]) && typeof value[1] === 'string') {
      return { start: value[0] as number, id: value[1] };
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
