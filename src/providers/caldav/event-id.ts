/**
 * Event ids. A single event or a series is named by its UID; an occurrence by
 * `${uid}::${recurrenceKey}` (see `recurrenceKey`), stable across reads so it can be
 * handed back to update and delete.
 */
import type { EventRef } from '../../domain/calendar.js';

const SEPARATOR = '::';
const KEY = /^\d{8}(T\d{6}Z?)?$/;

export interface ParsedEventId {
  uid: string;
  /** Present when the id names one occurrence. */
  recurrenceKey?: string;
}

export function instanceId(uid: string, recurrenceKey: string): string {
  return `${uid}${SEPARATOR}${recurrenceKey}`;
}

export function parseEventRef(ref: EventRef): ParsedEventId {
  const at = ref.eventId.lastIndexOf(SEPARATOR);
  const key = at >= 0 ? ref.eventId.slice(at + SEPARATOR.length) : '';
  if (at > 0 && KEY.test(key)) {
    return { uid: ref.recurringEventId || ref.eventId.slice(0, at), recurrenceKey: key };
  }
  return { uid: ref.eventId };
}
