/**
 * calendarView → EventPage. Graph returns all-day events midnight to midnight in the
 * zone asked for (UTC here), which is Almanac's own all-day rule, but it matches them
 * against the range in the event's own zone; so the range is widened by the largest zone
 * offset and every event filtered here with Almanac's rule. `$orderby=start/dateTime`
 * in UTC keeps the pages in Almanac's start order. Series masters (singleEvents=false)
 * are found through the instances in the range and read whole, in one page.
 */
import type { CalendarEvent } from '../../domain/calendar.js';
import { ProviderError } from '../types.js';
import type { EventPage, EventQuery } from '../types.js';
import type { GraphCalendarApi } from './graph-calendar-api.js';
import { eventSpan, toCalendarEvent } from './graph-event-mapper.js';
import type { GraphContext } from './graph-http.js';
import type { GraphEvent } from './graph-wire-types.js';

const HOUR = 3_600_000;
const MAX_ZONE_SKEW_MS = 14 * HOUR;
const MAX_PAGES = 1000;

interface Cursor {
  /** Graph's next link. */
  l: string;
  c: string;
  s: number;
  e: number;
}

function encodeCursor(q: EventQuery, link: string): string {
  const cursor: Cursor = { l: link, c: q.calendarId, s: q.start.getTime(), e: q.end.getTime() };
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(q: EventQuery, token: string): Cursor {
  let cursor: Cursor | undefined;
  try {
    cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor;
  } catch {
    cursor = undefined;
  }
  if (!cursor || typeof cursor.l !== 'string' || cursor.c !== q.calendarId || cursor.s !== q.start.getTime() || cursor.e !== q.end.getTime()) {
    throw new ProviderError('INVALID_INPUT', 'The page token does not belong to this Microsoft query');
  }
  return cursor;
}

export function widened(q: { start: Date; end: Date }): { start: string; end: string } {
  return { start: new Date(q.start.getTime() - MAX_ZONE_SKEW_MS).toISOString(), end: new Date(q.end.getTime() + MAX_ZONE_SKEW_MS).toISOString() };
}

export function overlaps(event: GraphEvent, q: { start: Date; end: Date }): boolean {
  const span = eventSpan(event);
  if (!span) return false;
  if (span.startMs === span.endMs) return span.startMs >= q.start.getTime() && span.startMs < q.end.getTime();
  return span.endMs > q.start.getTime() && span.startMs < q.end.getTime();
}

export async function listGraphEvents(api: GraphCalendarApi, ctx: GraphContext, q: EventQuery): Promise<EventPage> {
  if (!q.singleEvents) return { events: await listMasters(api, ctx, q) };
  const cursor = q.pageToken ? decodeCursor(q, q.pageToken) : undefined;
  const body = await api.calendarView(ctx, q.calendarId, cursor ? { link: cursor.l } : widened(q), q.pageSize);
  const events = (body?.value ?? [])
    .filter((e) => overlaps(e, q))
    .map((e) => toCalendarEvent(e, q.calendarId))
    .filter((e): e is CalendarEvent => e !== undefined);
  const next = body?.['@odata.nextLink'];
  return { events, ...(next ? { nextPageToken: encodeCursor(q, next) } : {}) };
}

/** Every instance in the range, across all of calendarView's pages. */
export async function viewAll(api: GraphCalendarApi, ctx: GraphContext, calendarId: string, range: { start: Date; end: Date }): Promise<GraphEvent[]> {
  const out: GraphEvent[] = [];
  let body = await api.calendarView(ctx, calendarId, widened(range), 500);
  for (let page = 0; ; page++) {
    out.push(...(body?.value ?? []).filter((e) => overlaps(e, range)));
    const next = body?.['@odata.nextLink'];
    if (!next) return out;
    if (page >= MAX_PAGES) throw new ProviderError('UNKNOWN', 'Microsoft kept returning more pages of events');
    body = await api.calendarView(ctx, calendarId, { link: next }, 500);
  }
}

async function listMasters(api: GraphCalendarApi, ctx: GraphContext, q: EventQuery): Promise<CalendarEvent[]> {
  const instances = await viewAll(api, ctx, q.calendarId, q);
  const masterIds = new Set<string>();
  const out: CalendarEvent[] = [];
  for (const event of instances) {
    if (event.type === 'occurrence' || event.type === 'exception') {
      if (event.seriesMasterId) masterIds.add(event.seriesMasterId);
      continue;
    }
    const mapped = toCalendarEvent(event, q.calendarId);
    if (mapped) out.push(mapped);
  }
  for (const id of masterIds) {
    const master = await api.getEvent(ctx, q.calendarId, id).catch((error: unknown) => {
      if (error instanceof ProviderError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    });
    const mapped = master && toCalendarEvent(master, q.calendarId);
    if (mapped) out.push(mapped);
  }
  return out.sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
