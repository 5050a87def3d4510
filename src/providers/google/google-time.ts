/**
 * Instants, wall-clock times and dates in IANA zones, with the platform's Intl data
 * (no zone database of our own). Google writes times with a zone and files all-day
 * events under the calendar's zone; Almanac speaks UTC instants and UTC-midnight dates.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallClock(instantMs: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instantMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** Local time minus UTC at that instant, in milliseconds (New York in winter: -5 h). */
export function zoneOffsetMs(timeZone: string, instantMs: number): number {
  const w = wallClock(instantMs, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, '0');

/** RFC 3339 wall time with the zone's offset, e.g. `2025-11-15T10:00:00-05:00`. */
export function formatInZone(instantMs: number, timeZone: string): string {
  const w = wallClock(instantMs, timeZone);
  const offsetMin = Math.round(zoneOffsetMs(timeZone, instantMs) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const date = `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
  return `${date}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${sign}${pad(Math.trunc(offsetMin / 60))}:${pad(offsetMin % 60)}`;
}

/** The calendar date (`yyyy-mm-dd`) of an instant in a zone. */
export function localDate(instantMs: number, timeZone: string): string {
  const w = wallClock(instantMs, timeZone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** The instant a date begins in a zone (its local midnight). */
export function localMidnightMs(date: string, timeZone: string): number {
  const utcMidnight = utcMidnightMs(date);
  // Two passes settle the offset even when midnight sits near a daylight-saving change.
  let guess = utcMidnight - zoneOffsetMs(timeZone, utcMidnight);
  guess = utcMidnight - zoneOffsetMs(timeZone, guess);
  return guess;
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
