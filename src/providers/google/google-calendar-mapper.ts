/** A calendarList entry → Almanac's Calendar; the entry (access role, colours, …) stays in `original`. */
import type { Calendar } from '../../domain/calendar.js';
import { defaultCalendarColor } from '../../domain/calendar-color.js';
import { normalizeHexColor } from './google-colors.js';
import type { GoogleCalendarListEntry } from './google-wire-types.js';

/**
 * The zone for entries that carry none: the user's primary calendar's zone (Google's
 * own default for the user), else UTC.
 */
export function fallbackZoneOf(entries: readonly GoogleCalendarListEntry[]): string {
  return entries.find((e) => e.primary && e.timeZone)?.timeZone ?? 'UTC';
}

export function toCalendar(entry: GoogleCalendarListEntry, fallbackZone = 'UTC'): Calendar {
  const id = entry.id ?? '';
  return {
    provider: 'google',
    id,
    // The user's own name for a shared calendar wins over its owner's.
    title: entry.summaryOverride ?? entry.summary ?? entry.id ?? '',
    timeZone: entry.timeZone || fallbackZone,
    color: normalizeHexColor(entry.backgroundColor) ?? defaultCalendarColor(id),
    description: entry.description ?? '',
    // reader and freeBusyReader may not write (calendarList accessRole).
    readOnly: entry.accessRole !== 'owner' && entry.accessRole !== 'writer',
    original: entry,
  };
}
