/**
 * Calendar API v3 routes under `/calendar/v3`: calendarList.list/get, events.list /
 * get / insert / patch / update / delete / instances / watch, channels.stop. Authentication, scope and access
 * role checks come first, in that order, as Google applies them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Accounts, CalendarListEntry, EmulatedUser } from './emulator-accounts.js';
import { ApiError, apiErrors, bearerToken, readJsonBody, sendJson } from './emulator-http.js';
import { paginate, queryFingerprint } from './emulator-paging.js';
import type { PagingKnobs } from './emulator-paging.js';
import type { EventResource, EventStore, Listed } from './emulator-store.js';
import type { Channels } from './emulator-channels.js';

export interface CalendarRouteDeps {
  store: EventStore;
  channels: Channels;
  accounts: Accounts;
  knobs: PagingKnobs;
}

const G = 'https://www.googleapis.com/auth/';
const CAN_LIST_CALENDARS = [`${G}calendar`, `${G}calendar.readonly`, `${G}calendar.calendarlist`, `${G}calendar.calendarlist.readonly`];
const CAN_READ_EVENTS = [`${G}calendar`, `${G}calendar.readonly`, `${G}calendar.events`, `${G}calendar.events.readonly`];
const CAN_WRITE_EVENTS = [`${G}calendar`, `${G}calendar.events`];

interface Caller {
  user: EmulatedUser;
  scopes: string[];
}

function authenticate(req: IncomingMessage, accounts: Accounts): Caller {
  const token = bearerToken(req);
  const grant = token ? accounts.grantOfAccessToken(token) : undefined;
  const user = grant ? accounts.userBySub(grant.sub) : undefined;
  if (!grant || !user) throw apiErrors.authError();
  return { user, scopes: grant.scopes };
}

function requireScope(caller: Caller, accepted: string[]): void {
  if (!accepted.some((s) => caller.scopes.includes(s))) throw apiErrors.insufficientScope();
}

function listEntry(caller: Caller, calendarId: string): CalendarListEntry {
  const entry =
    calendarId === 'primary'
      ? caller.user.calendarList.find((e) => e.primary)
      : caller.user.calendarList.find((e) => e.calendarId === calendarId);
  if (!entry) throw apiErrors.notFound();
  return entry;
}

const canWrite = (entry: CalendarListEntry): boolean => entry.accessRole === 'writer' || entry.accessRole === 'owner';

function rfc3339Param(q: URLSearchParams, name: string): number | undefined {
  const raw = q.get(name);
  if (raw === null) return undefined;
  // Google requires an offset here ("2011-06-03T10:00:00-07:00" or "…Z").
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(raw) || Number.isNaN(Date.parse(raw))) {
    throw apiErrors.badRequest('Bad Request');
  }
  return Date.parse(raw);
}

function maxResultsParam(q: URLSearchParams, fallback: number, max: number): number {
  const raw = q.get('maxResults');
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw apiErrors.invalid('Invalid value for: maxResults');
  return Math.min(n, max);
}

const bool = (q: URLSearchParams, name: string): boolean => q.get(name) === 'true';

function conferenceVersion(q: URLSearchParams): number {
  const raw = q.get('conferenceDataVersion') ?? '0';
  if (raw !== '0' && raw !== '1') throw apiErrors.invalid('Invalid conference data version.');
  return Number(raw);
}

/** What a free/busy reader may see of an event. */
function freeBusyView(e: EventResource): EventResource {
  return { kind: e.kind, etag: e.etag, id: e.id, status: e.status, start: e.start, end: e.end, transparency: e['transparency'] };
}

export async function handleCalendarApi(req: IncomingMessage, res: ServerResponse, url: URL, deps: CalendarRouteDeps): Promise<void> {
  const path = url.pathname.replace(/^\/calendar\/v3/, '');
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  const method = req.method ?? 'GET';
  const caller = authenticate(req, deps.accounts);

  if (segments[0] === 'users' && segments[1] === 'me' && segments[2] === 'calendarList') {
    requireScope(caller, CAN_LIST_CALENDARS);
    if (method !== 'GET') throw new ApiError(405, 'httpMethodNotAllowed', 'Method Not Allowed');
    if (segments.length === 3) return listCalendarList(res, url, caller, deps);
    if (segments.length === 4) {
      sendJson(res, 200, calendarListEntry(listEntry(caller, segments[3]!), deps.store));
      return;
    }
  }

  if (segments[0] === 'channels' && segments[1] === 'stop' && segments.length === 2 && method === 'POST') {
    deps.channels.stop(caller.user.sub, await readJsonBody(req));
    sendJson(res, 204, undefined);
    return;
  }

  if (segments[0] === 'calendars' && segments[2] === 'events' && segments[3] === 'watch' && segments.length === 4 && method === 'POST') {
    // Watching reads: the scopes that may list events may watch them.
    const entry = listEntry(caller, segments[1]!);
    requireScope(caller, CAN_READ_EVENTS);
    sendJson(res, 200, deps.channels.watch(entry.calendarId, caller.user.sub, await readJsonBody(req)));
    return;
  }

  if (segments[0] === 'calendars' && segments[2] === 'events' && segments[1] !== undefined) {
    const entry = listEntry(caller, segments[1]);
    const calendarId = entry.calendarId;
    const eventId = segments[3];
    const writing = method !== 'GET';
    requireScope(caller, writing ? CAN_WRITE_EVENTS : CAN_READ_EVENTS);
    if (writing && !canWrite(entry)) throw apiErrors.writerAccess();
    const writeOptions = (): { ifMatch?: string; conferenceDataVersion: number; actorEmail: string } => ({
      ifMatch: req.headers['if-match'],
      conferenceDataVersion: conferenceVersion(url.searchParams),
      actorEmail: caller.user.email,
    });

    if (eventId === undefined) {
      if (method === 'GET') return listEvents(res, url, calendarId, entry, deps);
      if (method === 'POST') {
        sendJson(res, 200, deps.store.insert(calendarId, await readJsonBody(req), writeOptions()));
        return;
      }
    } else if (segments[4] === 'instances' && method === 'GET') {
      return listInstances(res, url, calendarId, eventId, deps);
    } else if (segments.length === 4) {
      if (method === 'GET') {
        const event = deps.store.get(calendarId, eventId);
        sendJson(res, 200, entry.accessRole === 'freeBusyReader' ? freeBusyView(event) : event);
        return;
      }
      if (method === 'PATCH') {
        sendJson(res, 200, deps.store.patch(calendarId, eventId, await readJsonBody(req), writeOptions()));
        return;
      }
      if (method === 'PUT') {
        sendJson(res, 200, deps.store.update(calendarId, eventId, await readJsonBody(req), writeOptions()));
        return;
      }
      if (method === 'DELETE') {
        deps.store.delete(calendarId, eventId, req.headers['if-match']);
        sendJson(res, 204, undefined);
        return;
      }
    }
  }
  throw apiErrors.notFound();
}

function calendarListEntry(entry: CalendarListEntry, store: EventStore): Record<string, unknown> {
  const calendar = store.calendar(entry.calendarId);
  return {
    kind: 'calendar#calendarListEntry',
    etag: `"${Buffer.from(calendar.id).toString('hex').slice(0, 16)}"`,
    id: calendar.id,
    summary: calendar.summary,
    ...(entry.summaryOverride ? { summaryOverride: entry.summaryOverride } : {}),
    ...(calendar.description ? { description: calendar.description } : {}),
    timeZone: calendar.timeZone,
    colorId: calendar.colorId,
    backgroundColor: calendar.backgroundColor,
    foregroundColor: calendar.foregroundColor,
    selected: true,
    accessRole: entry.accessRole,
    defaultReminders: [],
    ...(entry.primary ? { primary: true } : {}),
    ...(entry.hidden ? { hidden: true } : {}),
    conferenceProperties: { allowedConferenceSolutionTypes: ['hangoutsMeet'] },
  };
}

const ROLE_RANK = { freeBusyReader: 0, reader: 1, writer: 2, owner: 3 } as const;

function listCalendarList(res: ServerResponse, url: URL, caller: Caller, deps: CalendarRouteDeps): void {
  const q = url.searchParams;
  const minRole = q.get('minAccessRole') as keyof typeof ROLE_RANK | null;
  const entries = caller.user.calendarList
    .filter((e) => bool(q, 'showHidden') || !e.hidden)
    .filter((e) => !minRole || ROLE_RANK[e.accessRole] >= (ROLE_RANK[minRole] ?? 0))
    .map((e) => calendarListEntry(e, deps.store));
  const query = queryFingerprint(['calendarList', caller.user.sub, q.get('showHidden'), minRole]);
  const page = paginate(entries, {
    pageToken: q.get('pageToken') ?? undefined,
    maxResults: maxResultsParam(q, 100, 250),
    query,
    knobs: deps.knobs,
  });
  sendJson(res, 200, {
    kind: 'calendar#calendarList',
    etag: '"p33c9ps3ffbo0g0o"',
    ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : { nextSyncToken: 'CLDQ1rT2uvECEhx1c2VyQGV4YW1wbGUuY29t' }),
    items: page.items,
  });
}

const SYNC_EXCLUSIVE = ['timeMin', 'timeMax', 'orderBy', 'q', 'updatedMin', 'iCalUID'];

function listEvents(res: ServerResponse, url: URL, calendarId: string, entry: CalendarListEntry, deps: CalendarRouteDeps): void {
  const q = url.searchParams;
  const calendar = deps.store.calendar(calendarId);
  const singleEvents = bool(q, 'singleEvents');
  const orderBy = q.get('orderBy');
  const maxResults = maxResultsParam(q, 250, 2500);
  let items: Listed[];
  const syncToken = q.get('syncToken');
  if (syncToken !== null) {
    if (SYNC_EXCLUSIVE.some((name) => q.has(name))) throw apiErrors.invalid('Sync token cannot be used with other request restrictions.');
    items = deps.store.changesSince(calendarId, syncToken).map((e) => ({ id: e.id, startMs: 0, endMs: 0, build: () => e }));
  } else {
    if (orderBy !== null && orderBy !== 'startTime' && orderBy !== 'updated') throw apiErrors.invalid('Invalid value for: orderBy');
    if (orderBy === 'startTime' && !singleEvents) throw apiErrors.badRequest('The requested ordering is not available for the particular query.');
    const timeMin = rfc3339Param(q, 'timeMin');
    const timeMax = rfc3339Param(q, 'timeMax');
    if (timeMin !== undefined && timeMax !== undefined && timeMax < timeMin) throw apiErrors.timeRangeEmpty();
    items = deps.store.list(calendarId, {
      timeMin,
      timeMax,
      singleEvents,
      showDeleted: bool(q, 'showDeleted'),
      iCalUID: q.get('iCalUID') ?? undefined,
    });
    if (orderBy === 'startTime') {
      items = [...items].sort((a, b) => a.startMs - b.startMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    } else if (orderBy === 'updated') {
      items = [...items].sort((a, b) => String(a.updated).localeCompare(String(b.updated)));
    }
  }
  const query = queryFingerprint([
    'events',
    calendarId,
    ...['timeMin', 'timeMax', 'singleEvents', 'orderBy', 'showDeleted', 'syncToken', 'iCalUID'].map((k) => q.get(k)),
  ]);
  const page = paginate(items, { pageToken: q.get('pageToken') ?? undefined, maxResults, query, knobs: deps.knobs });
  const view = entry.accessRole === 'freeBusyReader' ? freeBusyView : (e: EventResource): EventResource => e;
  sendJson(res, 200, {
    kind: 'calendar#events',
    etag: `"${Date.now()}"`,
    summary: calendar.summary,
    ...(calendar.description ? { description: calendar.description } : {}),
    updated: new Date().toISOString(),
    timeZone: calendar.timeZone,
    accessRole: entry.accessRole,
    defaultReminders: [],
    ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : { nextSyncToken: deps.store.syncToken(calendarId) }),
    items: page.items.map((item) => view(item.build())),
  });
}

function listInstances(res: ServerResponse, url: URL, calendarId: string, eventId: string, deps: CalendarRouteDeps): void {
  const q = url.searchParams;
  const items = deps.store.instances(calendarId, eventId, {
    timeMin: rfc3339Param(q, 'timeMin'),
    timeMax: rfc3339Param(q, 'timeMax'),
    showDeleted: bool(q, 'showDeleted'),
  });
  const query = queryFingerprint(['instances', calendarId, eventId, q.get('timeMin'), q.get('timeMax'), q.get('showDeleted')]);
  const page = paginate(items, {
    pageToken: q.get('pageToken') ?? undefined,
    maxResults: maxResultsParam(q, 250, 2500),
    query,
    knobs: deps.knobs,
  });
  const calendar = deps.store.calendar(calendarId);
  sendJson(res, 200, {
    kind: 'calendar#events',
    summary: calendar.summary,
    timeZone: calendar.timeZone,
    ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    items: page.items.map((item) => item.build()),
  });
}
