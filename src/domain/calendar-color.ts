/**
 * The colour of a calendar whose provider has none. Derived from the calendar id, so
 * it is the same on every call and every instance, and two colourless calendars of one
 * user usually differ (one fixed colour would paint them all alike in an application
 * that colours events by calendar). The palette is mid-tone, readable under white text
 * and distinct from each other.
 */
import { createHash } from 'node:crypto';

export const DEFAULT_CALENDAR_COLORS = [
  '#1E6FD9',
  '#0B8043',
  '#D50000',
  '#8E24AA',
  '#E67C00',
  '#039BE5',
  '#616161',
  '#AD1457',
  '#3F51B5',
  '#795548',
] as const;

export function defaultCalendarColor(calendarId: string): string {
  const digest = createHash('sha256').update(calendarId).digest();
  return DEFAULT_CALENDAR_COLORS[digest.readUInt32BE(0) % DEFAULT_CALENDAR_COLORS.length]!;
}
