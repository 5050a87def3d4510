/**
 * The CalDAV change feed. A pass starts from a listing of the calendar's members with
 * their ETags — RFC 6578 sync-collection where the server has it (an empty token lists
 * everything, a token lists what changed and what was removed), a Depth 1 PROPFIND of
 * getetag where it does not — then fetches changed members with calendar-multiget and
 * expands them locally. No time-range filter is involved, so servers that filter
 * recurring objects wrongly cannot hide anything.
 *
 * A unit is one calendar object resource, keyed by its name inside the calendar. Its
 * version records what its mirrored events depend on besides the ETag: for a single
 * event whether it overlaps the window, for a series the window itself (a series
 * re-expands when the window moves; a single only when it enters or leaves it).
 */
import type { CalendarEvent, ProviderId } from '../../domain/calendar.js';
import type { BasicCredentials, ChangeFeed, ChangePage, MirrorUnit, ProviderContext, SyncWindow } from '../types.js';
import { ProviderError } from '../types.js';
import { parseCalendarObject, type CalendarObject } from './calendar-object.js';
import { DavHttpError, type DavClient } from './dav-client.js';
import { canonicalUrl, DavXmlError, isWithin, multigetBody, prop, propKey, textOf, type DavResponse } from './dav-xml.js';
import { isRecurring } from './expand-series.js';
import { calendarZone } from './list-calendars.js';
import { instancesIn, mastersIn, type ObjectSource } from './object-events.js';
import { styleOf } from './ics-time.js';
import { endOf, spanOf, startOf } from './vevent-to-event.js';

type Ctx = ProviderContext<BasicCredentials>;

export interface DavFeedAccess {
  provider: ProviderId;
  clientFor(ctx: Ctx): DavClient;
  /** The collection URL of an API calendar id, refused outside the account's home. */
  calendarUrl(ctx: Ctx, calendarId: string): Promise<string>;
  /** Maps transport and protocol failures to ProviderError. */
  guarded<T>(ctx: Ctx, work: () => Promise<T>): Promise<T>;
}

interface FeedCursor {
  v: 1;
  /** `sync`: the server speaks sync-collection; `etag`: every pass lists all members. */
  mode: 'sync' | 'etag';
  /** The sync-token the next pass starts from. */
  token?: string;
  /** Member names still to fetch in this pass. */
  pending?: string[];
  /** Whether this pass is a relisting of the whole calendar. */
  full?: boolean;
}

const MULTIGET_BATCH = 100;

function encodeCursor(c: FeedCursor): string {
  return JSON.stringify(c);
}

function decodeCursor(text: string): FeedCursor {
  try {
    const c = JSON.parse(text) as FeedCursor;
    if (c && c.v === 1 && (c.mode === 'sync' || c.mode === 'etag')) return c;
  } catch {
    // fall through
  }
  throw new ProviderError('CURSOR_INVALID', 'Unreadable sync cursor');
}

/** A member's name inside the calendar, or undefined for the calendar itself and anything outside it. */
function memberName(calendarUrl: string, href: string): string | undefined {
  if (!isWithin(calendarUrl, href)) return undefined;
  const base = new URL(calendarUrl).pathname;
  const path = new URL(canonicalUrl(href)).pathname;
  const name = path.slice(base.length);
  return name && !name.includes('/') ? name : undefined;
}

interface Member {
  name: string;
  etag?: string;
}

function etagOf(response: DavResponse): string | undefined {
  return textOf(response.props.get(propKey(prop.getetag)))?.trim() || undefined;
}

function overlaps(window: SyncWindow, start: number, end: number): boolean {
  return end > window.start.getTime() && start < window.end.getTime();
}

/** The unit version (see the file comment); `undefined` when the stored version cannot be reused. */
function versionFor(object: CalendarObject | undefined, etag: string, window: SyncWindow, floatingZone: string | null): string {
  const master = object?.master;
  if (!object || !master || isRecurring(master)) return `r:${window.start.getTime()}:${window.end.getTime()}:${etag}`;
  const start = startOf(master);
  if (!start) return `r:${window.start.getTime()}:${window.end.getTime()}:${etag}`;
  const span = spanOf(start, endOf(master, start), floatingZone);
  return `s:${overlaps(window, span.start, span.end) ? 1 : 0}:${span.start}:${span.end}:${etag}`;
}

/** Whether what the mirror holds for a member (its stored version) is still right for this ETag and window. */
function stillValid(stored: string | undefined, etag: string | undefined, window: SyncWindow): boolean {
  if (!stored || !etag) return false;
  if (stored === `r:${window.start.getTime()}:${window.end.getTime()}:${etag}`) return true;
  const single = /^s:([01]):(-?\d+):(-?\d+):(.*)$/s.exec(stored);
  if (!single || single[4] !== etag) return false;
  return (single[1] === '1') === overlaps(window, Number(single[2]), Number(single[3]));
}

export function createDavChangeFeed(access: DavFeedAccess): ChangeFeed<BasicCredentials> {
  /** Lists every member with its ETag: sync-collection from scratch, else PROPFIND. */
  async function listAll(client: DavClient, url: string): Promise<{ members: Member[]; mode: FeedCursor['mode']; token?: string }> {
    try {
      const { responses, syncToken } = await client.syncCollection(url, undefined);
      const members = responses.flatMap((r) => {
        const name = memberName(url, r.href);
        return name && (r.status === undefined || (r.status >= 200 && r.status < 300)) ? [{ name, etag: etagOf(r) }] : [];
      });
      if (syncToken) return { members, mode: 'sync', token: syncToken };
    } catch (err) {
      // No sync-collection here (403/405/501, or an answer that is not a multistatus): list by PROPFIND.
      const unsupported = err instanceof DavXmlError || (err instanceof DavHttpError && err.status !== 401 && (err.status < 500 || err.status === 501));
      if (!unsupported) throw err;
    }
    const responses = await client.propfind(url, [prop.getetag, prop.resourcetype], 1);
    const members = responses.flatMap((r) => {
      const name = memberName(url, r.href);
      return name ? [{ name, etag: etagOf(r) }] : [];
    });
    return { members, mode: 'etag' };
  }

  /** Changes since `token`; a token the server no longer accepts is CURSOR_INVALID. */
  async function listChanges(client: DavClient, url: string, token: string): Promise<{ changed: Member[]; removed: string[]; token: string; truncated: boolean }> {
    let result;
    try {
      result = await client.syncCollection(url, token);
    } catch (err) {
      if (err instanceof DavHttpError && (err.conditions.includes('valid-sync-token') || err.status === 403 || err.status === 409 || err.status === 412)) {
        throw new ProviderError('CURSOR_INVALID', 'The CalDAV server no longer accepts the sync token', { cause: err });
      }
      throw err;
    }
    const changed: Member[] = [];
    const removed: string[] = [];
    let truncated = false;
    for (const r of result.responses) {
      // RFC 6578 §3.6: a 507 on the collection itself means more changes follow.
      if (r.status === 507 && canonicalUrl(r.href) === canonicalUrl(url)) {
        truncated = true;
        continue;
      }
      const name = memberName(url, r.href);
      if (!name) continue;
      if (r.status === 404 || r.status === 410) removed.push(name);
      else changed.push({ name, etag: etagOf(r) });
    }
    if (!result.syncToken) throw new ProviderError('CURSOR_INVALID', 'The CalDAV server sent no new sync token');
    return { changed, removed, token: result.syncToken, truncated };
  }

  async function fetchUnits(
    ctx: Ctx,
    client: DavClient,
    url: string,
    calendarId: string,
    names: readonly string[],
    window: SyncWindow,
  ): Promise<{ units: MirrorUnit[]; missing: string[] }> {
    const fetched = new Map<string, { object?: CalendarObject; ics: string; etag: string }>();
    for (let i = 0; i < names.length; i += MULTIGET_BATCH) {
      const batch = names.slice(i, i + MULTIGET_BATCH);
      const hrefs = batch.map((n) => new URL(n, url).pathname);
      const responses = await client.report(url, multigetBody(hrefs), 1);
      for (const r of responses) {
        const name = memberName(url, r.href);
        const data = textOf(r.props.get(propKey(prop.calendarData)));
        if (!name || data === undefined || (r.status !== undefined && r.status >= 300)) continue;
        const etag = etagOf(r) ?? '';
        let object: CalendarObject | undefined;
        try {
          object = parseCalendarObject(data, r.href, etag || undefined);
        } catch (err) {
          // An unreadable object is recorded with no events, so it is not fetched again until it changes.
          ctx.log.warn({ calendarId, member: name, err: (err as Error).message }, 'skipping unreadable calendar object');
        }
        fetched.set(name, { ...(object ? { object } : {}), ics: data, etag });
      }
    }
    const needsZone = [...fetched.values()].some((f) => f.object && hasFloating(f.object));
    const floatingZone = needsZone ? await calendarZone(client, url).catch(() => null) : null;
    const range = { rangeStart: window.start.getTime(), rangeEnd: window.end.getTime() };
    const eventsCtx = { provider: access.provider, calendarId, floatingZone };
    const units: MirrorUnit[] = [];
    for (const [name, f] of fetched) {
      let instances: CalendarEvent[] = [];
      let masters: CalendarEvent[] = [];
      if (f.object) {
        const source: ObjectSource = { object: f.object, ics: f.ics };
        const onTruncated = (uid: string) => ctx.log.warn({ calendarId, uid }, 'recurrence expansion capped');
        instances = instancesIn(source, eventsCtx, { ...range, onTruncated }).map((p) => p.event);
        masters = mastersIn(source, eventsCtx, range).map((p) => p.event);
      }
      units.push({ key: name, version: versionFor(f.object, f.etag, window, floatingZone), instances, masters });
    }
    return { units, missing: names.filter((n) => !fetched.has(n)) };
  }

  async function nextBatch(
    ctx: Ctx,
    client: DavClient,
    url: string,
    calendarId: string,
    window: SyncWindow,
    pageSize: number,
    cursor: FeedCursor,
    base: Omit<ChangePage, 'upserts' | 'cursor' | 'more'>,
  ): Promise<ChangePage> {
    const pending = cursor.pending ?? [];
    const take = pending.slice(0, Math.max(1, pageSize));
    const rest = pending.slice(take.length);
    const { units, missing } = await fetchUnits(ctx, client, url, calendarId, take, window);
    // Gone between listing and fetching: a relisting's sweep removes it; an incremental pass says so.
    const deletions = cursor.full ? base.deletions : [...base.deletions, ...missing];
    const next: FeedCursor = { v: 1, mode: cursor.mode, ...(cursor.token ? { token: cursor.token } : {}) };
    const more = rest.length > 0;
    if (more) Object.assign(next, { pending: rest, full: cursor.full === true });
    return { ...base, deletions, upserts: units, cursor: encodeCursor(next), more };
  }

  return {
    changeMarker(calendar) {
      const original = calendar.original as { syncToken?: unknown; ctag?: unknown } | null;
      const marker = original?.syncToken ?? original?.ctag;
      return typeof marker === 'string' && marker ? marker : undefined;
    },

    readChanges: (ctx, request) =>
      access.guarded(ctx, async () => {
        const url = await access.calendarUrl(ctx, request.calendarId);
        const client = access.clientFor(ctx);
        const cursor = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
        const empty = { deletions: [] as string[], unchanged: [] as string[] };

        if (cursor?.pending?.length) {
          return nextBatch(ctx, client, url, request.calendarId, request.window, request.pageSize, cursor, { ...empty, full: cursor.full === true });
        }

        if (cursor?.mode === 'sync' && cursor.token) {
          const changes = await listChanges(client, url, cursor.token);
          const known = await request.knownVersions(changes.changed.map((m) => m.name));
          const pending = changes.changed.filter((m) => !stillValid(known.get(m.name), m.etag, request.window)).map((m) => m.name);
          const page = await nextBatch(
            ctx,
            client,
            url,
            request.calendarId,
            request.window,
            request.pageSize,
            { v: 1, mode: 'sync', token: changes.token, pending, full: false },
            { deletions: changes.removed, unchanged: [], full: false },
          );
          // A truncated answer: more changes wait behind the new token.
          return changes.truncated ? { ...page, more: true } : page;
        }

        const listing = await listAll(client, url);
        const known = await request.knownVersions(listing.members.map((m) => m.name));
        const unchanged: string[] = [];
        const pending: string[] = [];
        for (const m of listing.members) (stillValid(known.get(m.name), m.etag, request.window) ? unchanged : pending).push(m.name);
        return nextBatch(
          ctx,
          client,
          url,
          request.calendarId,
          request.window,
          request.pageSize,
          { v: 1, mode: listing.mode, ...(listing.token ? { token: listing.token } : {}), pending, full: true },
          { deletions: [], unchanged, full: true },
        );
      }),
  };
}

function hasFloating(object: CalendarObject): boolean {
  for (const vevent of [object.master, ...object.overrides]) {
    const start = vevent && startOf(vevent);
    if (start && styleOf(start).kind === 'floating') return true;
  }
  return false;
}
