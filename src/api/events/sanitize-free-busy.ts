/**
 * GET /api/events under the `free-busy` scope (API.md, Scopes): events become opaque busy
 * blocks. Built by picking allowed fields (an allow-list), so a field added to
 * CalendarEvent later stays hidden until someone decides it is safe.
 *
 * Kept: provider, id, calendarId, start, end, allDay (where the time is), availability
 * and status (how firmly it is taken), recurringEventId and recurrence (structure of the
 * series, needed to read masters when singleEvents=false; they describe time, not content).
 * Dropped: description, location, attendees, custom, conference, conferenceData, original,
 * link, color, privacy, lastModified. `title` stays in the shape (the SDKs type it as a
 * string) but is always empty; `original` is undefined, so JSON leaves it out.
 * Omitted altogether: events that do not block time, i.e. `availability: free`
 * (transparent) and `status: cancelled`. A page may therefore hold fewer than pageSize
 * blocks; sanitise after merging so the cursor stays that of the full result.
 */
import type { CalendarEvent } from '../../domain/calendar.js';

/** True when the event takes time in a free/busy view. */
export function blocksTime(event: CalendarEvent): boolean {
  return event.availability !== 'free' && event.status !== 'cancelled';
}

/** The busy block of one event (whether it blocks time is not checked here). */
export function toBusyBlock(event: CalendarEvent): CalendarEvent {
  const block: CalendarEvent = {
    provider: event.provider,
    id: event.id,
    calendarId: event.calendarId,
    title: '',
    start: event.start,
    end: event.end,
    allDay: event.allDay,
    original: undefined,
  };
  if (event.recurringEventId !== undefined) block.recurringEventId = event.recurringEventId;
  if (event.recurrence !== undefined) block.recurrence = structuredClone(event.recurrence);
  if (event.availability !== undefined) block.availability = event.availability;
  if (event.status !== undefined) block.status = event.status;
  return block;
}

/** The events of a free-busy page: busy blocks of the events that block time, in order. */
export function sanitizeFreeBusy(events: readonly CalendarEvent[]): CalendarEvent[] {
  return events.filter(blocksTime).map(toBusyBlock);
}
