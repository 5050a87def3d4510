/** The event calendars of a calendar home, as API Calendars. */
import ICAL from 'ical.js';
import type { Calendar, ProviderId } from '../../domain/calendar.js';
import type { DavClient } from './dav-client.js';
import { componentNames, hasChild, isWithin, NS, prop, propKey, textOf, type DavResponse } from './dav-xml.js';
import { normalizeColor } from './normalize-color.js';
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
];

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

/** Event calendars only: collections whose component set excludes VEVENT (iCloud Reminders) are skipped. */
export function toCalendar(response: DavResponse, provider: ProviderId): Calendar | null {
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
    timeZone: zoneOfCalendarTimezone(timezone),
    color: normalizeColor(rawColor),
    description: text(response, prop.calendarDescription) ?? null,
    readOnly: false,
    original: {
      href: response.href,
      ...(rawColor ? { color: rawColor } : {}),
      ...(components ? { components } : {}),
      ...(ctag ? { ctag } : {}),
      ...(syncToken ? { syncToken } : {}),
    },
  };
}

export async function listCalendarsInHome(client: DavClient, homeUrl: string, provider: ProviderId): Promise<Calendar[]> {
  const responses = await client.propfind(homeUrl, CALENDAR_PROPS, 1);
  const home = new URL(homeUrl).pathname.replace(/\/+$/, '');
  return responses
    // Only collections below the home: the adapter refuses calendar ids anywhere else.
    .filter((r) => isWithin(homeUrl, r.href) && new URL(r.href).pathname.replace(/\/+$/, '') !== home)
    .map((r) => toCalendar(r, provider))
    .filter((c): c is Calendar => c !== null);
}

/** The calendar's own zone, used to read floating times; null when it has none. */
export async function calendarZone(client: DavClient, calendarUrl: string): Promise<string | null> {
  const [response] = await client.propfind(calendarUrl, [prop.calendarTimezone], 0);
  return response ? zoneOfCalendarTimezone(text(response, prop.calendarTimezone)) : null;
}
