/**
 * Response bodies of the events endpoints (API.md). Writes return the event twice: the
 * Node and Go SDKs read its fields at the root, the Python SDK reads `event`.
 */
import type { CalendarEvent } from '../../domain/calendar.js';
import type { EventsErrorEntry } from './merge-event-pages.js';

export type WriteResponse = CalendarEvent & { success: true; event: CalendarEvent };

/** Body of POST and PUT /api/event: `{ success: true, ...event, event }`. */
export function writeResponse(event: CalendarEvent): WriteResponse {
  // `success` last among the root fields would let an event field named so override it.
  return { ...event, success: true, event };
}

export interface DeleteResponse {
  success: true;
  message: string;
}

/** Body of DELETE /api/event. */
export function deleteResponse(): DeleteResponse {
  return { success: true, message: 'Event deleted successfully' };
}

export interface ListResponse {
  events: CalendarEvent[];
  /** The effective page size of the request (after the 1000 cap), across all providers. */
  pageSize: number;
  nextPageToken?: string;
  /** Almanac extra: sources that failed on this page; absent when none did. */
  errors?: EventsErrorEntry[];
}

/** Body of GET /api/events; optional fields only when they carry something. */
export function listResponse(
  events: CalendarEvent[],
  pageSize: number,
  nextPageToken?: string,
  errors: readonly EventsErrorEntry[] = [],
): ListResponse {
  const body: ListResponse = { events, pageSize };
  if (nextPageToken !== undefined) body.nextPageToken = nextPageToken;
  if (errors.length > 0) body.errors = [...errors];
  return body;
}
