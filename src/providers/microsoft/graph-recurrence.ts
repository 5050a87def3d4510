/**
 * Graph's patternedRecurrence ↔ Almanac's recurrence object (API.md, RFC 5545 terms),
 * and slot arithmetic for splitting a series: how many slots a pattern places before a
 * date, counted with ical.js from the equivalent RRULE (deleted occurrences still hold
 * their slot, so a numbered range counts them).
 */
import ICAL from 'ical.js';
import type { ByDay, Recurrence, Weekday } from '../../domain/calendar.js';
import { wallTimeAt, wallTimeToUtc } from '../../domain/zone-clock.js';
import { ProviderError } from '../types.js';
import { localDate, windowsZoneOf } from './graph-time.js';
import type { GraphRecurrence, GraphRecurrencePattern } from './graph-wire-types.js';

const DAYS: Record<string, Weekday> = { sunday: 'SU', monday: 'MO', tuesday: 'TU', wednesday: 'WE', thursday: 'TH', friday: 'FR', saturday: 'SA' };
const GRAPH_DAYS = Object.fromEntries(Object.entries(DAYS).map(([k, v]) => [v, k])) as Record<Weekday, string>;
const INDEX: Record<string, number> = { first: 1, second: 2, third: 3, fourth: 4, last: -1 };
const INDEX_NAMES: Record<number, GraphRecurrencePattern['index']> = { 1: 'first', 2: 'second', 3: 'third', 4: 'fourth', [-1]: 'last' };
const MAX_SLOTS = 100_000;

const invalid = (message: string): ProviderError => new ProviderError('INVALID_INPUT', `Microsoft cannot store this recurrence: ${message}`);

/** Graph's pattern as an Almanac recurrence; `zone` is the series' IANA zone (for `until`). */
export function toRecurrence(r: GraphRecurrence, zone: string): Recurrence | undefined {
  const p = r.pattern;
  const days = (p.daysOfWeek ?? []).map((d) => DAYS[d.toLowerCase()]).filter((d): d is Weekday => d !== undefined);
  const ordinal = INDEX[p.index ?? 'first'] ?? 1;
  const out: Recurrence = { frequency: 'DAILY' };
  switch (p.type) {
    case 'daily':
      out.frequency = 'DAILY';
      break;
    case 'weekly':
      out.frequency = 'WEEKLY';
      if (days.length) out.byDay = days;
      break;
    case 'absoluteMonthly':
      out.frequency = 'MONTHLY';
      if (p.dayOfMonth) out.byMonthDay = [p.dayOfMonth];
      break;
    case 'relativeMonthly':
      out.frequency = 'MONTHLY';
      out.byDay = days.map((d) => `${ordinal}${d}` as ByDay);
      break;
    case 'absoluteYearly':
      out.frequency = 'YEARLY';
      if (p.month) out.byMonth = [p.month];
      if (p.dayOfMonth) out.byMonthDay = [p.dayOfMonth];
      break;
    case 'relativeYearly':
      out.frequency = 'YEARLY';
      if (p.month) out.byMonth = [p.month];
      out.byDay = days.map((d) => `${ordinal}${d}` as ByDay);
      break;
    default:
      return undefined;
  }
  if (p.interval && p.interval > 1) out.interval = p.interval;
  if (r.range.type === 'numbered' && r.range.numberOfOccurrences) out.count = r.range.numberOfOccurrences;
  if (r.range.type === 'endDate' && r.range.endDate) {
    // The range ends with its end date, inclusive, in the series' zone.
    const [year, month, day] = r.range.endDate.split('-').map(Number);
    const last = wallTimeToUtc(zone, { year: year!, month: month!, day: day!, hour: 23, minute: 59, second: 59 });
    out.until = new Date(last).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  }
  return out;
}

/**
 * An Almanac recurrence as Graph's pattern, for a series starting on `startDate` in
 * `zone` (at `startMs` when timed: an UNTIL instant falling before that time of day on
 * its own date ends the range a day earlier).
 */
export function toGraphRecurrence(rec: Recurrence, startDate: string, zone: string, startMs?: number): GraphRecurrence {
  const [year, month, day] = startDate.split('-').map(Number);
  const startWall = { year: year!, month: month!, day: day! };
  const weekdayOfStart = (['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'] as Weekday[])[new Date(Date.UTC(year!, month! - 1, day!)).getUTCDay()]!;
  const interval = rec.interval ?? 1;
  const plain = (rec.byDay ?? []).map((d) => /^(-?\d+)?(MO|TU|WE|TH|FR|SA|SU)$/.exec(d)).filter((m): m is RegExpExecArray => m !== null);
  if (plain.length !== (rec.byDay ?? []).length) throw invalid('byDay holds an unknown day');
  const ordinals = new Set(plain.map((m) => (m[1] === undefined ? undefined : Number(m[1]))));
  const daysOf = (list: RegExpExecArray[]): string[] => list.map((m) => GRAPH_DAYS[m[2] as Weekday]);
  let pattern: GraphRecurrencePattern;
  switch (rec.frequency) {
    case 'DAILY':
      if (plain.length) {
        if (interval !== 1 || [...ordinals].some((o) => o !== undefined)) throw invalid('a daily rule limited to some days must repeat every day');
        pattern = { type: 'weekly', interval: 1, daysOfWeek: daysOf(plain), firstDayOfWeek: 'monday' };
      } else pattern = { type: 'daily', interval };
      break;
    case 'WEEKLY':
      if ([...ordinals].some((o) => o !== undefined)) throw invalid('weekly rules take plain days');
      pattern = { type: 'weekly', interval, daysOfWeek: plain.length ? daysOf(plain) : [GRAPH_DAYS[weekdayOfStart]], firstDayOfWeek: 'monday' };
      break;
    case 'MONTHLY':
    case 'YEARLY': {
      const yearly = rec.frequency === 'YEARLY';
      if ((rec.byMonth?.length ?? 0) > 1) throw invalid('only one month per rule');
      const month = yearly ? (rec.byMonth?.[0] ?? startWall.month) : undefined;
      if (plain.length) {
        if (ordinals.size !== 1) throw invalid('every day in byDay needs the same position');
        const ordinal = [...ordinals][0];
        const index = ordinal === undefined ? undefined : INDEX_NAMES[ordinal];
        if (!index) throw invalid('positions run from 1 to 4, or -1 for the last');
        pattern = { type: yearly ? 'relativeYearly' : 'relativeMonthly', interval, daysOfWeek: daysOf(plain), index, ...(month ? { month } : {}) };
      } else {
        if ((rec.byMonthDay?.length ?? 0) > 1) throw invalid('only one day of the month per rule');
        const dayOfMonth = rec.byMonthDay?.[0] ?? startWall.day;
        if (dayOfMonth < 1) throw invalid('days of the month count from 1');
        pattern = { type: yearly ? 'absoluteYearly' : 'absoluteMonthly', interval, dayOfMonth, ...(month ? { month } : {}) };
      }
      break;
    }
    default:
      throw invalid('unknown frequency');
  }
  const base = { startDate, recurrenceTimeZone: windowsZoneOf(zone) };
  if (rec.count !== undefined) return { pattern, range: { ...base, type: 'numbered', numberOfOccurrences: rec.count } };
  if (rec.until !== undefined) {
    const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/.exec(rec.until);
    if (!m) throw invalid('until must be YYYYMMDDTHHMMSSZ');
    const untilMs = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 23), +(m[5] ?? 59), +(m[6] ?? 59));
    let endDate = localDate(untilMs, zone);
    if (startMs !== undefined) {
      const t = wallTimeAt(zone, startMs);
      const [y, mo, d] = endDate.split('-').map(Number);
      const lastStart = wallTimeToUtc(zone, { year: y!, month: mo!, day: d!, hour: t.hour, minute: t.minute, second: t.second });
      if (lastStart > untilMs) endDate = new Date(Date.UTC(y!, mo! - 1, d! - 1)).toISOString().slice(0, 10);
    }
    return { pattern, range: { ...base, type: 'endDate', endDate } };
  }
  return { pattern, range: { ...base, type: 'noEnd' } };
}

/** RFC 5545 text of a pattern, without its range. */
function ruleText(p: GraphRecurrencePattern): string {
  const rec = toRecurrence({ pattern: p, range: { type: 'noEnd', startDate: '1970-01-01' } }, 'UTC');
  if (!rec) throw invalid('unknown pattern');
  const parts = [`FREQ=${rec.frequency}`, `INTERVAL=${p.interval || 1}`, 'WKST=' + (DAYS[(p.firstDayOfWeek ?? 'sunday').toLowerCase()] ?? 'SU')];
  if (rec.byDay?.length) parts.push(`BYDAY=${rec.byDay.join(',')}`);
  if (rec.byMonthDay?.length) parts.push(`BYMONTHDAY=${rec.byMonthDay.join(',')}`);
  if (rec.byMonth?.length) parts.push(`BYMONTH=${rec.byMonth.join(',')}`);
  return parts.join(';');
}

/** The slot dates (`yyyy-mm-dd`) the pattern places from its start date, before `beforeDate`. */
export function slotDatesBefore(r: GraphRecurrence, beforeDate: string): string[] {
  const recur = ICAL.Recur.fromString(ruleText(r.pattern));
  const [year, month, day] = r.range.startDate.split('-').map(Number);
  const iterator = recur.iterator(ICAL.Time.fromData({ year: year!, month: month!, day: day!, isDate: true }));
  const out: string[] = [];
  for (let i = 0; i < MAX_SLOTS; i++) {
    const next = iterator.next();
    if (!next) break;
    const date = `${String(next.year).padStart(4, '0')}-${String(next.month).padStart(2, '0')}-${String(next.day).padStart(2, '0')}`;
    if (date >= beforeDate) break;
    if (r.range.type === 'endDate' && r.range.endDate && date > r.range.endDate) break;
    if (r.range.type === 'numbered' && out.length >= (r.range.numberOfOccurrences ?? 0)) break;
    out.push(date);
  }
  return out;
}
