/**
 * Where occurrences of a Google series sit, computed from the series itself (its start,
 * `start.timeZone` and RRULE, expanded with ical.js on the wall clock of that zone as
 * Google does): how many the rule generates before a given slot, which slot of another
 * series holds the same position, and the EXDATE lines that name slots.
 *
 * A slot is where an occurrence belongs in its series (RFC 5545 RECURRENCE-ID; Google's
 * `originalStartTime`): moved occurrences keep it, and cancelled or EXDATE'd ones still
 * have one, which is why COUNT counts them.
 */
import ICAL from 'ical.js';
import { resolveIanaZone, wallTimeAt, wallTimeToUtc } from '../../domain/zone-clock.js';
import { utcMidnightMs } from './google-time.js';
import type { GoogleEvent, GoogleEventDateTime } from './google-wire-types.js';

export type Slot = { kind: 'date'; date: string } | { kind: 'instant'; ms: number };

/** Rules that never produce the slot asked for must still end. */
const MAX_ITERATIONS = 100_000;

export const slotKey = (slot: Slot): string => (slot.kind === 'date' ? slot.date : String(slot.ms));

/** Epoch ms of a slot (midnight UTC for dates), to order slots of either kind. */
export const slotMs = (slot: Slot): number => (slot.kind === 'date' ? utcMidnightMs(slot.date) : slot.ms);

export function slotOfTime(value: GoogleEventDateTime | undefined): Slot | undefined {
  if (value?.date) return { kind: 'date', date: value.date };
  const ms = value?.dateTime ? Date.parse(value.dateTime) : Number.NaN;
  return Number.isNaN(ms) ? undefined : { kind: 'instant', ms };
}

/** The slot of an occurrence (its original start), or of a series (its first start). */
export function slotOf(event: GoogleEvent): Slot | undefined {
  return slotOfTime(event.originalStartTime) ?? slotOfTime(event.start);
}

function compare(a: Slot, b: Slot): number {
  return slotMs(a) - slotMs(b);
}

interface SeriesClock {
  allDay: boolean;
  zone: string;
  dtstart: ICAL.Time;
  /** The rule without COUNT and UNTIL: positions are counted, not bounded, here. */
  rule: ICAL.Recur;
}

const rruleLine = (lines: readonly string[] | undefined): string | undefined => lines?.find((l) => /^RRULE:/i.test(l));

/** The zone the series repeats in: its start's zone, else UTC (Google refuses recurring timed events without one). */
function seriesZone(series: GoogleEvent): string {
  return resolveIanaZone(series.start?.timeZone) ?? 'UTC';
}

function clockOf(series: GoogleEvent): SeriesClock | undefined {
  const line = rruleLine(series.recurrence);
  const start = slotOfTime(series.start);
  if (!line || !start) return undefined;
  let rule: ICAL.Recur;
  try {
    rule = ICAL.Recur.fromString(line.replace(/^RRULE:/i, ''));
  } catch {
    return undefined;
  }
  rule.count = null as unknown as number;
  rule.until = null as unknown as ICAL.Time;
  const zone = seriesZone(series);
  if (start.kind === 'date') {
    const [year, month, day] = start.date.split('-').map(Number);
    return { allDay: true, zone, rule, dtstart: ICAL.Time.fromData({ year, month, day, isDate: true }) };
  }
  const w = wallTimeAt(zone, start.ms);
  return {
    allDay: false,
    zone,
    rule,
    dtstart: ICAL.Time.fromData({ year: w.year, month: w.month, day: w.day, hour: w.hour, minute: w.minute, second: w.second, isDate: false }),
  };
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function toSlot(time: ICAL.Time, clock: SeriesClock): Slot {
  if (clock.allDay) return { kind: 'date', date: `${pad(time.year, 4)}-${pad(time.month)}-${pad(time.day)}` };
  return {
    kind: 'instant',
    ms: wallTimeToUtc(clock.zone, { year: time.year, month: time.month, day: time.day, hour: time.hour, minute: time.minute, second: time.second }),
  };
}

/** Every slot the rule generates from the series' start, in order, EXDATEs included. */
function* generatedSlots(clock: SeriesClock): Generator<Slot> {
  const iterator = clock.rule.iterator(clock.dtstart);
  for (let i = 0; i < MAX_ITERATIONS; i++) {
    const next = iterator.next();
    if (!next) return;
    yield toSlot(next, clock);
  }
}

/**
 * How many occurrences the rule generates before `slot`: cancelled, excluded and moved
 * ones included, as RFC 5545 counts them for COUNT. Undefined when the series has no
 * rule this can read.
 */
export function occurrencesBefore(series: GoogleEvent, slot: Slot): number | undefined {
  const clock = clockOf(series);
  if (!clock) return undefined;
  let n = 0;
  for (const generated of generatedSlots(clock)) {
    if (compare(generated, slot) >= 0) break;
    n += 1;
  }
  return n;
}

/**
 * For each slot of `from` at or after `split`, the slot in the same position of `to`
 * (counted from its start): where an occurrence of the old series lands in a series that
 * continues it with other times. Slots `from` does not generate are left out.
 */
export function mapSlots(from: GoogleEvent, split: Slot, to: GoogleEvent, slots: readonly Slot[]): Map<string, Slot> {
  const mapped = new Map<string, Slot>();
  const fromClock = clockOf(from);
  const toClock = clockOf(to);
  if (!fromClock || !toClock) {
    // A rule this cannot read: slots stay where they are when the new series starts where the split is.
    const start = slotOfTime(to.start);
    if (start && slotKey(start) === slotKey(split)) for (const slot of slots) mapped.set(slotKey(slot), slot);
    return mapped;
  }
  if (slots.length === 0) return mapped;
  const wanted = new Set(slots.map(slotKey));
  const last = slots.reduce((max, s) => (compare(s, max) > 0 ? s : max));
  const positions = new Map<string, number>();
  let index = 0;
  for (const generated of generatedSlots(fromClock)) {
    if (compare(generated, last) > 0) break;
    if (compare(generated, split) < 0) continue;
    if (wanted.has(slotKey(generated))) positions.set(slotKey(generated), index);
    index += 1;
  }
  if (positions.size === 0) return mapped;
  const byPosition = new Map([...positions].map(([key, position]) => [position, key]));
  const lastPosition = Math.max(...byPosition.keys());
  let position = 0;
  for (const generated of generatedSlots(toClock)) {
    if (position > lastPosition) break;
    const key = byPosition.get(position);
    if (key !== undefined) mapped.set(key, generated);
    position += 1;
  }
  return mapped;
}

/** The slots a series' EXDATE lines exclude (`EXDATE;TZID=…:…`, `EXDATE:…Z`, `EXDATE;VALUE=DATE:…`). */
export function exdateSlots(series: GoogleEvent): Slot[] {
  const allDay = series.start?.date !== undefined;
  const zone = seriesZone(series);
  const slots: Slot[] = [];
  for (const line of series.recurrence ?? []) {
    const m = /^EXDATE([^:]*):(.*)$/i.exec(line.trim());
    if (!m) continue;
    const tzid = /;TZID=([^;:]+)/i.exec(m[1] ?? '')?.[1];
    const lineZone = resolveIanaZone(tzid) ?? zone;
    for (const value of (m[2] ?? '').split(',')) {
      const v = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(value.trim());
      if (!v) continue;
      const [year, month, day] = [Number(v[1]), Number(v[2]), Number(v[3])];
      if (allDay) {
        slots.push({ kind: 'date', date: `${v[1]}-${v[2]}-${v[3]}` });
        continue;
      }
      if (v[4] === undefined) continue; // a date cannot exclude a timed occurrence
      const wall = { year, month, day, hour: Number(v[4]), minute: Number(v[5]), second: Number(v[6]) };
      slots.push({ kind: 'instant', ms: v[7] ? Date.UTC(year, month - 1, day, wall.hour, wall.minute, wall.second) : wallTimeToUtc(lineZone, wall) });
    }
  }
  return slots;
}

/**
 * One EXDATE line for `slots` of `series`, in the value type and zone of its start
 * (RFC 5545 §3.8.5.1): dates for all-day series, wall times with the start's TZID
 * otherwise.
 */
export function exdateLine(series: GoogleEvent, slots: readonly Slot[]): string | undefined {
  if (slots.length === 0) return undefined;
  const sorted = [...slots].sort(compare);
  if (series.start?.date !== undefined) {
    return `EXDATE;VALUE=DATE:${sorted.map((s) => (s.kind === 'date' ? s.date : new Date(s.ms).toISOString().slice(0, 10)).replaceAll('-', '')).join(',')}`;
  }
  const zone = seriesZone(series);
  const stamp = (ms: number): string => {
    const w = wallTimeAt(zone, ms);
    return `${pad(w.year, 4)}${pad(w.month)}${pad(w.day)}T${pad(w.hour)}${pad(w.minute)}${pad(w.second)}`;
  };
  const values = sorted.map((s) => stamp(slotMs(s)));
  return zone === 'UTC' ? `EXDATE:${values.map((v) => `${v}Z`).join(',')}` : `EXDATE;TZID=${zone}:${values.join(',')}`;
}
