/**
 * Instants, wall-clock times and dates in IANA zones, with the platform's Intl data
 * (no zone database of our own). Google writes times with a zone and files all-day
 * events under the calendar's zone; Almanac speaks UTC instants and UTC-midnight dates.
 */
import { offsetAt, wallTimeAt, wallTimeToUtc } from '../../domain/zone-clock.js';

export { isIanaZone as isKnownTimeZone } from '../../domain/zone-clock.js';

/** Local time minus UTC at that instant, in milliseconds (New York in winter: -5 h). */
export function zoneOffsetMs(timeZone: string, instantMs: number): number {
  return offsetAt(timeZone, instantMs);
}

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, '0');

/** RFC 3339 wall time with the zone's offset, e.g. `2025-11-15T10:00:00-05:00`. */
export function formatInZone(instantMs: number, timeZone: string): string {
  const w = wallTimeAt(timeZone, instantMs);
  const offsetMin = Math.round(zoneOffsetMs(timeZone, instantMs) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const date = `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
  return `${date}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${sign}${pad(Math.trunc(offsetMin / 60))}:${pad(offsetMin % 60)}`;
}

/** The calendar date (`yyyy-mm-dd`) of an instant in a zone. */
export function localDate(instantMs: number, timeZone: string): string {
  const w = wallTimeAt(timeZone, instantMs);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** The instant a date begins in a zone (its local midnight). */
export function localMidnightMs(date: string, timeZone: string): number {
  const [year, month, day] = date.split('-').map(Number);
  // Where a daylight-saving change skips midnight, the day begins at the first instant after the gap.
  return wallTimeToUtc(timeZone, { year: year ?? 1970, month: month ?? 1, day: day ?? 1, hour: 0, minute: 0, second: 0 });
}

/** `yyyy-mm-dd` → the epoch ms of that date's midnight in UTC (Almanac's all-day convention). */
export function utcMidnightMs(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1);
}

/** The UTC calendar date of an instant. */
export function utcDate(instantMs: number): string {
  return new Date(instantMs).toISOString().slice(0, 10);
}

export function addDays(date: string, days: number): string {
  return utcDate(utcMidnightMs(date) + days * 86_400_000);
}
