/**
 * The Microsoft change feed: calendarView delta per calendar (concepts/delta-query-events).
 * A unit is a single event (its id) or a series (its master's id); delta reports
 * instances, so they are grouped by series here. A unit's version is a digest of its
 * instances' change keys in the window: it changes whenever any of them does.
 *
 * - No cursor: a delta round from scratch over the window is the relisting (`full`).
 *   Units whose version the mirror already holds are `unchanged`; the others are read
 *   whole (the series' instances in the window and its master, or the single event) with
 *   the same calls live reads make, so the mirror equals a live read.
 * - A cursor is the round's delta link: the next round reports only changed instances
 *   and `@removed` ids. A removed id that is a unit the mirror holds is a deletion; any
 *   other removed id (one occurrence of a series, which delta does not tie to its series)
 *   makes this pass a relisting instead.
 * - A delta link Graph no longer accepts (410, SyncStateNotFound) is CURSOR_INVALID.
 */
import { createHash } from 'node:crypto';
import type { CalendarEvent } from '../../domain/calendar.js';
import { ProviderError } from '../types.js';
import type { ChangeFeed, ChangeFeedRequest, ChangePage, MirrorUnit, OAuthCredentials } from '../types.js';
import type { GraphCalendarApi } from './graph-calendar-api.js';
import { toCalendarEvent } from './graph-event-mapper.js';
import { overlaps, widened } from './graph-event-lister.js';
import type { GraphContext } from './graph-http.js';
import type { GraphCollection, GraphEvent } from './graph-wire-types.js';

const CURSOR_PREFIX = 'graph-delta:';
/** Against a server that never ends a delta round. */
const MAX_PAGES = 2000;

interface Round {
  items: GraphEvent[];
  removed: string[];
  deltaLink: string;
}

const unitKeyOf = (event: GraphEvent): string => ((event.type === 'occurrence' || event.type === 'exception') && event.seriesMasterId ? event.seriesMasterId : event.id);

function versionOf(instances: readonly { id: string; changeKey?: string }[]): string {
  const hash = createHash('sha256');
  for (const i of [...instances].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) hash.update(`${i.id}\u0000${i.changeKey ?? ''}\u0001`);
  return hash.digest('base64url').slice(0, 27);
}

const byStart = (a: CalendarEvent, b: CalendarEvent): number => Date.parse(a.start) - Date.parse(b.start) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function createGraphChangeFeed(api: GraphCalendarApi): ChangeFeed<OAuthCredentials> {
  async function round(ctx: GraphContext, request: ChangeFeedRequest, from?: string): Promise<Round> {
    const out: Round = { items: [], removed: [], deltaLink: '' };
    const prefer = [`odata.maxpagesize=${Math.max(10, Math.min(request.pageSize * 4, 1000))}`];
    let body = from
      ? await api.http.send<GraphCollection<GraphEvent>>(ctx, { method: 'GET', path: from, idempotent: true, prefer })
      : await api.http.send<GraphCollection<GraphEvent>>(ctx, { method: 'GET', path: `${api.calendarPath(request.calendarId)}/calendarView/delta`, query: { startDateTime: widened(request.window).start, endDateTime: widened(request.window).end }, idempotent: true, prefer });
    for (let page = 0; ; page++) {
      for (const item of body?.value ?? []) {
        if (!item?.id) continue;
        if (item['@removed']) out.removed.push(item.id);
        else out.items.push(item);
      }
      const next = body?.['@odata.nextLink'];
      const delta = body?.['@odata.deltaLink'];
      if (delta) {
        out.deltaLink = api.link(delta);
        return out;
      }
      if (!next) throw new ProviderError('UNKNOWN', 'Microsoft ended a delta round without a delta link');
      if (page >= MAX_PAGES) throw new ProviderError('UNKNOWN', 'Microsoft kept returning more pages of changes');
      body = await api.http.send<GraphCollection<GraphEvent>>(ctx, { method: 'GET', path: api.link(next), idempotent: true, prefer });
    }
  }

  /** A unit read whole, as live reads would list it; undefined when nothing of it is in the window. */
  async function readUnit(ctx: GraphContext, request: ChangeFeedRequest, key: string, sample: GraphEvent): Promise<MirrorUnit | undefined> {
    const { calendarId, window } = request;
    const isSeries = sample.type === 'occurrence' || sample.type === 'exception';
    if (!isSeries) {
      const event = await api.getEvent(ctx, calendarId, key).catch(notFoundAsUndefined);
      const mapped = event && overlaps(event, window) ? toCalendarEvent(event, calendarId) : undefined;
      if (!event || !mapped) return undefined;
      return { key, version: versionOf([event]), instances: [mapped], masters: [mapped] };
    }
    const range = widened(window);
    const instances = (await api.instances(ctx, calendarId, key, range.start, range.end).catch(notFoundAsUndefined)) ?? [];
    const inWindow = instances.filter((i) => overlaps(i, window));
    if (inWindow.length === 0) return undefined;
    const master = await api.getEvent(ctx, calendarId, key).catch(notFoundAsUndefined);
    const mappedMaster = master && toCalendarEvent(master, calendarId);
    return {
      key,
      version: versionOf(inWindow),
      instances: inWindow.map((i) => toCalendarEvent(i, calendarId)).filter((e): e is CalendarEvent => e !== undefined).sort(byStart),
      masters: mappedMaster ? [mappedMaster] : [],
    };
  }

  async function relist(ctx: GraphContext, request: ChangeFeedRequest): Promise<ChangePage> {
    const r = await round(ctx, request);
    const groups = group(r.items.filter((i) => overlaps(i, request.window)));
    const known = await request.knownVersions([...groups.keys()]);
    const page: ChangePage = { upserts: [], deletions: [], unchanged: [], full: true, cursor: `${CURSOR_PREFIX}${r.deltaLink}`, more: false };
    for (const [key, items] of groups) {
      if (known.get(key) === versionOf(items)) {
        page.unchanged.push(key);
        continue;
      }
      const unit = await readUnit(ctx, request, key, items[0]!);
      if (unit) page.upserts.push(unit);
    }
    return page;
  }

  return {
    async readChanges(ctx, request): Promise<ChangePage> {
      if (request.cursor === undefined) return relist(ctx, request);
      const path = request.cursor.startsWith(CURSOR_PREFIX) ? request.cursor.slice(CURSOR_PREFIX.length) : undefined;
      if (!path || !path.startsWith(`${api.calendarPath(request.calendarId)}/calendarView/delta?`)) {
        throw new ProviderError('CURSOR_INVALID', 'Microsoft did not issue this change cursor for this calendar');
      }
      const r = await round(ctx, request, path);
      const groups = group(r.items);
      const removedUnits = r.removed.filter((id) => !groups.has(id));
      const known = await request.knownVersions([...new Set([...groups.keys(), ...removedUnits])]);
      // A removed occurrence names no series: only a relisting can tell what it changed.
      if (removedUnits.some((id) => !known.has(id))) return relist(ctx, request);
      const page: ChangePage = { upserts: [], deletions: [], unchanged: [], full: false, cursor: `${CURSOR_PREFIX}${r.deltaLink}`, more: false };
      for (const id of removedUnits) page.deletions.push(id);
      for (const [key, items] of groups) {
        const unit = await readUnit(ctx, request, key, items[0]!);
        if (unit) {
          if (known.get(key) !== unit.version) page.upserts.push(unit);
        } else if (known.has(key)) page.deletions.push(key);
      }
      return page;
    },
  };
}

function group(items: GraphEvent[]): Map<string, GraphEvent[]> {
  const groups = new Map<string, GraphEvent[]>();
  for (const item of items) {
    const key = unitKeyOf(item);
    const list = groups.get(key) ?? [];
    list.push(item);
    groups.set(key, list);
  }
  return groups;
}

function notFoundAsUndefined(error: unknown): undefined {
  if (error instanceof ProviderError && error.code === 'NOT_FOUND') return undefined;
  throw error;
}
