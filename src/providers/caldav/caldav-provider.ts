/**
 * The CalDAV adapter. Calendars are named by their absolute collection URL, events by
 * UID (instances `${uid}::${recurrenceKey}`). Every write is conditional (If-Match /
 * If-None-Match), and a calendar URL outside the account's calendar home is refused,
 * so an API caller cannot point our credentials at another server.
 */
import type { CalendarEvent, EditMode, EventInput, EventPatch, EventRef, ProviderId } from '../../domain/calendar.js';
import type { BasicCredentials, CalendarProvider, ChangeFeed, EventPage, EventQuery, ProviderContext } from '../types.js';
import { ProviderError } from '../types.js';
import type { WriteContext } from './apply-event-patch.js';
import { buildEventObject } from './build-event-object.js';
import { resourceNameFor, type CalendarObject } from './calendar-object.js';
import { withTrailingSlash } from './caldav-discovery.js';
import { createDavChangeFeed } from './caldav-change-feed.js';
import { createDavClient, type DavClient } from './dav-client.js';
import { canonicalUrl, isWithin } from './dav-xml.js';
import { planDelete, planUpdate, type ResultRef } from './edit-series.js';
import { parseEventRef } from './event-id.js';
import { fetchObject, findByUid, queryRange, type FetchedObject } from './event-resources.js';
import { SeriesObjectCache, type SeriesObjectCacheLimits } from './series-object-cache.js';
import { listSeriesRefs, withSeriesObjects } from './series-objects.js';
import { serializeForStore, storeWritePlan } from './store-write-plan.js';
import { locateOccurrence } from './expand-series.js';
import { styleOf } from './ics-time.js';
import { calendarZone, listCalendarsInHome } from './list-calendars.js';
import { mapCaldavError } from './map-caldav-error.js';
import { masterOf, mastersIn, instancesIn, occurrenceEvent } from './object-events.js';
import { comparePosition, decodePageToken, encodePageToken, firstAfter } from './page-token.js';
import { startOf } from './vevent-to-event.js';
import { WalkSnapshots, type Listed } from './walk-snapshots.js';

export interface DavProviderOptions {
  id: Extract<ProviderId, 'caldav' | 'apple'>;
  /** Finds the calendar home when the stored credentials do not carry it. */
  discoverHome(fetch: typeof globalThis.fetch, credentials: BasicCredentials, signal?: AbortSignal): Promise<string>;
  /** Bounds of the in-memory cache of recurring objects (per provider instance). */
  seriesCache?: SeriesObjectCacheLimits;
}

type Ctx = ProviderContext<BasicCredentials>;

const MAX_PAGE = 1000;
/**
 * The time-range asked of the server is the query's widened by two days each way:
 * servers read floating times and dates in a zone of their choosing (UTC, their own),
 * Almanac in the calendar's (and all-day events as UTC days), and no two zones are
 * more than 26 hours apart. Local expansion makes the exact cut.
 */
const RANGE_MARGIN_MS = 2 * 86_400_000;

function hasFloatingTimes(obj: CalendarObject): boolean {
  for (const vevent of [obj.master, ...obj.overrides]) {
    const start = vevent && startOf(vevent);
    if (start && styleOf(start).kind === 'floating') return true;
  }
  return false;
}

function isEmailLike(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value);
}

/** A CalDAV-speaking provider: the adapter and the change feed the sync engine follows. */
export type DavProvider = CalendarProvider<BasicCredentials> & { changes: ChangeFeed<BasicCredentials> };

export function createDavProvider(options: DavProviderOptions): DavProvider {
  const { id } = options;
  const homes = new WeakMap<BasicCredentials, Promise<string>>();
  const seriesCache = new SeriesObjectCache(options.seriesCache);
  const walks = new WalkSnapshots();

  function clientFor(ctx: Ctx): DavClient {
    const { username, password } = ctx.credentials;
    return createDavClient({ fetch: ctx.fetch, username, password, ...(ctx.signal ? { signal: ctx.signal } : {}) });
  }

  async function homeUrl(ctx: Ctx): Promise<string> {
    if (ctx.credentials.calendarHomeUrl) return withTrailingSlash(ctx.credentials.calendarHomeUrl);
    let pending = homes.get(ctx.credentials);
    if (!pending) {
      pending = options.discoverHome(ctx.fetch, ctx.credentials, ctx.signal).then(withTrailingSlash);
      homes.set(ctx.credentials, pending);
      pending.catch(() => homes.delete(ctx.credentials));
    }
    return pending;
  }

  /** The collection URL for an API calendar id, only when it lies inside the account's home. */
  async function calendarUrl(ctx: Ctx, calendarId: string): Promise<string> {
    const unknown = new ProviderError('NOT_FOUND', 'Unknown calendar');
    let url: URL;
    try {
      url = new URL(canonicalUrl(calendarId));
    } catch {
      throw unknown;
    }
    const home = await homeUrl(ctx);
    if (url.search || url.hash) throw unknown;
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    // URL parsing has already resolved any `..`, so the prefix test cannot be walked around.
    if (!isWithin(home, url.toString()) || url.toString() === home) throw unknown;
    return url.toString();
  }

  async function guarded<T>(ctx: Ctx, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw mapCaldavError(err, ctx.signal);
    }
  }

  /** Floating times are read in the calendar's zone; it is only asked for when needed. */
  function floatingZoneResolver(client: DavClient, url: string): (objects: CalendarObject[]) => Promise<string | null> {
    let zone: Promise<string | null> | undefined;
    return async (objects) => {
      if (!objects.some(hasFloatingTimes)) return null;
      zone ??= calendarZone(client, url).catch(() => null);
      return zone;
    };
  }

  function resultEvent(fetched: FetchedObject, ref: ResultRef, calendarId: string, floatingZone: string | null): CalendarEvent {
    const ctx = { provider: id, calendarId, floatingZone };
    if (ref.recurrenceKey) {
      const occurrence = locateOccurrence(fetched.object, ref.recurrenceKey, floatingZone);
      if (occurrence) return occurrenceEvent(fetched, ctx, occurrence);
    } else {
      const master = masterOf(fetched, ctx);
      if (master) return master.event;
    }
    throw new ProviderError('UNKNOWN', 'The server did not keep the event as written');
  }

  function writeContext(ctx: Ctx, floatingZone: string | null): Omit<WriteContext, 'vcalendar'> {
    const username = ctx.credentials.username.trim();
    return {
      floatingZone,
      now: new Date(),
      ...(isEmailLike(username) ? { organizerEmail: username } : {}),
    };
  }

  /** What every update and delete starts from: the calendar, the resource holding the UID, and its floating zone. */
  async function loadForWrite(ctx: Ctx, ref: EventRef) {
    const url = await calendarUrl(ctx, ref.calendarId);
    const client = clientFor(ctx);
    const { uid, recurrenceKey } = parseEventRef(ref);
    const fetched = await findByUid(client, url, uid, ctx.log);
    const floatingZone = await floatingZoneResolver(client, url)([fetched.object]);
    return { url, client, recurrenceKey, fetched, floatingZone };
  }

  /** Every event of the range in listing order: the time-range answer plus every series, expanded here. */
  async function listSorted(ctx: Ctx, url: string, q: EventQuery): Promise<Listed[]> {
    const client = clientFor(ctx);
    const widened = { start: new Date(q.start.getTime() - RANGE_MARGIN_MS), end: new Date(q.end.getTime() + RANGE_MARGIN_MS) };
    // The server's time-range is trusted for single events only; series are fetched whatever it says.
    const series = { cache: seriesCache, account: `${new URL(url).origin}\n${ctx.credentials.username}`, log: ctx.log };
    const [inRange, seriesRefs] = await Promise.all([queryRange(client, url, widened, ctx.log), listSeriesRefs(client, url, series)]);
    const objects = await withSeriesObjects(client, url, inRange, seriesRefs, series);
    const floatingZone = await floatingZoneResolver(client, url)(objects.map((o) => o.object));
    const eventsCtx = { provider: id, calendarId: q.calendarId, floatingZone };
    const range = {
      rangeStart: q.start.getTime(),
      rangeEnd: q.end.getTime(),
      onTruncated: (uid: string) => ctx.log.warn({ calendarId: q.calendarId, uid }, 'recurrence expansion capped'),
    };
    const events: Listed[] = [];
    for (const fetched of objects) {
      const listed = q.singleEvents ? instancesIn(fetched, eventsCtx, range) : mastersIn(fetched, eventsCtx, range);
      for (const { startMs, event } of listed) events.push({ position: { start: startMs, id: event.id }, event });
    }
    return events.sort((a, b) => comparePosition(a.position, b.position));
  }

  return {
    id,

    changes: createDavChangeFeed({ provider: id, clientFor, calendarUrl, guarded }),

    listCalendars: (ctx) => guarded(ctx, async () => listCalendarsInHome(clientFor(ctx), await homeUrl(ctx), id)),

    listEvents: (ctx, q: EventQuery): Promise<EventPage> =>
      guarded(ctx, async () => {
        const after = q.pageToken ? decodePageToken(q.pageToken) : undefined;
        const url = await calendarUrl(ctx, q.calendarId);
        const scope = JSON.stringify([url, ctx.credentials.username, q.start.getTime(), q.end.getTime(), q.singleEvents]);
        let walk = after?.walk;
        let events = walk !== undefined ? walks.get(walk, scope) : undefined;
        if (!events) {
          events = await listSorted(ctx, url, q);
          walk = walks.keep(scope, events);
        }
        const from = after ? firstAfter(events, after) : 0;
        const size = Math.min(Math.max(1, Math.floor(q.pageSize) || 1), MAX_PAGE);
        const page = events.slice(from, from + size);
        const last = page[page.length - 1];
        return {
          events: page.map((e) => e.event),
          ...(from + size < events.length && last ? { nextPageToken: encodePageToken({ ...last.position, ...(walk ? { walk } : {}) }) } : {}),
        };
      }),

    createEvent: (ctx, input: EventInput) =>
      guarded(ctx, async () => {
        const url = await calendarUrl(ctx, input.calendarId);
        const client = clientFor(ctx);
        const { uid, vcalendar } = buildEventObject(input, writeContext(ctx, null));
        const href = new URL(resourceNameFor(uid), url).toString();
        await client.put(href, serializeForStore(vcalendar), { ifNoneMatch: '*' });
        // Servers may rewrite what they store (and then must not return a strong ETag): read it back.
        const stored = await fetchObject(client, href);
        const floatingZone = await floatingZoneResolver(client, url)([stored.object]);
        const master = masterOf(stored, { provider: id, calendarId: input.calendarId, floatingZone });
        if (!master) throw new ProviderError('UNKNOWN', 'The server did not keep the event as written');
        return master.event;
      }),

    updateEvent: (ctx, ref: EventRef, patch: EventPatch, mode?: EditMode) =>
      guarded(ctx, async () => {
        const { url, client, recurrenceKey, fetched, floatingZone } = await loadForWrite(ctx, ref);
        // Planning mutates the parsed object; the stored text stays in `fetched.ics` for rollback.
        const plan = planUpdate(fetched.object, recurrenceKey, patch, mode, { ...writeContext(ctx, floatingZone), vcalendar: fetched.object.vcalendar });
        const written = await storeWritePlan(client, fetched, plan, ref.etag ?? fetched.object.etag, url);
        if (plan.kind === 'delete' || !written) throw new ProviderError('UNKNOWN', 'Unexpected delete while updating');
        const stored = await fetchObject(client, written);
        return resultEvent(stored, plan.result, ref.calendarId, floatingZone);
      }),

    deleteEvent: (ctx, ref: EventRef, mode?: EditMode) =>
      guarded(ctx, async () => {
        const { url, client, recurrenceKey, fetched, floatingZone } = await loadForWrite(ctx, ref);
        const plan = planDelete(fetched.object, recurrenceKey, mode, { ...writeContext(ctx, floatingZone), vcalendar: fetched.object.vcalendar });
        await storeWritePlan(client, fetched, plan, ref.etag ?? fetched.object.etag, url);
      }),
  };
}
