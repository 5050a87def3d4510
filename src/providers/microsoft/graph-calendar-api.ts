/** Graph's calendar endpoints as typed calls: the paths, queries and Prefer headers live here. */
import { ProviderError } from '../types.js';
import { CUSTOM_EXPAND } from './graph-custom-property.js';
import type { GraphContext, GraphHttp } from './graph-http.js';
import type { GraphCalendar, GraphCollection, GraphEvent } from './graph-wire-types.js';

const enc = encodeURIComponent;
/** Against a server that never stops handing out next links. */
const MAX_PAGES = 1000;

export class GraphCalendarApi {
  constructor(readonly http: GraphHttp) {}

  calendarPath(calendarId: string): string {
    return `/me/calendars/${enc(calendarId)}`;
  }

  eventPath(calendarId: string, eventId: string): string {
    return `${this.calendarPath(calendarId)}/events/${enc(eventId)}`;
  }

  /** A next or delta link as a path under Graph's root; refuses links that point anywhere else. */
  link(link: string): string {
    const path = this.http.relativeLink(link);
    if (!path || !path.startsWith('/me/')) throw new ProviderError('UNKNOWN', 'Microsoft handed out a paging link outside Graph');
    return path;
  }

  async listCalendars(ctx: GraphContext): Promise<GraphCalendar[]> {
    const out: GraphCalendar[] = [];
    let path: string | undefined = '/me/calendars';
    let query: Record<string, string | number> | undefined = { $top: 100 };
    for (let page = 0; path; page++) {
      if (page >= MAX_PAGES) throw new ProviderError('UNKNOWN', 'Microsoft kept returning more pages of calendars');
      const body: GraphCollection<GraphCalendar> | undefined = await this.http.send<GraphCollection<GraphCalendar>>(ctx, { method: 'GET', path, query, idempotent: true });
      out.push(...(body?.value ?? []).filter((c) => c?.id));
      path = body?.['@odata.nextLink'] ? this.link(body['@odata.nextLink']) : undefined;
      query = undefined;
    }
    return out;
  }

  getCalendar(ctx: GraphContext, calendarId: string): Promise<GraphCalendar | undefined> {
    return this.http.send<GraphCalendar>(ctx, { method: 'GET', path: this.calendarPath(calendarId), idempotent: true });
  }

  /** One page of calendarView: the first from the range, later ones from Graph's next link. */
  async calendarView(ctx: GraphContext, calendarId: string, range: { start: string; end: string } | { link: string }, pageSize: number): Promise<GraphCollection<GraphEvent> | undefined> {
    const prefer = [`odata.maxpagesize=${Math.max(1, Math.min(pageSize, 1000))}`];
    if ('link' in range) return this.http.send(ctx, { method: 'GET', path: this.link(range.link), idempotent: true, prefer });
    const request = (expand: boolean) =>
      this.http.send<GraphCollection<GraphEvent>>(ctx, {
        method: 'GET',
        path: `${this.calendarPath(calendarId)}/calendarView`,
        query: { startDateTime: range.start, endDateTime: range.end, $orderby: 'start/dateTime', ...(expand ? { $expand: CUSTOM_EXPAND } : {}) },
        idempotent: true,
        prefer,
      });
    try {
      return await request(true);
    } catch (error) {
      // Calendars.ReadBasic (the free-busy grant) withholds extensions; it may withhold the
      // custom property too. Events are still readable without it, and free-busy drops custom anyway.
      if (error instanceof ProviderError && error.code === 'INSUFFICIENT_SCOPE') return request(false);
      throw error;
    }
  }

  /** Every instance of a series overlapping [start, end). */
  async instances(ctx: GraphContext, calendarId: string, masterId: string, start: string, end: string): Promise<GraphEvent[]> {
    const out: GraphEvent[] = [];
    let body = await this.http.send<GraphCollection<GraphEvent>>(ctx, {
      method: 'GET',
      path: `${this.eventPath(calendarId, masterId)}/instances`,
      query: { startDateTime: start, endDateTime: end, $expand: CUSTOM_EXPAND },
      idempotent: true,
      prefer: ['odata.maxpagesize=500'],
    });
    for (let page = 0; ; page++) {
      out.push(...(body?.value ?? []));
      const next = body?.['@odata.nextLink'];
      if (!next) return out;
      if (page >= MAX_PAGES) throw new ProviderError('UNKNOWN', 'Microsoft kept returning more pages of occurrences');
      body = await this.http.send<GraphCollection<GraphEvent>>(ctx, { method: 'GET', path: this.link(next), idempotent: true, prefer: ['odata.maxpagesize=500'] });
    }
  }

  getEvent(ctx: GraphContext, calendarId: string, eventId: string): Promise<GraphEvent | undefined> {
    return this.http.send<GraphEvent>(ctx, { method: 'GET', path: this.eventPath(calendarId, eventId), query: { $expand: CUSTOM_EXPAND }, idempotent: true });
  }

  createEvent(ctx: GraphContext, calendarId: string, body: Record<string, unknown>): Promise<GraphEvent | undefined> {
    return this.http.send<GraphEvent>(ctx, { method: 'POST', path: `${this.calendarPath(calendarId)}/events`, body, idempotent: false });
  }

  patchEvent(ctx: GraphContext, calendarId: string, eventId: string, body: Record<string, unknown>, ifMatch?: string): Promise<GraphEvent | undefined> {
    // A PATCH with If-Match applies at most once: repeating it after a fault is safe.
    return this.http.send<GraphEvent>(ctx, { method: 'PATCH', path: this.eventPath(calendarId, eventId), body, ifMatch, idempotent: ifMatch !== undefined });
  }

  async deleteEvent(ctx: GraphContext, calendarId: string, eventId: string, ifMatch?: string): Promise<void> {
    await this.http.send(ctx, { method: 'DELETE', path: this.eventPath(calendarId, eventId), ifMatch, idempotent: true });
  }
}
