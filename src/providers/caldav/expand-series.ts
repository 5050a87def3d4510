/**
 * Client-side recurrence expansion. Servers disagree on `<C:expand>` (Radicale 3.1.8
 * ignores it, others drop RECURRENCE-ID), so every series is expanded here from its
 * RRULE/RDATE/EXDATE and overrides. Iteration starts at DTSTART (COUNT and INTERVAL
 * are anchored there) and is capped, so a hostile or sub-daily rule cannot spin.
 */
import ICAL from 'ical.js';
import type { CalendarObject } from './calendar-object.js';
import { instanceId } from './event-id.js';
import { instantOf, recurrenceKey, styleOf, timeAt } from './ics-time.js';
import { endOf, spanOf, startOf, type Occurrence } from './vevent-to-event.js';

export const MAX_ITERATIONS = 10_000;

export interface ExpandedOccurrence extends Occurrence {
  startMs: number;
  endMs: number;
}

export interface ExpandOptions {
  rangeStart: number;
  rangeEnd: number;
  floatingZone: string | null;
  maxIterations?: number;
  /** Told when the cap stopped the iteration before the range end. */
  onTruncated?: (uid: string) => void;
}

export function isRecurring(master: ICAL.Component): boolean {
  return master.hasProperty('rrule') || master.hasProperty('rdate');
}

function isCancelled(vevent: ICAL.Component): boolean {
  return String(vevent.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED';
}

function recurrenceIdOf(vevent: ICAL.Component): ICAL.Time | undefined {
  const value = vevent.getFirstPropertyValue('recurrence-id');
  return value instanceof ICAL.Time ? value : undefined;
}

/** Overrides by recurrence key; the key is zone-normalised, so a UTC RECURRENCE-ID matches a TZID master. */
export function overridesByKey(obj: CalendarObject): Map<string, ICAL.Component> {
  const map = new Map<string, ICAL.Component>();
  for (const override of obj.overrides) {
    const rid = recurrenceIdOf(override);
    if (rid) map.set(recurrenceKey(rid), override);
  }
  return map;
}

function exclusions(master: ICAL.Component): { keys: Set<string>; dates: Set<string> } {
  const keys = new Set<string>();
  const dates = new Set<string>();
  for (const property of master.getAllProperties('exdate')) {
    for (const value of property.getValues()) {
      if (!(value instanceof ICAL.Time)) continue;
      keys.add(recurrenceKey(value));
      // A DATE EXDATE on a DATE-TIME series removes that whole day.
      if (value.isDate) dates.add(recurrenceKey(value));
    }
  }
  return { keys, dates };
}

function dateKey(time: ICAL.Time): string {
  return `${String(time.year).padStart(4, '0')}${String(time.month).padStart(2, '0')}${String(time.day).padStart(2, '0')}`;
}

interface SeriesContext {
  uid: string;
  master: ICAL.Component;
  masterStart: ICAL.Time;
  durationMs: number;
  durationDays: number;
  overrides: Map<string, ICAL.Component>;
  excluded: { keys: Set<string>; dates: Set<string> };
  floatingZone: string | null;
}

function seriesContext(obj: CalendarObject, floatingZone: string | null): SeriesContext | undefined {
  const master = obj.master;
  const masterStart = master && startOf(master);
  if (!master || !masterStart) return undefined;
  const span = spanOf(masterStart, endOf(master, masterStart), floatingZone);
  return {
    uid: obj.uid,
    master,
    masterStart,
    durationMs: span.end - span.start,
    durationDays: Math.round((span.end - span.start) / 86_400_000),
    overrides: overridesByKey(obj),
    excluded: exclusions(master),
    floatingZone,
  };
}

function occurrenceAt(series: SeriesContext, rid: ICAL.Time, key: string): ExpandedOccurrence {
  const instance = { id: instanceId(series.uid, key), seriesUid: series.uid, recurrenceId: rid };
  const override = series.overrides.get(key);
  const overrideStart = override && startOf(override);
  if (override && overrideStart) {
    const end = endOf(override, overrideStart);
    const span = spanOf(overrideStart, end, series.floatingZone);
    return { vevent: override, start: overrideStart, end, instance, startMs: span.start, endMs: span.end };
  }
  const start = rid;
  let end: ICAL.Time;
  const style = styleOf(start);
  if (style.kind === 'date') {
    end = start.clone();
    end.day += Math.max(1, series.durationDays);
  } else if (style.kind === 'floating') {
    end = start.clone();
    end.addDuration(ICAL.Duration.fromSeconds(series.durationMs / 1000));
  } else {
    end = timeAt(instantOf(start, null) + series.durationMs, { kind: 'utc' }, null);
  }
  const span = spanOf(start, end, series.floatingZone);
  return { vevent: series.master, start, end, instance, startMs: span.start, endMs: span.end };
}

/**
 * Recurrence ids of a series in order, with EXDATEs removed and duplicates (an RDATE
 * equal to a rule date) dropped. Stops after `max` iterations.
 */
const PLAIN_WEEKDAY = /^(MO|TU|WE|TH|FR|SA|SU)$/;
const WEEKDAY_OF = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];

/** Whole days after which a rule repeats exactly, for rules where skipping ahead is safe; else null. */
function repeatPeriodDays(master: ICAL.Component, start: ICAL.Time): number | null {
  const rules = master.getAllProperties('rrule');
  const recur = rules.length === 1 ? rules[0]!.getFirstValue() : null;
  // COUNT has to be counted from DTSTART, so no skipping.
  if (!(recur instanceof ICAL.Recur) || recur.count) return null;
  const parts = Object.keys(recur.parts);
  const byDay = (recur.getComponent('BYDAY') as string[]).map(String);
  if (parts.some((p) => p !== 'BYDAY') || !byDay.every((d) => PLAIN_WEEKDAY.test(d))) return null;
  // DTSTART is always an occurrence; a DTSTART outside BYDAY would be repeated by a skip.
  if (byDay.length && !byDay.includes(WEEKDAY_OF[start.dayOfWeek() - 1]!)) return null;
  const interval = recur.interval || 1;
  if (recur.freq === 'DAILY') return byDay.length ? (interval === 1 ? 7 : null) : interval;
  if (recur.freq === 'WEEKLY') return 7 * interval;
  return null;
}

/**
 * A later start for iterating that yields the same occurrences from `fromMs` on: for
 * DAILY/WEEKLY rules without COUNT the pattern repeats every period, so whole periods
 * can be skipped. A daily series started years ago then costs days, not years.
 */
function iterationStart(series: SeriesContext, fromMs: number): ICAL.Time {
  const start = series.masterStart;
  const period = repeatPeriodDays(series.master, start);
  if (!period) return start;
  const startMs = instantOf(start, series.floatingZone);
  // Margin for the event's own length and for zone offsets and DST.
  const spareDays = Math.floor((fromMs - startMs) / 86_400_000) - series.durationDays - 2;
  const periods = Math.floor(spareDays / period) - 1;
  if (periods < 1) return start;
  const skipped = start.clone();
  skipped.adjust(periods * period, 0, 0, 0);
  return skipped;
}

function* recurrenceIds(series: SeriesContext, from: ICAL.Time, max: number, truncated: { value: boolean }): Generator<[ICAL.Time, string]> {
  const expansion = new ICAL.RecurExpansion({ component: series.master, dtstart: from });
  const seen = new Set<string>();
  for (let n = 0; ; n++) {
    if (n >= max) {
      truncated.value = true;
      return;
    }
    let next: ICAL.Time | undefined;
    try {
      next = expansion.next() ?? undefined;
    } catch {
      // ical.js gives up on rules that can never match; so do we.
      return;
    }
    if (!next) return;
    const key = recurrenceKey(next);
    if (seen.has(key)) continue;
    seen.add(key);
    if (series.excluded.keys.has(key) || series.excluded.dates.has(dateKey(next))) continue;
    yield [next, key];
  }
}

/** Occurrences of one calendar object overlapping [rangeStart, rangeEnd), in start order per series. */
export function* expandObject(obj: CalendarObject, options: ExpandOptions): Generator<ExpandedOccurrence> {
  const { rangeStart, rangeEnd, floatingZone } = options;
  const overlaps = (o: ExpandedOccurrence): boolean =>
    o.endMs > rangeStart && (o.startMs < rangeEnd || (o.startMs === o.endMs && o.startMs === rangeStart));

  const series = seriesContext(obj, floatingZone);
  if (!series) {
    // Only overrides were shared with us (an invitation to one occurrence): each stands alone.
    for (const override of obj.overrides) {
      const rid = recurrenceIdOf(override);
      const start = startOf(override);
      if (!rid || !start || isCancelled(override)) continue;
      const end = endOf(override, start);
      const span = spanOf(start, end, floatingZone);
      const key = recurrenceKey(rid);
      const occurrence: ExpandedOccurrence = {
        vevent: override,
        start,
        end,
        instance: { id: instanceId(obj.uid, key), seriesUid: obj.uid, recurrenceId: rid },
        startMs: span.start,
        endMs: span.end,
      };
      if (overlaps(occurrence)) yield occurrence;
    }
    return;
  }

  if (!isRecurring(series.master)) {
    const end = endOf(series.master, series.masterStart);
    const span = spanOf(series.masterStart, end, floatingZone);
    const single: ExpandedOccurrence = { vevent: series.master, start: series.masterStart, end, startMs: span.start, endMs: span.end };
    if (overlaps(single)) yield single;
    return;
  }

  const truncated = { value: false };
  const seen = new Set<string>();
  const from = iterationStart(series, rangeStart);
  const checkedFrom = from === series.masterStart ? Number.NEGATIVE_INFINITY : instantOf(from, floatingZone);
  let stoppedAt = Number.POSITIVE_INFINITY;
  for (const [rid, key] of recurrenceIds(series, from, options.maxIterations ?? MAX_ITERATIONS, truncated)) {
    const ridMs = instantOf(rid, floatingZone);
    if (ridMs >= rangeEnd) {
      stoppedAt = ridMs;
      break;
    }
    seen.add(key);
    const occurrence = occurrenceAt(series, rid, key);
    if (occurrence.vevent !== series.master && isCancelled(occurrence.vevent)) continue;
    if (overlaps(occurrence)) yield occurrence;
  }
  if (truncated.value) {
    options.onTruncated?.(obj.uid);
    stoppedAt = Math.min(stoppedAt, rangeStart);
  }
  // Overrides outside the stretch iterated (skipped ahead of, or beyond where iteration
  // stopped) may have been moved into the range.
  for (const [key, override] of series.overrides) {
    const rid = recurrenceIdOf(override);
    if (!rid || seen.has(key) || series.excluded.keys.has(key)) continue;
    const ridMs = instantOf(rid, floatingZone);
    if (ridMs >= checkedFrom && ridMs < stoppedAt) continue;
    if (isCancelled(override)) continue;
    const occurrence = occurrenceAt(series, rid, key);
    if (overlaps(occurrence)) yield occurrence;
  }
}

/** Whether a series (or single) has anything in the range: the test for listing masters. */
export function hasOccurrenceIn(obj: CalendarObject, options: ExpandOptions): boolean {
  return !expandObject(obj, options).next().done;
}

/** Roughly when a recurrence key happened (floating keys read as UTC: the skip keeps a margin). */
function keyInstant(key: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2}))?/.exec(key);
  if (!m) return Number.NEGATIVE_INFINITY;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
}

/**
 * The occurrence named by `key`, whether generated by the rule or kept as an override.
 * Undefined when the series has no such occurrence (never had, or it was excluded).
 */
export function locateOccurrence(obj: CalendarObject, key: string, floatingZone: string | null): ExpandedOccurrence | undefined {
  const series = seriesContext(obj, floatingZone);
  if (!series) {
    const override = obj.overrides.find((o) => {
      const rid = recurrenceIdOf(o);
      return rid && recurrenceKey(rid) === key;
    });
    const start = override && startOf(override);
    const rid = override && recurrenceIdOf(override);
    if (!override || !start || !rid) return undefined;
    const end = endOf(override, start);
    const span = spanOf(start, end, floatingZone);
    return { vevent: override, start, end, instance: { id: instanceId(obj.uid, key), seriesUid: obj.uid, recurrenceId: rid }, startMs: span.start, endMs: span.end };
  }
  if (!isRecurring(series.master)) return undefined;
  const truncated = { value: false };
  const from = iterationStart(series, keyInstant(key));
  for (const [rid, candidate] of recurrenceIds(series, from, MAX_ITERATIONS, truncated)) {
    if (candidate === key) return occurrenceAt(series, rid, key);
    // Keys of one series share a format, so text order is time order.
    if (candidate.length === key.length && candidate > key) break;
  }
  const override = series.overrides.get(key);
  const rid = override && recurrenceIdOf(override);
  return rid && !series.excluded.keys.has(key) ? occurrenceAt(series, rid, key) : undefined;
}
