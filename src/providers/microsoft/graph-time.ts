/**
 * Graph's dateTimeTimeZone ↔ instants and IANA zones. Graph names zones the Windows way
 * (`W. Europe Standard Time`), sometimes IANA, and `tzone://Microsoft/Custom` for zones
 * defined inline; windows-iana's CLDR table maps between the first two. Reads ask for
 * UTC (`Prefer: outlook.timezone="UTC"`), so returned times are UTC wall times.
 */
import { findWindows } from 'windows-iana';
import { resolveIanaZone, wallTimeAt, wallTimeToUtc } from '../../domain/zone-clock.js';
import type { GraphDateTimeZone } from './graph-wire-types.js';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** The IANA zone a Graph zone name stands for; undefined for custom or unknown zones. */
export function ianaZoneOf(graphZone: string | undefined | null): string | undefined {
  if (!graphZone || graphZone.startsWith('tzone://Microsoft/Custom')) return undefined;
  if (graphZone === 'tzone://Microsoft/Utc') return 'UTC';
  return resolveIanaZone(graphZone) ?? undefined;
}

/** The Windows name Graph prefers for an IANA zone; the IANA name itself when the table has none. */
export function windowsZoneOf(iana: string): string {
  if (iana === 'UTC' || iana === 'Etc/UTC') return 'UTC';
  return findWindows(iana)?.[0] ?? iana;
}

function parseWall(value: string) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
  if (!m) return undefined;
  return { year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: +m[4]!, minute: +m[5]!, second: +(m[6] ?? 0) };
}

/** The instant of a Graph time; a custom or unknown zone reads as `fallbackZone` (UTC unless said). */
export function instantOf(value: GraphDateTimeZone | undefined, fallbackZone = 'UTC'): number | undefined {
  if (!value?.dateTime) return undefined;
  const wall = parseWall(value.dateTime);
  if (!wall) return undefined;
  return wallTimeToUtc(ianaZoneOf(value.timeZone) ?? fallbackZone, wall);
}

/** `2027-05-03` of a Graph time, as written (all-day values are midnight to midnight). */
export function dateOf(value: GraphDateTimeZone | undefined): string | undefined {
  return /^\d{4}-\d{2}-\d{2}/.exec(value?.dateTime ?? '')?.[0];
}

/** A Graph time for an instant, written as the wall time in `iana` under its Windows name. */
export function graphTime(instantMs: number, iana: string): GraphDateTimeZone {
  const w = wallTimeAt(iana, instantMs);
  return { dateTime: `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`, timeZone: windowsZoneOf(iana) };
}

/** Midnight of a date, for all-day values. */
export function graphDate(date: string, iana: string): GraphDateTimeZone {
  return { dateTime: `${date}T00:00:00`, timeZone: windowsZoneOf(iana) };
}

export function localDate(instantMs: number, iana: string): string {
  const w = wallTimeAt(iana, instantMs);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

export function utcMidnightMs(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Date.UTC(y!, m! - 1, d!);
}

export function addDays(date: string, days: number): string {
  return new Date(utcMidnightMs(date) + days * 86_400_000).toISOString().slice(0, 10);
}
