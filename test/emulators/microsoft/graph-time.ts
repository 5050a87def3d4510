/**
 * Graph's dateTimeTimeZone: a wall time without offset (`2027-05-03T09:00:00.0000000`)
 * and a zone that is a Windows name (`W. Europe Standard Time`) or, as Graph also
 * accepts, an IANA name. Conversions go through the Google emulator's IANA arithmetic
 * (test code, independent of the adapter) and windows-iana's CLDR table.
 */
import { findIana } from 'windows-iana';
import { validZone, wallAt, wallToInstant } from '../google/emulator-time.js';
import type { Wall } from '../google/emulator-time.js';

/** The IANA zone Graph would use for `zone`; undefined when Graph would reject it. */
export function ianaOf(zone: string | undefined): string | undefined {
  if (!zone) return undefined;
  if (zone === 'UTC' || zone === 'tzone://Microsoft/Utc') return 'UTC';
  const windows = findIana(zone)?.[0];
  if (windows) return windows;
  return validZone(zone) ? zone : undefined;
}

const p = (n: number, w = 2): string => String(n).padStart(w, '0');

export function parseWall(value: string): Wall | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$/.exec(value);
  if (!m) return undefined;
  return { y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +(m[4] ?? 0), mi: +(m[5] ?? 0), s: +(m[6] ?? 0) };
}

/** Graph's own spelling of a wall time: seven fractional digits, no offset. */
export function formatWall(w: Wall): string {
  return `${p(w.y, 4)}-${p(w.mo)}-${p(w.d)}T${p(w.h)}:${p(w.mi)}:${p(w.s)}.0000000`;
}

export function wallDate(w: Pick<Wall, 'y' | 'mo' | 'd'>): string {
  return `${p(w.y, 4)}-${p(w.mo)}-${p(w.d)}`;
}

export function instantOf(w: Wall, iana: string): number {
  return wallToInstant(w, iana);
}

export function wallOf(instantMs: number, iana: string): Wall {
  return wallAt(instantMs, iana);
}

/** Day arithmetic on calendar dates, free of zones. */
export function addDaysToWall(w: Wall, days: number): Wall {
  const d = new Date(Date.UTC(w.y, w.mo - 1, w.d + days, w.h, w.mi, w.s));
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: w.h, mi: w.mi, s: w.s };
}

/** A query-string instant (`2027-05-03T00:00:00Z`, or with an offset; without one Graph reads UTC). */
export function parseQueryInstant(value: string | null): number | undefined {
  if (!value) return undefined;
  const withZone = /[zZ]|[+-]\d{2}:?\d{2}$/.test(value) ? value : `${value}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? undefined : ms;
}
