/**
 * patternedRecurrence expansion as Graph documents it (resources/recurrencepattern,
 * recurrencerange): daily, weekly (daysOfWeek, firstDayOfWeek), absoluteMonthly
 * (dayOfMonth), relativeMonthly (daysOfWeek + index), absoluteYearly (month +
 * dayOfMonth), relativeYearly (month + daysOfWeek + index); ranges endDate (inclusive),
 * noEnd and numbered. Occurrences repeat on the wall clock of the event's zone.
 * Yields the original start dates of the pattern's slots (deleted ones included: the
 * store drops those), so numbered ranges count every slot.
 */
import type { Wall } from '../google/emulator-time.js';

export interface RecurrencePattern {
  type: 'daily' | 'weekly' | 'absoluteMonthly' | 'relativeMonthly' | 'absoluteYearly' | 'relativeYearly';
  interval: number;
  month?: number;
  dayOfMonth?: number;
  daysOfWeek?: string[];
  firstDayOfWeek?: string;
  index?: 'first' | 'second' | 'third' | 'fourth' | 'last';
}

export interface RecurrenceRange {
  type: 'endDate' | 'noEnd' | 'numbered';
  startDate: string;
  endDate?: string;
  numberOfOccurrences?: number;
  recurrenceTimeZone?: string;
}

export interface PatternedRecurrence {
  pattern: RecurrencePattern;
  range: RecurrenceRange;
}

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const INDEX = { first: 1, second: 2, third: 3, fourth: 4, last: -1 } as const;
const MAX_STEPS = 100_000;

type Ymd = { y: number; mo: number; d: number };

const dayNumber = (x: Ymd): number => Math.floor(Date.UTC(x.y, x.mo - 1, x.d) / 86_400_000);
const fromDayNumber = (n: number): Ymd => {
  const d = new Date(n * 86_400_000);
  return { y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate() };
};
const weekday = (x: Ymd): number => new Date(Date.UTC(x.y, x.mo - 1, x.d)).getUTCDay();
const daysInMonth = (y: number, mo: number): number => new Date(Date.UTC(y, mo, 0)).getUTCDate();
export const parseYmd = (s: string): Ymd => {
  const [y, mo, d] = s.split('-').map(Number);
  return { y: y!, mo: mo!, d: d! };
};

/** A recurrence Graph would refuse with ErrorInvalidRequest / ErrorPropertyValidationFailure, as a message. */
export function validateRecurrence(r: PatternedRecurrence | undefined): string | undefined {
  if (!r?.pattern || !r.range) return 'recurrence needs a pattern and a range';
  const { pattern, range } = r;
  if (!['daily', 'weekly', 'absoluteMonthly', 'relativeMonthly', 'absoluteYearly', 'relativeYearly'].includes(pattern.type)) return 'unknown pattern type';
  if (!(Number.isInteger(pattern.interval) && pattern.interval >= 1)) return 'interval must be a positive integer';
  if (['weekly', 'relativeMonthly', 'relativeYearly'].includes(pattern.type) && !(pattern.daysOfWeek?.length)) return 'daysOfWeek is required';
  if (pattern.daysOfWeek?.some((d) => !DAYS.includes(d))) return 'daysOfWeek holds an unknown day';
  if (['absoluteMonthly', 'absoluteYearly'].includes(pattern.type) && !(pattern.dayOfMonth && pattern.dayOfMonth >= 1 && pattern.dayOfMonth <= 31)) return 'dayOfMonth is required';
  if (['absoluteYearly', 'relativeYearly'].includes(pattern.type) && !(pattern.month && pattern.month >= 1 && pattern.month <= 12)) return 'month is required';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(range.startDate ?? '')) return 'range.startDate is required';
  if (range.type === 'endDate' && !/^\d{4}-\d{2}-\d{2}$/.test(range.endDate ?? '')) return 'range.endDate is required';
  if (range.type === 'numbered' && !(Number.isInteger(range.numberOfOccurrences) && range.numberOfOccurrences! >= 1)) return 'range.numberOfOccurrences is required';
  return undefined;
}

function nthWeekdays(y: number, mo: number, days: number[], index: number): number[] {
  const matches: number[] = [];
  for (let d = 1; d <= daysInMonth(y, mo); d++) if (days.includes(weekday({ y, mo, d }))) matches.push(d);
  // `index` picks among the days matching any of daysOfWeek (e.g. the last weekday of the month).
  const pick = index === -1 ? matches[matches.length - 1] : matches[index - 1];
  return pick === undefined ? [] : [pick];
}

/** Candidate dates of the period number `k` (day, week, month or year since the start). */
function candidates(p: RecurrencePattern, start: Ymd, k: number): Ymd[] {
  const step = k * p.interval;
  const days = (p.daysOfWeek ?? []).map((d) => DAYS.indexOf(d));
  switch (p.type) {
    case 'daily':
      return [fromDayNumber(dayNumber(start) + step)];
    case 'weekly': {
      const first = DAYS.indexOf(p.firstDayOfWeek ?? 'sunday');
      const weekStart = dayNumber(start) - ((weekday(start) - first + 7) % 7) + step * 7;
      const out: Ymd[] = [];
      for (let i = 0; i < 7; i++) {
        const date = fromDayNumber(weekStart + i);
        if (days.includes(weekday(date))) out.push(date);
      }
      return out;
    }
    case 'absoluteMonthly':
    case 'relativeMonthly': {
      const months = start.mo - 1 + step;
      const y = start.y + Math.floor(months / 12);
      const mo = (months % 12) + 1;
      if (p.type === 'absoluteMonthly') return p.dayOfMonth! <= daysInMonth(y, mo) ? [{ y, mo, d: p.dayOfMonth! }] : [];
      return nthWeekdays(y, mo, days, INDEX[p.index ?? 'first']).map((d) => ({ y, mo, d }));
    }
    case 'absoluteYearly':
    case 'relativeYearly': {
      const y = start.y + step;
      const mo = p.month!;
      if (p.type === 'absoluteYearly') return p.dayOfMonth! <= daysInMonth(y, mo) ? [{ y, mo, d: p.dayOfMonth! }] : [];
      return nthWeekdays(y, mo, days, INDEX[p.index ?? 'first']).map((d) => ({ y, mo, d }));
    }
  }
}

/**
 * The dates of the pattern's slots from range.startDate, until the range ends or a date
 * passes `untilDate` (inclusive). The first slot is the first matching date on or after
 * startDate, as Graph places it.
 */
export function slotDates(r: PatternedRecurrence, untilDate: string): string[] {
  const start = parseYmd(r.range.startDate);
  const startDay = dayNumber(start);
  const lastDay = Math.min(
    dayNumber(parseYmd(untilDate)),
    r.range.type === 'endDate' ? dayNumber(parseYmd(r.range.endDate!)) : Number.MAX_SAFE_INTEGER,
  );
  const limit = r.range.type === 'numbered' ? r.range.numberOfOccurrences! : Number.MAX_SAFE_INTEGER;
  const out: string[] = [];
  for (let k = 0; k < MAX_STEPS && out.length < limit; k++) {
    const dates = candidates(r.pattern, start, k);
    let past = false;
    for (const date of dates) {
      const n = dayNumber(date);
      if (n < startDay) continue;
      if (n > lastDay) {
        past = true;
        break;
      }
      out.push(`${date.y}-${String(date.mo).padStart(2, '0')}-${String(date.d).padStart(2, '0')}`);
      if (out.length >= limit) break;
    }
    if (past) break;
    // Periods with no candidate (31st in a short month) still advance.
    if (dates.length > 0 && dayNumber(dates[0]!) > lastDay) break;
  }
  return out;
}

export function withDate(w: Wall, date: string): Wall {
  const d = parseYmd(date);
  return { ...w, y: d.y, mo: d.mo, d: d.d };
}
