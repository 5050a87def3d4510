/**
 * Wall-clock arithmetic in IANA zones through Intl (Node ships the tz database), so
 * nothing depends on the process's own TZ and no zone data is bundled.
 */
import { findIana } from 'windows-iana';

export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

export function isIanaZone(name: string): boolean {
  if (!name || name.length > 64) return false;
  try {
    formatterFor(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * An IANA id for a TZID as servers and clients write them: IANA itself, Windows
 * names (Outlook), or vendor-prefixed paths such as `/mozilla.org/20050126_1/Europe/Berlin`.
 */
export function resolveIanaZone(tzid: string | undefined | null): string | null {
  const name = tzid?.trim();
  if (!name) return null;
  if (name.toUpperCase() === 'UTC' || name === 'Z' || name.toUpperCase() === 'GMT') return 'UTC';
  if (isIanaZone(name)) return name;
  const windows = findIana(name)?.[0];
  if (windows && isIanaZone(windows)) return windows;
  const segments = name.split('/').filter(Boolean);
  for (let i = 0; i < segments.length - 1; i++) {
    const candidate = segments.slice(i).join('/');
    if (/^[A-Z]/.test(candidate) && isIanaZone(candidate)) return candidate;
  }
  return null;
}

export function wallTimeAt(zone: string, utcMs: number): WallTime {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(zone).formatToParts(new Date(utcMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: (parts.hour ?? 0) % 24,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** The UTC fields of an instant (the wall clock of UTC, without going through Intl). */
export function utcWallTime(ms: number): WallTime {
  const d = new Date(ms);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
}

export function wallToEpochMs(w: WallTime): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/** Offset east of UTC in milliseconds at the instant `utcMs`. */
export function offsetAt(zone: string, utcMs: number): number {
  const whole = Math.floor(utcMs / 1000) * 1000;
  return wallToEpochMs(wallTimeAt(zone, whole)) - whole;
}

/**
 * The instant a wall-clock time names in `zone`. A time skipped by a spring-forward
 * gap is read with the offset before the gap, and an ambiguous fall-back time as its
 * first occurrence, as RFC 5545 §3.3.5 asks.
 */
export function wallTimeToUtc(zone: string, wall: WallTime): number {
  const local = wallToEpochMs(wall);
  const before = offsetAt(zone, local - 36 * 3600_000);
  const offsets = new Set([before, offsetAt(zone, local), offsetAt(zone, local + 36 * 3600_000)]);
  const candidates = [...offsets].map((o) => local - o).filter((utc) => utc + offsetAt(zone, utc) === local);
  // No candidate means a gap: the pre-transition offset moves the time forward by the gap's size.
  return candidates.length ? Math.min(...candidates) : local - before;
}
