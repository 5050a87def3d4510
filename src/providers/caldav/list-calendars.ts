/** The event calendars of a calendar home, as API Calendars. */
import ICAL from 'ical.js';
import type { Calendar, ProviderId } from '../../domain/calendar.js';
import { defaultCalendarColor } from '../../domain/calendar-color.js';
import type { DavClient } from './dav-client.js';
import { componentNames, davPrivileges, hasChild, isWithin, NS, prop, propKey, textOf, type DavResponse } from './dav-xml.js';
import { normalizeColor } from './normalize-color.js';
import { withTrailingSlash } from './caldav-discovery.js';
import { resolveIanaZone } from '../../domain/zone-clock.js';

export const CALENDAR_PROPS = [
  prop.resourcetype,
  prop.displayname,
  prop.calendarDescription,
  prop.calendarTimezone,
  prop.supportedComponents,
  prop.calendarColor,
  prop.getctag,
  prop.syncToken,
  prop.currentUserPrivilegeSet,
];

/**
 * Privileges that let this user change a calendar's events (RFC 3744 §3): `write`
 * aggregates `write-content` (change existing objects) and `bind` (add new ones), and
 * `all` aggregates everything.
 */
const WRITE_PRIVILEGES = new Set(['all', 'write', 'write-content', 'bind']);

/**
 * Read-only when the server lists this user's privileges and none of them writes. A
 * server that does not report `current-user-privilege-set` is taken at its word that
 * the user owns the home: writable, and a refused write still answers 403.
 */
export function isReadOnly(response: DavResponse): boolean {
  const set = response.props.get(propKey(prop.currentUserPrivilegeSet));
  if (!set) return false;
  return !davPrivileges(set).some((p) => WRITE_PRIVILEGES.has(p));
}

/**
 * The IANA id of a `calendar-timezone` value: a VCALENDAR with one VTIMEZONE whose
 * TZID may be IANA, Windows or vendor-prefixed. Some servers send a bare id instead.
 */
export function zoneOfCalendarTimezone(value: string | undefined): string | null {
  const text = value?.trim();
  if (!text) return null;
  if (!/BEGIN:VCALENDAR/i.test(text)) return resolveIanaZone(text);
  try {
    const vtimezone = new ICAL.Component(ICAL.parse(text)).getFirstSubcomponent('vtimezone');
    if (!vtimezone) return null;
    return (
      resolveIanaZone(String(vtimezone.getFirstPropertyValue('tzid') ?? '')) ??
      resolveIanaZone(String(vtimezone.getFirstPropertyValue('x-lic-location') ?? ''))
    );
  } catch {
    return null;
  }
}

function text(response: DavResponse, p: { ns: string; name: string }): string | undefined {
  const value = textOf(response.props.get(propKey(p)))?.trim();
  return value ? value : undefined;
}

function lastSegment(href: string): string {
  const segments = new URL(href).pathname.split('/').filter(Boolean);
  const last = segments[segments.length - 1] ?? href;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/**
 * Event calendars only: collections whose component set excludes VEVENT (iCloud Reminders) are skipped.
 * `accountZone` stands in for a calendar without a `calendar-timezone` of its own.
 */
export function toCalendar(response: DavResponse, provider: ProviderId, accountZone = 'UTC'): Calendar | null {
  if (!hasChild(response.props.get(propKey(prop.resourcetype)), NS.CALDAV, 'calendar')) return null;
  const componentSet = response.props.get(propKey(prop.supportedComponents));
  const components = componentSet ? componentNames(componentSet) : null;
  // No component set means all components are allowed (RFC 4791 §5.2.3).
  if (components && components.length > 0 && !components.includes('VEVENT')) return null;
  const rawColor = text(response, prop.calendarColor);
  const ctag = text(response, prop.getctag);
  const syncToken = text(response, prop.syncToken);
  const timezone = text(response, prop.calendarTimezone);
  return {
    provider,
    id: response.href,
    title: text(response, prop.displayname) ?? lastSegment(response.href),
    timeZone: zoneOfCalendarTimezone(timezone) ?? accountZone,
    color: normalizeColor(rawColor) ?? defaultCalendarColor(response.href),
    description: text(response, prop.calendarDescription) ?? '',
    readOnly: isReadOnly(response),
    original: {
      href: response.href,
      ...(rawColor ? { color: rawColor } : {}),
      ...(components ? { components } : {}),
      ...(ctag ? { ctag } : {}),
      ...(syncToken ? { syncToken } : {}),
    },
  };
}

/**
 * The zone of the account, for its calendars that name none. CalDAV has no account-wide
 * zone property, so, in order: a `calendar-timezone` on the calendar home itself (some
 * servers keep the user's default there); else the zone most of the account's calendars
 * name (ties: the first calendar by URL), since a user's calendars nearly always share
 * one; else UTC. Needs nothing beyond the listing's own PROPFIND.
 */
export function accountZoneOf(home: DavResponse | undefined, calendars: DavResponse[]): string {
  const own = home && zoneOfCalendarTimezone(text(home, prop.calendarTimezone));
  if (own) return own;
  const counts = new Map<string, number>();
  for (const r of [...calendars].sort((a, b) => (a.href < b.href ? -1 : a.href > b.href ? 1 : 0))) {
    const zone = zoneOfCalendarTimezone(text(r, prop.calendarTimezone));
    if (zone) counts.set(zone, (counts.get(zone) ?? 0) + 1);
  }
  let best: string | undefined;
  for (const [zone, count] of counts) if (best === undefined || count > counts.get(best)!) best = zone;
  return best ?? 'UTC';
}

/**
 * Each collection once. hrefs arrive in canonical form (RFC 3986 §6.2.2: `%63%31` is
 * `c1`, hex case, host case, default port), and a collection is named with its
 * trailing slash, so `/c1`, `/c1/` and `/%63%31/` are one calendar; a server that
 * lists it twice gets it listed once.
 */
export async function listCalendarsInHome(client: DavClient, homeUrl: string, provider: ProviderId): Promise<Calendar[]> {
  const responses = await client.propfind(homeUrl, CALENDAR_PROPS, 1);
  const homePath = new URL(homeUrl).pathname.replace(/\/+$/, '');
  const isHome = (r: DavResponse): boolean => new URL(r.href).pathname.replace(/\/+$/, '') === homePath;
  const home = responses.find((r) => isHome(r) && isWithin(homeUrl, r.href));
  // Only collections below the home: the adapter refuses calendar ids anywhere else.
  const below = new Map<string, DavResponse>();
  for (const r of responses) {
    if (!isWithin(homeUrl, r.href) || isHome(r)) continue;
    const href = withTrailingSlash(r.href);
    if (!below.has(href)) below.set(href, { ...r, href });
  }
  const collections = [...below.values()];
  const zone = accountZoneOf(home, collections.filter((r) => hasChild(r.props.get(propKey(prop.resourcetype)), NS.CALDAV, 'calendar')));
  return collections.map((r) => toCalendar(r, provider, zone)).filter((c): c is Calendar => c !== null);
}

/** The calendar's own zone, used to read floating times; null when it has none. */
export async function calendarZone(client: DavClient, calendarUrl: string): Promise<string | null> {
  const [response] = await client.propfind(calendarUrl, [prop.calendarTimezone], 0);
  return response ? zoneOfCalendarTimezone(text(response, prop.calendarTimezone)) : null;
}
