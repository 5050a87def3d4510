/**
 * Graph event → Almanac CalendarEvent (API.md): UTC instants, all-day events as their
 * UTC-midnight dates (Graph returns them midnight to midnight), the organizer added to
 * the attendees, showAs → availability, sensitivity → privacy, Teams links as the
 * conference, and `custom` from its single-value extended property.
 */
import type { Attendee, AttendeeStatus, CalendarEvent, Privacy } from '../../domain/calendar.js';
import { customFrom } from './graph-custom-property.js';
import { toRecurrence } from './graph-recurrence.js';
import { dateOf, ianaZoneOf, instantOf, utcMidnightMs } from './graph-time.js';
import type { GraphEvent } from './graph-wire-types.js';

const RESPONSES: Record<string, AttendeeStatus> = {
  accepted: 'accepted',
  organizer: 'accepted',
  declined: 'declined',
  tentativelyaccepted: 'tentative',
  none: 'none',
  notresponded: 'none',
};

const PRIVACY: Record<string, Privacy> = { normal: 'public', personal: 'private', private: 'private', confidential: 'confidential' };

/** [start, end) in epoch ms as Almanac places the event (all-day: UTC midnights of its dates). */
export function eventSpan(event: GraphEvent): { startMs: number; endMs: number } | undefined {
  if (event.isAllDay) {
    const start = dateOf(event.start);
    const end = dateOf(event.end);
    if (!start || !end) return undefined;
    return { startMs: utcMidnightMs(start), endMs: Math.max(utcMidnightMs(end), utcMidnightMs(start)) };
  }
  const startMs = instantOf(event.start);
  const endMs = instantOf(event.end);
  if (startMs === undefined || endMs === undefined) return undefined;
  return { startMs, endMs: Math.max(endMs, startMs) };
}

function attendeesOf(event: GraphEvent): Attendee[] | undefined {
  const out: Attendee[] = [];
  const organizer = event.organizer?.emailAddress?.address?.toLowerCase();
  for (const a of event.attendees ?? []) {
    const email = a.emailAddress?.address;
    if (!email) continue;
    const attendee: Attendee = { email, status: RESPONSES[(a.status?.response ?? 'none').toLowerCase()] ?? 'none' };
    if (organizer && email.toLowerCase() === organizer) attendee.organizer = true;
    out.push(attendee);
  }
  // API.md: for Microsoft the organizer is part of the list.
  if (organizer && !out.some((a) => a.organizer)) out.unshift({ email: event.organizer!.emailAddress!.address!, status: 'accepted', organizer: true });
  return out.length ? out : undefined;
}

export function toCalendarEvent(event: GraphEvent, calendarId: string): CalendarEvent | undefined {
  const span = eventSpan(event);
  if (!span) return undefined;
  const result: CalendarEvent = {
    provider: 'microsoft',
    id: event.id,
    calendarId,
    title: event.subject ?? '',
    start: new Date(span.startMs).toISOString(),
    end: new Date(span.endMs).toISOString(),
    allDay: event.isAllDay === true,
    original: { ...event, etag: event['@odata.etag'] },
  };
  const description = event.body?.content;
  if (description) result.description = description;
  if ((event.type === 'occurrence' || event.type === 'exception') && event.seriesMasterId) result.recurringEventId = event.seriesMasterId;
  const location = event.location?.displayName;
  if (location) result.location = location;
  const attendees = attendeesOf(event);
  if (attendees) result.attendees = attendees;
  const custom = customFrom(event);
  if (custom) result.custom = custom;
  const joinUrl = event.onlineMeeting?.joinUrl;
  if (joinUrl) {
    result.conference = joinUrl;
    if (event.onlineMeetingProvider === 'teamsForBusiness' || /teams\.microsoft\.com/i.test(joinUrl)) {
      result.conferenceData = { provider: 'microsoft-teams', url: joinUrl };
    }
  }
  const showAs = event.showAs?.toLowerCase();
  if (showAs === 'free') result.availability = 'free';
  else if (showAs && showAs !== 'unknown') result.availability = 'busy';
  const privacy = PRIVACY[(event.sensitivity ?? '').toLowerCase()];
  if (privacy) result.privacy = privacy;
  result.status = event.isCancelled ? 'cancelled' : showAs === 'tentative' ? 'tentative' : 'confirmed';
  if (event.lastModifiedDateTime) result.lastModified = new Date(Date.parse(event.lastModifiedDateTime)).toISOString();
  if (event.webLink) result.link = event.webLink;
  if (event.type === 'seriesMaster' && event.recurrence) {
    const zone = ianaZoneOf(event.recurrence.range.recurrenceTimeZone) ?? ianaZoneOf(event.originalStartTimeZone) ?? 'UTC';
    const recurrence = toRecurrence(event.recurrence, zone);
    if (recurrence) result.recurrence = recurrence;
  }
  return result;
}
