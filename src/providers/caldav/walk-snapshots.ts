/**
 * Live listings of one walk (the pages of one GET /api/events cursor) read the calendar
 * once: the first page's sorted result is kept here under a random id that travels in the
 * page token, and later pages are cut from it. Without this every page would download and
 * expand the whole range again, so walking a range in pages would cost the square of its
 * size. A walk therefore sees the calendar as it was at its first page. Kept in memory
 * with a bounded total size and a short lifetime; a miss (evicted, expired, another
 * instance) just reads the calendar again.
 */
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { CalendarEvent } from '../../domain/calendar.js';
import type { PagePosition } from './page-token.js';

export interface Listed {
  position: PagePosition;
  event: CalendarEvent;
}

interface Snapshot {
  /** What the listing was of (calendar, account, range, view): a token never reads another's. */
  scope: string;
  events: Listed[];
}

/** Events held across all walks (a few KB each at most). */
const MAX_EVENTS = 50_000;
const TTL_MS = 5 * 60_000;

export class WalkSnapshots {
  private readonly snapshots = new LRUCache<string, Snapshot>({ maxSize: MAX_EVENTS, sizeCalculation: (s) => Math.max(1, s.events.length), ttl: TTL_MS });

  /** Keeps a walk's sorted listing; returns its id, or undefined when it is too large to keep. */
  keep(scope: string, events: Listed[]): string | undefined {
    if (events.length > MAX_EVENTS / 2) return undefined;
    const id = randomBytes(12).toString('base64url');
    this.snapshots.set(id, { scope, events });
    return id;
  }

  get(id: string, scope: string): Listed[] | undefined {
    const snapshot = this.snapshots.get(id);
    return snapshot?.scope === scope ? snapshot.events : undefined;
  }
}
