/**
 * Google-style paging: opaque page tokens bound to the query, pages that may be shorter
 * than maxResults (the `pageSizeCap` knob) or even empty (the `emptyPages` knob), and
 * the last page recognisable only by the absence of nextPageToken.
 */
import { createHash } from 'node:crypto';
import { apiErrors } from './emulator-http.js';

export interface PagingKnobs {
  /** Serve at most this many items per page whatever maxResults asks. */
  pageSizeCap: number;
  /** Put an empty page (with a nextPageToken) after every non-final page. */
  emptyPages: boolean;
}

interface TokenBody {
  o: number;
  q: string;
  e?: 1;
}

export function queryFingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

export function paginate<T>(
  items: T[],
  options: { pageToken?: string; maxResults: number; query: string; knobs: PagingKnobs },
): { items: T[]; nextPageToken?: string } {
  let offset = 0;
  if (options.pageToken !== undefined) {
    const token = decode(options.pageToken);
    if (!token || token.q !== options.query) throw apiErrors.invalid('Invalid page token value.');
    if (token.e) return { items: [], nextPageToken: encode({ o: token.o, q: token.q }) };
    offset = token.o;
  }
  const size = Math.max(1, Math.min(options.maxResults, options.knobs.pageSizeCap));
  const page = items.slice(offset, offset + size);
  const next = offset + size;
  if (next >= items.length) return { items: page };
  return { items: page, nextPageToken: encode({ o: next, q: options.query, ...(options.knobs.emptyPages ? { e: 1 as const } : {}) }) };
}

function encode(body: TokenBody): string {
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

function decode(token: string): TokenBody | undefined {
  try {
    const body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as TokenBody;
    return Number.isInteger(body.o) && body.o >= 0 && typeof body.q === 'string' ? body : undefined;
  } catch {
    return undefined;
  }
}
