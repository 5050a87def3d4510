/**
 * The three kinds of iCalendar time (RFC 5545 §3.3.5) plus dates, to and from instants.
 * Floating times have no zone of their own: they are read in the calendar's zone
 * when it has one, else as UTC, and never in the zone of the process running us.
 */
import ICAL from 'ical.js';
import { wallTimeAt, wallTimeToUtc, type WallTime, utcWallTime } from '../../domain/zone-clock.js';

export type TimeStyle = { kind: 'date' } | { kind: 'utc' } | { kind: 'floating' } | { kind: 'zoned'; zone: ICAL.Timezone };

function isUtcZone(zone: ICAL.Timezone | undefined): boolean {
  return !!zone && (zone === ICAL.Timezone.utcTimezone || zone.tzid === 'UTC' || zone.tzid === 'Z');
}

function isFloatingZone(zone: ICAL.Timezone | undefined): boolean {
  return !zone || zone === ICAL.Timezone.localTimezone || zone.tzid === 'floating';
}

export function styleOf(time: ICAL.Time): TimeStyle {
  if (time.isDate) return { kind: 'date' };
  if (isUtcZone(time.zone)) return { kind: 'utc' };
  if (isFloatingZone(time.zone)) return { kind: 'floating' };
  return { kind: 'zoned', zone: time.zone };
}

function fields(time: ICAL.Time): WallTime {
  return { year: time.year, month: time.month, day: time.day, hour: time.hour, minute: time.minute, second: time.second };
}

/** Milliseconds since the epoch. Dates are midnight UTC, as the API represents all-day events. */
export function instantOf(time: ICAL.Time, floatingZone: string | null): number {
  const style = styleOf(time);
  const w = fields(time);
  switch (style.kind) {
    case 'date':
      return Date.UTC(w.year, w.month - 1, w.day);
    case 'utc':
      return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
    case 'floating':
      return floatingZone && floatingZone !== 'UTC'
        ? wallTimeToUtc(floatingZone, w)
        : Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
    case 'zoned':
      return time.toUnixTime() * 1000;
  }
}

/** The time of style `style` naming the instant `ms` (for dates: the UTC calendar date of `ms`). */
export function timeAt(ms: number, style: TimeStyle, floatingZone: string | null): ICAL.Time {
  const u = utcWallTime(ms);
  switch (style.kind) {
    case 'date':
      return ICAL.Time.fromData({ year: u.year, month: u.month, day: u.day, isDate: true });
    case 'utc':
      return ICAL.Time.fromData({ ...u, isDate: false }, ICAL.Timezone.utcTimezone);
    case 'floating': {
      const w = floatingZone && floatingZone !== 'UTC' ? wallTimeAt(floatingZone, ms) : u;
      return ICAL.Time.fromData({ ...w, isDate: false });
    }
    case 'zoned':
      return ICAL.Time.fromData({ ...u, isDate: false }, ICAL.Timezone.utcTimezone).convertToZone(style.zone);
  }
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/**
 * The stable text of a recurrence id used in instance ids: `YYYYMMDD` for dates,
 * `YYYYMMDDTHHMMSS` for floating times, UTC `YYYYMMDDTHHMMSSZ` otherwise.
 */
export function recurrenceKey(time: ICAL.Time): string {
  const style = styleOf(time);
  if (style.kind === 'date') return `${pad(time.year, 4)}${pad(time.month)}${pad(time.day)}`;
  const w = style.kind === 'floating' ? fields(time) : utcWallTime(instantOf(time, null));
  const text = `${pad(w.year, 4)}${pad(w.month)}${pad(w.day)}T${pad(w.hour)}${pad(w.minute)}${pad(w.second)}`;
  return style.kind === 'floating' ? text : `${text}Z`;
}

/** Sets (or, with `add`, appends) a time property, keeping TZID in step with the time's zone. */
export function writeTimeProperty(component: ICAL.Component, name: string, time: ICAL.Time, add = false): ICAL.Property {
  let property = add ? null : component.getFirstProperty(name);
  if (!property) {
    property = new ICAL.Property(name, component);
    component.addProperty(property);
  }
  const style = styleOf(time);
  if (style.kind === 'zoned') property.setParameter('tzid', style.zone.tzid);
  else property.removeParameter('tzid');
  property.removeParameter('value');
  property.setValue(time);
  return property;
}

/** Moves a time by a wall-clock amount, keeping its zone (09:00 stays 09:00 across DST). */
export function shiftWall(time: ICAL.Time, seconds: number): ICAL.Time {
  const shifted = time.clone();
  if (seconds) shifted.addDuration(ICAL.Duration.fromSeconds(seconds));
  return shifted;
}

/** Wall-clock difference `later - earlier` in seconds, ignoring zone offsets. */
export function wallDifference(later: ICAL.Time, earlier: ICAL.Time): number {
  return later.subtractDate(earlier).toSeconds();
}
