/** A calendarList entry → Almanac's Calendar; the entry (access role, colours, …) stays in `original`. */
import type { Calendar } from '../../domain/calendar.js';
import { normalizeHexColor } from './google-colors.js';
import type { GoogleCalendarListEntry } from './google-wire-types.js';

export function toCalendar(entry: GoogleCalendarListEntry): Calendar {
  return {
    provider: 'google',
    id: entry.id ?? '',
    // The user's own name for a shared calendar wins over its owner's.
    title: entry.summaryOverride ?? entry.summary ?? entry.id ?? '',
    timeZone: entry.timeZone ?? null,
    color: normalizeHexColor(entry.backgroundColor),
    description: entry.description ?? null,
    // reader and freeBusyReader may not write (calendarList accessRole).
    readOnly: entry.accessRole !== 'owner' && entry.accessRole !== 'writer',
    original: entry,
  };
}
