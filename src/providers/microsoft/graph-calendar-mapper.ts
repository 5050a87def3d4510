/** Graph calendar → Almanac Calendar: colour from hexColor or the color enum, canEdit → readOnly. */
import type { Calendar } from '../../domain/calendar.js';
import { defaultCalendarColor } from '../../domain/calendar-color.js';
import type { GraphCalendar } from './graph-wire-types.js';

/**
 * Outlook's named calendar colours (resources/calendar `color`), as Outlook on the web
 * paints them. `auto` has no colour of its own.
 */
const COLOR_HEX: Record<string, string> = {
  lightBlue: '#A6D1F5',
  lightGreen: '#87D28E',
  lightOrange: '#FCAB73',
  lightGray: '#C0C0C0',
  lightYellow: '#F4D07A',
  lightTeal: '#5FD2D6',
  lightPink: '#F2A8D2',
  lightBrown: '#C6A89B',
  lightRed: '#F88C9B',
  maxColor: '#C0C0C0',
};

export function colorOf(calendar: GraphCalendar): string {
  const hex = calendar.hexColor?.trim();
  if (hex && /^#[0-9a-f]{6}$/i.test(hex)) return hex.toUpperCase();
  return COLOR_HEX[calendar.color ?? ''] ?? defaultCalendarColor(calendar.id);
}

export function toCalendar(calendar: GraphCalendar, timeZone: string): Calendar {
  return {
    provider: 'microsoft',
    id: calendar.id,
    title: calendar.name ?? '',
    timeZone,
    color: colorOf(calendar),
    // Graph has no calendar description; the owner says whose calendar a shared one is.
    description: '',
    readOnly: calendar.canEdit === false,
    original: calendar,
  };
}
