/**
 * The Graph v1.0 calendar endpoints Almanac calls (api-reference/v1.0): /me,
 * /me/calendars, calendarView (and its delta), events, instances, and event create /
 * update / delete. Collections page by `@odata.nextLink` (10 items by default, or
 * `Prefer: odata.maxpagesize`, or `$top`); times come in the `Prefer: outlook.timezone`
 * zone (UTC by default); PATCH and DELETE honour `If-Match` with 412 on a stale change key.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearer, preferences, readJson, sendJson } from './graph-http.js';
import { GraphError, graphErrors, instant } from './graph-store.js';
import type { CalendarRecord, EventFields, GraphStore, Item } from './graph-store.js';
import type { Identity } from './identity.js';
import type { Subscription, Subscriptions } from './graph-subscriptions.js';
import { parseQueryInstant } from './graph-time.js';

export interface GraphRouteDeps {
  store: GraphStore;
  identity: Identity;
  /** `http://127.0.0.1:port/v1.0` */
  base: string;
  knobs: { maxPageSize: number };
  /** Delta states by token; `expireDeltaTokens` empties it. */
  deltas: Map<string, DeltaState>;
  subscriptions: Subscriptions;
}

export interface DeltaState {
  calendarId: string;
  startMs: number;
  endMs: number;
  /** What the client has been told: item id → changeKey. */
  seen: Map<string, string>;
  /** Pending page: items still to send in this round, and removals. */
  pending?: { items: Item[]; removed: string[] };
}

const READ_SCOPES = ['Calendars.ReadBasic', 'Calendars.Read', 'Calendars.ReadWrite', 'Calendars.Read.Shared', 'Calendars.ReadWrite.Shared'];
const WRITE_SCOPES = ['Calendars.ReadWrite', 'Calendars.ReadWrite.Shared'];
const DEFAULT_PAGE = 10;
const WRITABLE: (keyof EventFields)[] = ['subject', 'body', 'start', 'end', 'isAllDay', 'location', 'showAs', 'sensitivity', 'categories', 'attendees', 'isOnlineMeeting', 'onlineMeetingProvider', 'recurrence', 'singleValueExtendedProperties'];

export async function handleGraph(req: IncomingMessage, res: ServerResponse, url: URL, deps: GraphRouteDeps): Promise<void> {
  const { store, identity } = deps;
  const grant = identity.grantOf(bearer(req));
  if (grant === 'expired') throw new GraphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
  if (grant === 'invalid') throw new GraphError(401, 'InvalidAuthenticationToken', 'IDX14100: JWT is not well formed, there are no dots (.).');
  const email = grant.email;
  const method = req.method ?? 'GET';
  const path = url.pathname.replace(/^\/v1\.0/, '').replace(/\/+$/, '');
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  const canRead = grant.scopes.some((s) => READ_SCOPES.includes(s));
  const canWrite = grant.scopes.some((s) => WRITE_SCOPES.includes(s));
  const prefer = preferences(req);
  const zone = prefer.get('outlook.timezone') ?? 'UTC';
  const applied: string[] = [];
  if (prefer.has('outlook.timezone')) applied.push(`outlook.timezone="${zone}"`);
  const webBase = 'https://outlook.office365.com';
  const expandProps = /singleValueExtendedProperties/.test(url.searchParams.get('$expand') ?? '');
  const render = (item: Item): Record<string, unknown> => {
    const body = store.render(item, zone, webBase);
    if (expandProps) {
      const wanted = /id eq '([^']+)'/.exec(url.searchParams.get('$expand') ?? '')?.[1];
      const props = (item.fields.singleValueExtendedProperties ?? []).filter((p) => !wanted || p.id.toLowerCase() === wanted.toLowerCase());
      if (props.length > 0) body.singleValueExtendedProperties = props;
    }
    return body;
  };
  const requireRead = (): void => {
    if (!canRead) throw graphErrors.accessDenied();
  };
  const calendar = (id: string) => {
    const found = id === 'default' ? store.calendarsOf(email).find((c) => c.isDefaultCalendar) : store.calendars.get(id);
    if (!found || store.mailboxOf.get(found.id) !== email) throw graphErrors.notFound();
    return found;
  };
  const headers = (): Record<string, string> => (applied.length > 0 ? { 'preference-applied': applied.join(', ') } : {});

  /** One page of `items` from $skiptoken, with a nextLink that repeats the query. */
  const page = (items: unknown[]): void => {
    const max = Math.min(deps.knobs.maxPageSize, Number(prefer.get('odata.maxpagesize') ?? url.searchParams.get('$top') ?? DEFAULT_PAGE) || DEFAULT_PAGE);
    if (prefer.has('odata.maxpagesize')) applied.push(`odata.maxpagesize=${max}`);
    const skip = Number(url.searchParams.get('$skiptoken')?.replace(/^s/, '') ?? url.searchParams.get('$skip') ?? 0) || 0;
    const slice = items.slice(skip, skip + max);
    const body: Record<string, unknown> = { '@odata.context': `${deps.base}/$metadata#Collection`, value: slice };
    if (skip + max < items.length) {
      const next = new URL(url.toString().replace(url.origin, deps.base.replace(/\/v1\.0$/, '')));
      next.searchParams.delete('$skip');
      next.searchParams.set('$skiptoken', `s${skip + max}`);
      body['@odata.nextLink'] = next.toString();
    }
    sendJson(res, 200, body, headers());
  };

  const ordered = (items: Item[]): Item[] =>
    /start\/dateTime/.test(url.searchParams.get('$orderby') ?? '') ? [...items].sort((a, b) => startKey(a, store, zone).localeCompare(startKey(b, store, zone)) || a.id.localeCompare(b.id)) : items;

  const range = (): { startMs: number; endMs: number } => {
    const startMs = parseQueryInstant(url.searchParams.get('startDateTime'));
    const endMs = parseQueryInstant(url.searchParams.get('endDateTime'));
    if (startMs === undefined || endMs === undefined) {
      throw new GraphError(400, 'ErrorInvalidParameter', "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.");
    }
    return { startMs, endMs };
  };

  // /subscriptions: the same read permission as the resource watched (Calendars.Read or more).
  if (segments[0] === 'subscriptions') {
    requireRead();
    const id = segments[1];
    if (!id && method === 'POST') {
      const sub = await deps.subscriptions.create(email, await readJson(req));
      return sendJson(res, 201, subscriptionBody(sub));
    }
    if (id && method === 'PATCH') return sendJson(res, 200, subscriptionBody(deps.subscriptions.renew(email, id, await readJson(req))));
    if (id && method === 'DELETE') {
      deps.subscriptions.remove(email, id);
      res.writeHead(204);
      res.end();
      return;
    }
    throw graphErrors.notFound();
  }

  // /me
  if (segments.length === 1 && segments[0] === 'me' && method === 'GET') {
    const user = identity.addUser(email);
    return sendJson(res, 200, { id: user.oid, displayName: user.name, mail: email, userPrincipalName: email });
  }
  if (segments[0] !== 'me') throw graphErrors.notFound();
  const rest = segments.slice(1);

  // /me/calendars[/{id}[/calendarView[/delta] | /events[/{id}]]]
  if (rest[0] === 'calendars' || rest[0] === 'calendar') {
    requireRead();
    const single = rest[0] === 'calendar';
    if (!single && rest.length === 1 && method === 'GET') return page(store.calendarsOf(email).map((c) => calendarBody(c)));
    const cal = calendar(single ? 'default' : rest[1]!);
    const tail = rest.slice(single ? 1 : 2);
    if (tail.length === 0 && method === 'GET') return sendJson(res, 200, calendarBody(cal));
    if (tail[0] === 'calendarView' && tail.length === 1 && method === 'GET') {
      const { startMs, endMs } = range();
      return page(ordered(store.view(cal.id, startMs, endMs)).map(render));
    }
    if (tail[0] === 'calendarView' && tail[1] === 'delta' && method === 'GET') return delta(cal.id);
    if (tail[0] === 'events') return events(cal.id, tail.slice(1));
    throw graphErrors.notFound();
  }
  if (rest[0] === 'calendarView' && method === 'GET') {
    requireRead();
    const { startMs, endMs } = range();
    return page(ordered(store.view(calendar('default').id, startMs, endMs)).map(render));
  }
  if (rest[0] === 'events') {
    requireRead();
    return events(undefined, rest.slice(1));
  }
  throw graphErrors.notFound();

  async function events(calendarId: string | undefined, tail: string[]): Promise<void> {
    if (tail.length === 0 && method === 'GET') {
      // Singles and series masters, never occurrences (api-reference user-list-events).
      const items = [...store.events.values()]
        .filter((e) => (calendarId ? e.calendarId === calendarId : store.mailboxOf.get(e.calendarId) === email))
        .map((e) => store.expand(e, 0)[0]!);
      return page(ordered(items).map(render));
    }
    if (tail.length === 0 && method === 'POST') {
      const target = calendar(calendarId ?? 'default');
      if (!canWrite || !target.canEdit) throw graphErrors.accessDenied();
      const body = await readJson(req);
      const fields = pick(body) as EventFields;
      const created = store.create(target.id, fields, { name: identity.addUser(email).name, address: email });
      res.setHeader('location', `${deps.base}/me/events/${encodeURIComponent(created.id)}`);
      return sendJson(res, 201, render(store.expand(created, 0)[0]!), headers());
    }
    const id = tail[0]!;
    const item = store.find(id, calendarId);
    if (!item || store.mailboxOf.get(item.master.calendarId) !== email) throw graphErrors.notFound();
    const cal = store.calendars.get(item.master.calendarId)!;
    if (tail.length === 1 && method === 'GET') return sendJson(res, 200, render(item), headers());
    if (tail[1] === 'instances' && tail.length === 2 && method === 'GET') {
      if (item.type !== 'seriesMaster') throw graphErrors.invalid('The specified event is not a recurring series master.');
      const { startMs, endMs } = range();
      const items = store.expand(item.master, endMs + 86_400_000).filter((i) => i.type !== 'seriesMaster' && i.endMs > startMs && i.startMs < endMs);
      return page(ordered(items).map(render));
    }
    if (tail.length !== 1) throw graphErrors.notFound();
    if (method === 'PATCH' || method === 'DELETE') {
      if (!canWrite || !cal.canEdit) throw graphErrors.accessDenied();
      const ifMatch = req.headers['if-match'];
      if (ifMatch && ifMatch !== '*' && ifMatch.replace(/^W\//, '') !== `"${item.changeKey}"`) throw graphErrors.preconditionFailed();
      if (method === 'DELETE') {
        store.delete(item);
        res.writeHead(204);
        res.end();
        return;
      }
      const patch = pick(await readJson(req));
      store.update(item, patch);
      const fresh = store.find(item.id)!;
      return sendJson(res, 200, render(fresh), headers());
    }
    throw new GraphError(405, 'Request_BadRequest', 'Specified HTTP method is not allowed for the request target.');
  }

  /**
   * calendarView/delta: the first round sends every item in the window and ends with a
   * deltaLink; a later round sends what changed since, and `@removed` for what left.
   */
  function delta(calendarId: string): void {
    const token = url.searchParams.get('$deltatoken') ?? url.searchParams.get('$skiptoken');
    let state: DeltaState;
    if (token) {
      const known = deps.deltas.get(token);
      if (!known || known.calendarId !== calendarId) throw new GraphError(410, 'SyncStateNotFound', 'The sync state generation is not found. Please send a new request without the sync state.');
      state = known;
      deps.deltas.delete(token);
    } else {
      const { startMs, endMs } = range();
      state = { calendarId, startMs, endMs, seen: new Map() };
    }
    if (!state.pending) {
      const now = store.view(calendarId, state.startMs, state.endMs);
      const ids = new Set(now.map((i) => i.id));
      state.pending = {
        items: now.filter((i) => state.seen.get(i.id) !== i.changeKey),
        removed: [...state.seen.keys()].filter((id) => !ids.has(id)),
      };
    }
    const max = Math.min(deps.knobs.maxPageSize, Number(prefer.get('odata.maxpagesize') ?? DEFAULT_PAGE) || DEFAULT_PAGE);
    const items = state.pending.items.splice(0, max);
    const removed = state.pending.removed.splice(0, Math.max(0, max - items.length));
    for (const item of items) state.seen.set(item.id, item.changeKey);
    for (const id of removed) state.seen.delete(id);
    const value = [...items.map(render), ...removed.map((id) => ({ '@removed': { reason: 'deleted' }, id }))];
    const next = randomBytes(18).toString('base64url');
    deps.deltas.set(next, state);
    const link = new URL(`${deps.base}/me/calendars/${encodeURIComponent(calendarId)}/calendarView/delta`);
    const body: Record<string, unknown> = { '@odata.context': `${deps.base}/$metadata#Collection(event)`, value };
    if (state.pending.items.length > 0 || state.pending.removed.length > 0) {
      link.searchParams.set('$skiptoken', next);
      body['@odata.nextLink'] = link.toString();
    } else {
      state.pending = undefined;
      link.searchParams.set('$deltatoken', next);
      body['@odata.deltaLink'] = link.toString();
    }
    sendJson(res, 200, body, headers());
  }
}

function subscriptionBody(sub: Subscription): Record<string, unknown> {
  return {
    id: sub.id,
    resource: sub.resource,
    changeType: sub.changeType,
    notificationUrl: sub.notificationUrl,
    lifecycleNotificationUrl: sub.lifecycleNotificationUrl ?? null,
    expirationDateTime: sub.expirationDateTime,
    clientState: sub.clientState ?? null,
  };
}

function pick(body: Record<string, unknown>): Partial<EventFields> {
  const out: Record<string, unknown> = {};
  for (const key of WRITABLE) if (key in body) out[key] = body[key];
  return out as Partial<EventFields>;
}

/** Sort key for $orderby=start/dateTime: the start as rendered in the Prefer zone. */
function startKey(item: Item, store: GraphStore, zone: string): string {
  return String((store.render(item, zone, '').start as { dateTime: string }).dateTime);
}

function calendarBody(c: CalendarRecord): Record<string, unknown> {
  return {
    '@odata.id': `calendars('${c.id}')`,
    id: c.id,
    name: c.name,
    color: c.color,
    hexColor: c.hexColor,
    isDefaultCalendar: c.isDefaultCalendar,
    changeKey: c.changeKey,
    canShare: c.canShare,
    canViewPrivateItems: c.canViewPrivateItems,
    canEdit: c.canEdit,
    isRemovable: c.isRemovable,
    allowedOnlineMeetingProviders: c.allowedOnlineMeetingProviders,
    defaultOnlineMeetingProvider: c.defaultOnlineMeetingProvider,
    isTallyingResponses: true,
    owner: c.owner,
  };
}

export { instant };
