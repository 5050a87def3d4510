/**
 * Almanac's page token for one Google events query: opaque to callers, bound to the
 * query it came from, carrying Google's own page token inside.
 */
import { createHash } from 'node:crypto';
import type { EventQuery } from '../types.js';
import { ProviderError } from '../types.js';

/** Expanded instances: resume at Google page `g`, skipping what starts before `b`. */
export interface InstancesCursor {
  kind: 'instances';
  googlePageToken?: string;
  /** Every event starting before this instant (epoch ms) was already returned. */
  emittedBefore?: number;
}

/** Series masters, paged locally: resume after the (start, id) last returned. */
export interface MastersCursor {
  kind: 'masters';
  afterStartMs: number;
  afterId: string;
}

export type GoogleCursor = InstancesCursor | MastersCursor;

interface Wire {
  v: 1;
  q: string;
  k: 'i' | 'm';
  g?: string;
  b?: number;
  s?: number;
  i?: string;
}

function fingerprint(q: EventQuery): string {
  return createHash('sha256')
    .update(JSON.stringify([q.calendarId, q.start.getTime(), q.end.getTime(), q.singleEvents]))
    .digest('base64url')
    .slice(0, 12);
}

export function encodeCursor(q: EventQuery, cursor: GoogleCursor): string {
  const wire: Wire =
    cursor.kind === 'instances'
      ? { v: 1, q: fingerprint(q), k: 'i', g: cursor.googlePageToken, b: cursor.emittedBefore }
      : { v: 1, q: fingerprint(q), k: 'm', s: cursor.afterStartMs, i: cursor.afterId };
  return Buffer.from(JSON.stringify(wire)).toString('base64url');
}

export function decodeCursor(q: EventQuery, token: string): GoogleCursor {
  let wire: Partial<Wire>;
  try {
    wire = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<Wire>;
  } catch (error) {
    throw invalid(error);
  }
  // A token from another query would silently skip or repeat events: refuse it instead.
  if (wire?.v !== 1 || wire.q !== fingerprint(q)) throw invalid();
  if (wire.k === 'i' && !q.singleEvents) throw invalid();
  if (wire.k === 'm' && q.singleEvents) throw invalid();
  if (wire.k === 'i') {
    if (wire.g !== undefined && typeof wire.g !== 'string') throw invalid();
    if (wire.b !== undefined && !Number.isFinite(wire.b)) throw invalid();
    return { kind: 'instances', googlePageToken: wire.g, emittedBefore: wire.b };
  }
  if (wire.k === 'm' && Number.isFinite(wire.s) && typeof wire.i === 'string') {
    return { kind: 'masters', afterStartMs: wire.s!, afterId: wire.i };
  }
  throw invalid();
}

function invalid(cause?: unknown): ProviderError {
  return new ProviderError('INVALID_INPUT', 'The page token does not belong to this query', { cause });
}
