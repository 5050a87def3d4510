/** A Google event resource → Almanac's CalendarEvent (API.md), keeping Google's object in `original`. */
import type { Attendee, AttendeeStatus, CalendarEvent, Privacy } from '../../domain/calendar.js';
import { googleEventColorHex } from './google-colors.js';
import { readConference } from './google-conference-mapper.js';
import { readCustom } from './google-custom-properties.js';
import { parseGoogleRecurrence } from './google-recurrence.js';
import { utcMidnightMs } from './google-time.js';
import type { GoogleAttendee, GoogleEvent, GoogleEventDateTime } from './google-wire-types.js';

/**
 * An EventDateTime as Almanac's instant: the moment itself for timed values, midnight UTC
 * of the date for all-day values (API.md's convention, whatever the calendar's zone).
 */
export function dateTimeMs(value: GoogleEventDateTime | undefined): number | undefined {
  if (value?.dateTime) {
    const ms = Date.parse(value.dateTime);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (value?.date) return utcMidnightMs(value.date);
  return undefined;
}

export const isAllDay = (event: GoogleEvent): boolean => event.start?.date !== undefined;

export function eventStartMs(event: GoogleEvent): number {
  return dateTimeMs(event.start) ?? dateTimeMs(event.originalStartTime) ?? 0;
}

export function eventEndMs(event: GoogleEvent): number {
  // `endTimeUnspecified` events still carry an end equal to their start.
  return dateTimeMs(event.end) ?? eventStartMs(event);
}

const STATUS: Record<NonNullable<GoogleAttendee['responseStatus']>, AttendeeStatus> = {
  needsAction: 'none',
  accepted: 'accepted',
  declined: 'declined',
  tentative: 'tentative',
};

/** Exactly Google's guest list: Google already lists the organizer when it is a guest. */
function mapAttendees(attendees: GoogleAttendee[] | undefined): Attendee[] | undefined {
  if (!attendees) return undefined;
  const mapped: Attendee[] = [];
  for (const a of attendees) {
    // Google omits the address of some guests (e.g. hidden resources): nothing to show then.
    if (!a.email) continue;
    const attendee: Attendee = { email: a.email, status: STATUS[a.responseStatus ?? 'needsAction'] ?? 'none' };
    if (a.organizer) attendee.organizer = true;
    mapped.push(attendee);
  }
  return mapped;
}

const PRIVACY: Partial<Record<NonNullable<GoogleEvent['visibility']>, Privacy>> = {
  public: 'public',
  private: 'private',
  confidential: 'confidential',
};

export function toCalendarEvent(event: GoogleEvent, calendarId: string): CalendarEvent {
  const allDay = isAllDay(event);
  const mapped: CalendarEvent = {
    provider: 'google',
    id: event.id ?? '',
    calendarId,
    // Free/busy-only access returns events without a summary.
    title: event.summary ?? '',
    start: new Date(eventStartMs(event)).toISOString(),
    end: new Date(eventEndMs(event)).toISOString(),
    allDay,
    original: event,
  };
  if (event.description !== undefined) mapped.description = event.description;
  if (event.location !== undefined) mapped.location = event.location;
  if (event.recurringEventId !== undefined) mapped.recurringEventId = event.recurringEventId;
  const color = googleEventColorHex(event.colorId);
  if (color) mapped.color = color;
  const attendees = mapAttendees(event.attendees);
  if (attendees) mapped.attendees = attendees;
  const custom = readCustom(event.extendedProperties?.private);
  if (custom) mapped.custom = custom;
  const { conference, conferenceData } = readConference(event);
  if (conference) mapped.conference = conference;
  if (conferenceData) mapped.conferenceData = conferenceData;
  if (event.transparency !== undefined || event.start) {
    mapped.availability = event.transparency === 'transparent' ? 'free' : 'busy';
  }
  const privacy = event.visibility ? PRIVACY[event.visibility] : undefined;
  if (privacy) mapped.privacy = privacy;
  if (event.status) mapped.status = event.status;
  if (event.updated) mapped.lastModified = new Date(event.updated).toISOString();
  if (event.htmlLink) mapped.link = event.htmlLink;
  const recurrence = parseGoogleRecurrence(event.recurrence);
  if (recurrence) mapped.recurrence = recurrence;
  return mapped;
}
