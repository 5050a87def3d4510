/** Reads a VEVENT (a single, a series master, or one occurrence of a series) as a CalendarEvent. */
import ICAL from 'ical.js';
import type {
  Attendee,
  AttendeeStatus,
  Availability,
  CalendarEvent,
  ConferenceProvider,
  EventStatus,
  Privacy,
  ProviderId,
} from '../../domain/calendar.js';
import { instantOf } from './ics-time.js';
import { normalizeColor } from './normalize-color.js';
import { fromRecur } from './recurrence-rule.js';

export const CUSTOM_PROPERTY = 'x-almanac-custom';

export interface ReadContext {
  provider: ProviderId;
  calendarId: string;
  href: string;
  etag?: string;
  /** IANA zone floating times are read in (the calendar's zone), or null for UTC. */
  floatingZone: string | null;
}

export interface Occurrence {
  /** The VEVENT whose fields describe this occurrence (an override, or the master). */
  vevent: ICAL.Component;
  start: ICAL.Time;
  end: ICAL.Time;
  /** Set on instances of a series. */
  instance?: { id: string; seriesUid: string; recurrenceId: ICAL.Time };
}

const DAY = 86_400_000;

function text(vevent: ICAL.Component, name: string): string | undefined {
  const value = vevent.getFirstPropertyValue(name);
  if (value === null || value === undefined) return undefined;
  const s = String(value);
  return s === '' ? undefined : s;
}

export function mailtoAddress(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const address = value.replace(/^mailto:/i, '').trim();
  return address.includes('@') ? address : undefined;
}

const PARTSTAT: Record<string, AttendeeStatus> = { ACCEPTED: 'accepted', DECLINED: 'declined', TENTATIVE: 'tentative' };

function partstat(property: ICAL.Property): AttendeeStatus {
  const value = property.getParameter('partstat');
  return (typeof value === 'string' && PARTSTAT[value.toUpperCase()]) || 'none';
}

function readAttendees(vevent: ICAL.Component): Attendee[] | undefined {
  const organizerProperty = vevent.getFirstProperty('organizer');
  const organizer = organizerProperty ? mailtoAddress(organizerProperty.getFirstValue())?.toLowerCase() : undefined;
  const out: Attendee[] = [];
  let organizerListed = false;
  for (const property of vevent.getAllProperties('attendee')) {
    const email = mailtoAddress(property.getFirstValue());
    if (!email) continue;
    const isOrganizer = email.toLowerCase() === organizer;
    organizerListed ||= isOrganizer;
    out.push({ email, status: partstat(property), ...(isOrganizer ? { organizer: true } : {}) });
  }
  if (organizerProperty && organizer && !organizerListed) {
    // The organizer is rarely an ATTENDEE of their own event; the API lists them anyway.
    const email = mailtoAddress(organizerProperty.getFirstValue())!;
    out.unshift({ email, status: 'accepted', organizer: true });
  }
  return out.length ? out : undefined;
}

const CONFERENCE_HOSTS: Array<[RegExp, ConferenceProvider]> = [
  [/(^|\.)meet\.google\.com$/, 'google-meet'],
  [/(^|\.)teams\.(microsoft|live)\.com$/, 'microsoft-teams'],
  [/(^|\.)zoom\.us$/, 'zoom'],
  [/(^|\.)webex\.com$/, 'webex'],
];

export function conferenceProviderOf(url: string): ConferenceProvider | undefined {
  try {
    const host = new URL(url).hostname.toLowerCase();
    return CONFERENCE_HOSTS.find(([pattern]) => pattern.test(host))?.[1];
  } catch {
    return undefined;
  }
}

function readConference(vevent: ICAL.Component): string | undefined {
  const explicit =
    text(vevent, 'conference') ?? text(vevent, 'x-google-conference') ?? text(vevent, 'x-microsoft-skypeteamsmeetingurl');
  if (explicit) return explicit;
  // URL is a general link; only a known meeting host makes it a conference link.
  const url = text(vevent, 'url');
  return url && conferenceProviderOf(url) ? url : undefined;
}

function readCustom(vevent: ICAL.Component): Record<string, unknown> | undefined {
  const raw = text(vevent, CUSTOM_PROPERTY);
  if (!raw) return undefined;
  // A server that dropped VALUE=TEXT hands the text back still escaped.
  for (const candidate of [raw, raw.replace(/\\([\\;,nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c))]) {
    try {
      const parsed: unknown = JSON.parse(candidate);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // Try the next reading.
    }
  }
  return undefined;
}

const STATUS: Record<string, EventStatus> = { CONFIRMED: 'confirmed', TENTATIVE: 'tentative', CANCELLED: 'cancelled' };
const PRIVACY: Record<string, Privacy> = { PUBLIC: 'public', PRIVATE: 'private', CONFIDENTIAL: 'confidential' };

function readAvailability(vevent: ICAL.Component): Availability {
  // RFC 5545 §3.8.2.7: an event without TRANSP is OPAQUE.
  return text(vevent, 'transp')?.toUpperCase() === 'TRANSPARENT' ? 'free' : 'busy';
}

/** End of a VEVENT: DTEND, else DTSTART + DURATION, else the RFC 5545 §3.6.1 defaults. */
export function endOf(vevent: ICAL.Component, start: ICAL.Time): ICAL.Time {
  const dtend = vevent.getFirstPropertyValue('dtend');
  if (dtend instanceof ICAL.Time) return dtend;
  const duration = vevent.getFirstPropertyValue('duration');
  const end = start.clone();
  if (duration instanceof ICAL.Duration) end.addDuration(duration);
  else if (start.isDate) end.day += 1;
  return end;
}

export function startOf(vevent: ICAL.Component): ICAL.Time | undefined {
  const value = vevent.getFirstPropertyValue('dtstart');
  return value instanceof ICAL.Time ? value : undefined;
}

/** [start, end) in milliseconds; all-day ends are exclusive and at least one day after the start. */
export function spanOf(start: ICAL.Time, end: ICAL.Time, floatingZone: string | null): { start: number; end: number } {
  const s = instantOf(start, floatingZone);
  let e = instantOf(end, floatingZone);
  if (start.isDate) {
    if (!end.isDate) e = Date.UTC(end.year, end.month - 1, end.day);
    if (e <= s) e = s + DAY;
  } else if (e < s) {
    e = s;
  }
  return { start: s, end: e };
}

export function toCalendarEvent(occurrence: Occurrence, ctx: ReadContext, options: { withRecurrence: boolean; ics?: string }): CalendarEvent {
  const { vevent, instance } = occurrence;
  const span = spanOf(occurrence.start, occurrence.end, ctx.floatingZone);
  const uid = String(vevent.getFirstPropertyValue('uid') ?? '');
  const event: CalendarEvent = {
    provider: ctx.provider,
    id: instance ? instance.id : uid,
    calendarId: ctx.calendarId,
    title: text(vevent, 'summary') ?? '',
    start: new Date(span.start).toISOString(),
    end: new Date(span.end).toISOString(),
    allDay: occurrence.start.isDate,
    original: {
      href: ctx.href,
      etag: ctx.etag ?? null,
      ...(instance ? { recurrenceId: instance.recurrenceId.toICALString() } : {}),
      ics: options.ics ?? vevent.toString(),
    },
    link: ctx.href,
  };
  if (instance) event.recurringEventId = instance.seriesUid;
  const description = text(vevent, 'description');
  if (description !== undefined) event.description = description;
  const location = text(vevent, 'location');
  if (location !== undefined) event.location = location;
  const color = normalizeColor(text(vevent, 'color'));
  if (color) event.color = color;
  const attendees = readAttendees(vevent);
  if (attendees) event.attendees = attendees;
  const custom = readCustom(vevent);
  if (custom) event.custom = custom;
  const conference = readConference(vevent);
  if (conference) {
    event.conference = conference;
    const provider = conferenceProviderOf(conference);
    if (provider) event.conferenceData = { provider, url: conference };
  }
  event.availability = readAvailability(vevent);
  const privacy = PRIVACY[text(vevent, 'class')?.toUpperCase() ?? ''];
  if (privacy) event.privacy = privacy;
  const status = STATUS[text(vevent, 'status')?.toUpperCase() ?? ''];
  if (status) event.status = status;
  const lastModified = vevent.getFirstPropertyValue('last-modified');
  if (lastModified instanceof ICAL.Time) event.lastModified = new Date(instantOf(lastModified, null)).toISOString();
  if (options.withRecurrence) {
    const rrule = vevent.getFirstPropertyValue('rrule');
    const recurrence = rrule instanceof ICAL.Recur ? fromRecur(rrule) : undefined;
    if (recurrence) event.recurrence = recurrence;
  }
  return event;
}
