/**
 * Almanac's EventInput / EventPatch → Google request bodies. Patches follow Google's
 * patch semantics (RFC 7396-like): omitted members stay, objects merge member by member,
 * arrays are replaced whole, and null clears a member.
 */
import type { Availability, EventInput, EventPatch, EventStatus, Privacy } from '../../domain/calendar.js';
import { writeConference } from './google-conference-mapper.js';
import type { ConferenceWrite } from './google-conference-mapper.js';
import { CONFERENCE_URL_KEY, customPatch, encodeCustom } from './google-custom-properties.js';
import { dateTimeMs, isAllDay } from './google-event-mapper.js';
import { formatGoogleRecurrence } from './google-recurrence.js';
import { formatInZone, utcDate } from './google-time.js';
import type { GoogleAttendee, GoogleEvent, GoogleEventDateTime } from './google-wire-types.js';

export type JsonObject = Record<string, unknown>;

export interface GoogleWrite {
  body: JsonObject;
  /** Set when the body touches conferenceData. */
  conferenceDataVersion?: 1;
}

const TRANSPARENCY: Record<Availability, 'opaque' | 'transparent'> = { busy: 'opaque', free: 'transparent' };
const VISIBILITY: Record<Privacy, 'public' | 'private' | 'confidential'> = {
  public: 'public',
  private: 'private',
  confidential: 'confidential',
};

/**
 * One side of an event's time. A zone, when given, is written with the wall time in
 * that zone (Google expands recurrences in `start.timeZone`); all-day values are the UTC
 * date of the instant, which is how API.md carries dates.
 */
export function googleDateTime(instantMs: number, allDay: boolean, timeZone: string | undefined): GoogleEventDateTime {
  if (allDay) return { date: utcDate(instantMs) };
  if (timeZone) return { dateTime: formatInZone(instantMs, timeZone), timeZone };
  return { dateTime: new Date(instantMs).toISOString() };
}

/** As above, with the other variant's members nulled so a PATCH cannot leave both set. */
function replacingDateTime(instantMs: number, allDay: boolean, timeZone: string | undefined): JsonObject {
  const value = googleDateTime(instantMs, allDay, timeZone);
  return { date: value.date ?? null, dateTime: value.dateTime ?? null, timeZone: value.timeZone ?? null };
}

export function buildInsertBody(input: EventInput, id: string): GoogleWrite {
  // Google refuses recurring timed events without a zone to expand them in.
  const timeZone = input.timeZone ?? (input.recurrence && !input.allDay ? 'UTC' : undefined);
  const body: GoogleEvent = {
    id,
    summary: input.title,
    start: googleDateTime(input.start.getTime(), input.allDay, timeZone),
    end: googleDateTime(input.end.getTime(), input.allDay, timeZone),
  };
  if (input.description !== undefined) body.description = input.description;
  if (input.location !== undefined) body.location = input.location;
  if (input.attendees) body.attendees = input.attendees.map((email) => ({ email }));
  if (input.recurrence) body.recurrence = formatGoogleRecurrence(input.recurrence, input.allDay);
  if (input.availability) body.transparency = TRANSPARENCY[input.availability];
  if (input.privacy) body.visibility = VISIBILITY[input.privacy];
  if (input.status) body.status = input.status;
  const privateProps = input.custom ? encodeCustom(input.custom) : {};
  const conference = writeConference(input);
  if (typeof conference.storedUrl === 'string') privateProps[CONFERENCE_URL_KEY] = conference.storedUrl;
  if (Object.keys(privateProps).length > 0) body.extendedProperties = { private: privateProps };
  if (conference.conferenceData) body.conferenceData = conference.conferenceData;
  return { body: body as JsonObject, ...(conference.conferenceData ? { conferenceDataVersion: 1 as const } : {}) };
}

/**
 * The PATCH body for `patch` applied to `current` (the event as Google holds it now,
 * needed for times, attendees and extended properties, which are merged not replaced).
 */
export function buildPatchBody(patch: EventPatch, current: GoogleEvent): GoogleWrite {
  const body: JsonObject = {};
  if (patch.title !== undefined) body.summary = patch.title;
  if (patch.description !== undefined) body.description = patch.description;
  if (patch.location !== undefined) body.location = patch.location;
  if (patch.availability !== undefined) body.transparency = patch.availability === null ? null : TRANSPARENCY[patch.availability];
  if (patch.privacy !== undefined) body.visibility = patch.privacy === null ? 'default' : VISIBILITY[patch.privacy];
  if (patch.status !== undefined) body.status = patch.status ?? ('confirmed' satisfies EventStatus);
  if (patch.attendees !== undefined) body.attendees = mergeAttendees(patch.attendees ?? [], current.attendees);
  Object.assign(body, timesPatch(patch, current));
  if (patch.recurrence !== undefined) {
    const allDay = patch.allDay ?? isAllDay(current);
    body.recurrence = patch.recurrence === null ? null : formatGoogleRecurrence(patch.recurrence, allDay);
  }

  const currentPrivate = current.extendedProperties?.private;
  const privatePatch: Record<string, string | null> = patch.custom !== undefined ? customPatch(patch.custom, currentPrivate) : {};
  let conference: ConferenceWrite = { needsVersion: false };
  if (patch.conference !== undefined || patch.conferenceData !== undefined) {
    conference = writeConference({ conference: patch.conference, conferenceData: patch.conferenceData });
    if (conference.storedUrl !== undefined) {
      // Removing a key the event never had is a no-op at Google, but noise in the body.
      if (conference.storedUrl !== null || currentPrivate?.[CONFERENCE_URL_KEY] !== undefined) {
        privatePatch[CONFERENCE_URL_KEY] = conference.storedUrl;
      }
    }
    if (conference.conferenceData !== undefined) body.conferenceData = conference.conferenceData;
  }
  if (Object.keys(privatePatch).length > 0) body.extendedProperties = { private: privatePatch };
  return { body, ...(conference.needsVersion ? { conferenceDataVersion: 1 as const } : {}) };
}

/** Keeps what Google knows of guests who stay (their response), adds the new ones bare. */
function mergeAttendees(emails: string[], current: GoogleAttendee[] | undefined): GoogleAttendee[] {
  const known = new Map((current ?? []).filter((a) => a.email).map((a) => [a.email!.toLowerCase(), a]));
  return emails.map((email) => known.get(email.toLowerCase()) ?? { email });
}

/**
 * start and end travel together whenever any time field changes: a PATCH of one side
 * alone could leave the other in a different form (date vs dateTime) or zone. They are
 * also rewritten when a timed event without a zone becomes recurring: Google refuses
 * recurring timed events whose start has no `timeZone` to expand them in.
 */
function timesPatch(patch: EventPatch, current: GoogleEvent): JsonObject {
  const allDay = patch.allDay ?? isAllDay(current);
  const needsZone = patch.recurrence != null && !allDay && !current.start?.timeZone;
  if (patch.start === undefined && patch.end === undefined && patch.allDay === undefined && patch.timeZone === undefined && !needsZone) {
    return {};
  }
  const startMs = patch.start?.getTime() ?? dateTimeMs(current.start) ?? Date.now();
  const endMs = patch.end?.getTime() ?? dateTimeMs(current.end) ?? startMs;
  const recurring = patch.recurrence === undefined ? current.recurrence !== undefined : patch.recurrence !== null;
  const keptZone = patch.timeZone === null ? undefined : (patch.timeZone ?? current.start?.timeZone);
  const timeZone = keptZone ?? (recurring && !allDay ? 'UTC' : undefined);
  return { start: replacingDateTime(startMs, allDay, timeZone), end: replacingDateTime(endMs, allDay, timeZone) };
}

/** RFC 7396 merge: what Google does with a PATCH body, used to build bodies for inserts. */
export function applyMergePatch(target: JsonObject, patch: JsonObject): JsonObject {
  const result: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (isPlainObject(value) && isPlainObject(result[key])) result[key] = applyMergePatch(result[key] as JsonObject, value);
    else result[key] = isPlainObject(value) ? applyMergePatch({}, value) : value;
  }
  return result;
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
