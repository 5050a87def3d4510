/**
 * events.list → EventPage, honouring the EventPage contract: across the pages of one
 * query, events come in non-decreasing Almanac `start` order.
 *
 * Two wrinkles make this more than a pass-through:
 * - Google files all-day events under the calendar's zone (when filtering and when
 *   ordering by startTime), Almanac under UTC midnight. The query is widened by the
 *   largest zone offset and filtered here with Almanac's own rule, and an event is only
 *   returned once no later Google page can still hold an event that sorts before it.
 * - Google cannot order series masters (singleEvents=false), so those are read whole
 *   and paged here.
 */
import type { CalendarEvent } from '../../domain/calendar.js';
import { ProviderError } from '../types.js';
import type { EventPage, EventQuery } from '../types.js';
import type { GoogleCalendarApi } from './google-calendar-api.js';
import { eventEndMs, eventStartMs, toCalendarEvent } from './google-event-mapper.js';
import type { GoogleContext } from './google-http.js';
import { decodeCursor, encodeCursor } from './google-page-token.js';
import type { InstancesCursor, MastersCursor } from './google-page-token.js';
import { addDays, isKnownTimeZone, localDate, localMidnightMs, utcMidnightMs } from './google-time.js';
import type { GoogleEvent } from './google-wire-types.js';

const HOUR = 3_600_000;
/** UTC offsets run from -12 h to +14 h: a date's local midnight is at most this far from its UTC midnight. */
const MAX_ZONE_SKEW_MS = 14 * HOUR;
const MAX_NEGATIVE_OFFSET_MS = 12 * HOUR;
/** Google pages one call may read before returning what it has (a call always returns something, or the end). */
const PAGES_PER_CALL = 20;
/** Against a server that never stops handing out page tokens. */
const MAX_MASTER_PAGES = 1000;

export async function listGoogleEvents(api: GoogleCalendarApi, ctx: GoogleContext, q: EventQuery): Promise<EventPage> {
  const cursor = q.pageToken ? decodeCursor(q, q.pageToken) : undefined;
  if (q.singleEvents) return listInstances(api, ctx, q, cursor as InstancesCursor | undefined);
  return listMasters(api, ctx, q, cursor as MastersCursor | undefined);
}

function widenedRange(q: EventQuery): { timeMin: string; timeMax: string } {
  return {
    timeMin: new Date(q.start.getTime() - MAX_ZONE_SKEW_MS).toISOString(),
    timeMax: new Date(q.end.getTime() + MAX_ZONE_SKEW_MS).toISOString(),
  };
}

/** Almanac's range rule (types.ts): end > start of range and start < end of range. */
function inRange(startMs: number, endMs: number, q: EventQuery): boolean {
  return endMs > q.start.getTime() && startMs < q.end.getTime();
}

interface Pending {
  event: GoogleEvent;
  startMs: number;
  /** Index of the Google page it came from within this call. */
  page: number;
}

async function listInstances(
  api: GoogleCalendarApi,
  ctx: GoogleContext,
  q: EventQuery,
  cursor: InstancesCursor | undefined,
): Promise<EventPage> {
  const range = widenedRange(q);
  const maxResults = Math.min(Math.max(Math.floor(q.pageSize), 1), 2500);
  const skipBefore = cursor?.emittedBefore;
  const pageTokens: (string | undefined)[] = [];
  const pending: Pending[] = [];
  let pageToken = cursor?.googlePageToken;
  let bound = -Infinity;

  for (let page = 0; ; page += 1) {
    pageTokens.push(pageToken);
    const response = await api.listEvents(ctx, q.calendarId, {
      ...range,
      singleEvents: true,
      orderBy: 'startTime',
      maxResults,
      pageToken,
    });
    const items = response.items ?? [];
    for (const event of items) {
      if (event.status === 'cancelled') continue;
      const startMs = eventStartMs(event);
      if (!inRange(startMs, eventEndMs(event), q)) continue;
      // Returned by an earlier call that read this page too.
      if (skipBefore !== undefined && startMs < skipBefore) continue;
      pending.push({ event, startMs, page });
    }
    if (!response.nextPageToken) return { events: toEvents(pending, q) };

    const last = items.at(-1);
    if (last) bound = Math.max(bound, lowestStartStillToCome(last, response.timeZone));
    const full = pending.length >= q.pageSize || page + 1 >= PAGES_PER_CALL;
    const held = pending.filter((p) => p.startMs > bound);
    if (held.length === 0) {
      if (full) {
        return {
          events: toEvents(pending, q),
          nextPageToken: encodeCursor(q, { kind: 'instances', googlePageToken: response.nextPageToken, emittedBefore: skipBefore }),
        };
      }
    } else {
      const ready = pending.filter((p) => p.startMs < bound);
      if (full && ready.length > 0) {
        // Resume at the first page still holding something unreturned, skipping what was returned.
        const firstHeld = pending.reduce((min, p) => (p.startMs >= bound && p.page < min ? p.page : min), Infinity);
        const emittedBefore = Math.max(bound, skipBefore ?? -Infinity);
        return {
          events: toEvents(ready, q),
          nextPageToken: encodeCursor(q, { kind: 'instances', googlePageToken: pageTokens[firstHeld as number], emittedBefore }),
        };
      }
    }
    pageToken = response.nextPageToken;
  }
}

/**
 * The earliest Almanac start any event on a later Google page can have, given the last
 * event of this page. Google orders timed events by their instant and all-day events by
 * their date's local midnight in the calendar's zone; Almanac dates the latter at UTC
 * midnight, which in zones west of UTC is earlier than where Google ranked them.
 */
function lowestStartStillToCome(last: GoogleEvent, calendarZone: string | undefined): number {
  const zone = calendarZone && isKnownTimeZone(calendarZone) ? calendarZone : undefined;
  let rank: number;
  if (last.start?.date) {
    rank = zone ? localMidnightMs(last.start.date, zone) : utcMidnightMs(last.start.date) - MAX_ZONE_SKEW_MS;
  } else {
    rank = eventStartMs(last);
  }
  if (!zone) return rank - MAX_NEGATIVE_OFFSET_MS;
  const day = localDate(rank, zone);
  const firstLaterDay = localMidnightMs(day, zone) >= rank ? day : addDays(day, 1);
  return Math.min(rank, utcMidnightMs(firstLaterDay));
}

function toEvents(pending: Pending[], q: EventQuery): CalendarEvent[] {
  // Array.prototype.sort is stable: equal starts keep Google's order.
  return [...pending].sort((a, b) => a.startMs - b.startMs).map((p) => toCalendarEvent(p.event, q.calendarId));
}

async function listMasters(
  api: GoogleCalendarApi,
  ctx: GoogleContext,
  q: EventQuery,
  cursor: MastersCursor | undefined,
): Promise<EventPage> {
  const range = widenedRange(q);
  const kept: { event: GoogleEvent; startMs: number; id: string }[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  do {
    if (++pages > MAX_MASTER_PAGES) throw new ProviderError('UNKNOWN', 'Google kept returning more pages of events');
    const response = await api.listEvents(ctx, q.calendarId, { ...range, singleEvents: false, maxResults: 2500, pageToken });
    for (const event of response.items ?? []) {
      // Exceptions of a series belong to the expanded view; cancelled items are deletions.
      if (event.status === 'cancelled' || event.recurringEventId !== undefined) continue;
      const startMs = eventStartMs(event);
      // A master's own times are its first occurrence: Google already kept only series with one in range.
      const keep = event.recurrence ? startMs < q.end.getTime() : inRange(startMs, eventEndMs(event), q);
      if (keep) kept.push({ event, startMs, id: event.id ?? '' });
    }
    pageToken = response.nextPageToken;
  } while (pageToken);

  kept.sort((a, b) => a.startMs - b.startMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rest = cursor
    ? kept.filter((k) => k.startMs > cursor.afterStartMs || (k.startMs === cursor.afterStartMs && k.id > cursor.afterId))
    : kept;
  const size = Math.max(1, Math.floor(q.pageSize));
  const page = rest.slice(0, size);
  const last = page.at(-1);
  return {
    events: page.map((k) => toCalendarEvent(k.event, q.calendarId)),
    ...(rest.length > size && last
      ? { nextPageToken: encodeCursor(q, { kind: 'masters', afterStartMs: last.startMs, afterId: last.id }) }
      : {}),
  };
}
