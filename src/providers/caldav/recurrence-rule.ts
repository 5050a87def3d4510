/** The API's Recurrence object and iCalendar RRULEs, both ways. */
import ICAL from 'ical.js';
import type { ByDay, Frequency, Recurrence } from '../../domain/calendar.js';
import { ProviderError } from '../types.js';
import type { TimeStyle } from './ics-time.js';

const FREQUENCIES: readonly Frequency[] = ['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'];
const BY_DAY = /^([+-]?(?:[1-9]|[1-4]\d|5[0-3]))?(MO|TU|WE|TH|FR|SA|SU)$/;

function isByDay(value: string): value is ByDay {
  return BY_DAY.test(value);
}

function invalid(message: string): ProviderError {
  return new ProviderError('INVALID_INPUT', message);
}

/** `YYYYMMDDTHHMMSSZ` (or a date) to milliseconds. */
export function parseUntil(until: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z?)?$/.exec(until.trim());
  if (!m) throw invalid('recurrence.until must look like YYYYMMDDTHHMMSSZ');
  const [, y, mo, d, h = '23', mi = '59', s = '59'] = m;
  return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
}

/**
 * An RRULE value for `recurrence`, its UNTIL expressed as RFC 5545 §3.3.10 requires
 * for a DTSTART of `style`: a DATE for dates, floating for floating times, UTC otherwise.
 */
export function toRecur(recurrence: Recurrence, style: TimeStyle): ICAL.Recur {
  if (!FREQUENCIES.includes(recurrence.frequency)) throw invalid('recurrence.frequency must be DAILY, WEEKLY, MONTHLY or YEARLY');
  if (recurrence.count !== undefined && recurrence.until !== undefined) throw invalid('recurrence.count and recurrence.until are exclusive');
  const data: Record<string, unknown> = { freq: recurrence.frequency };
  if (recurrence.interval !== undefined) {
    if (!Number.isInteger(recurrence.interval) || recurrence.interval < 1) throw invalid('recurrence.interval must be a positive integer');
    data.interval = recurrence.interval;
  }
  if (recurrence.count !== undefined) {
    if (!Number.isInteger(recurrence.count) || recurrence.count < 1) throw invalid('recurrence.count must be a positive integer');
    data.count = recurrence.count;
  }
  const recur = ICAL.Recur.fromData(data as never);
  if (recurrence.until !== undefined) {
    const ms = parseUntil(recurrence.until);
    const d = new Date(ms);
    const base = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
    recur.until =
      style.kind === 'date'
        ? ICAL.Time.fromData({ ...base, isDate: true })
        : ICAL.Time.fromData(
            { ...base, hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), isDate: false },
            style.kind === 'floating' ? undefined : ICAL.Timezone.utcTimezone,
          );
  }
  if (recurrence.byDay?.length) {
    if (!recurrence.byDay.every((d) => typeof d === 'string' && isByDay(d))) {
      throw invalid('recurrence.byDay takes MO…SU, optionally with an ordinal such as 1MO or -1FR');
    }
    recur.setComponent('BYDAY', recurrence.byDay.map((d) => d.replace(/^\+/, '')) as never);
  }
  if (recurrence.byMonthDay?.length) {
    if (!recurrence.byMonthDay.every((n) => Number.isInteger(n) && n !== 0 && n >= -31 && n <= 31)) {
      throw invalid('recurrence.byMonthDay takes 1..31 or -31..-1');
    }
    recur.setComponent('BYMONTHDAY', [...recurrence.byMonthDay]);
  }
  if (recurrence.byMonth?.length) {
    if (!recurrence.byMonth.every((n) => Number.isInteger(n) && n >= 1 && n <= 12)) throw invalid('recurrence.byMonth takes 1..12');
    recur.setComponent('BYMONTH', [...recurrence.byMonth]);
  }
  return recur;
}

function stamp(time: ICAL.Time): string {
  const ms = time.isDate ? Date.UTC(time.year, time.month - 1, time.day, 23, 59, 59) : time.toUnixTime() * 1000;
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** The parts of an RRULE the API can express (BYSETPOS, BYWEEKNO and the like are left out). */
export function fromRecur(recur: ICAL.Recur): Recurrence | undefined {
  const frequency = recur.freq as Frequency;
  if (!FREQUENCIES.includes(frequency)) return undefined;
  const out: Recurrence = { frequency };
  if (recur.interval && recur.interval !== 1) out.interval = recur.interval;
  if (recur.count) out.count = recur.count;
  if (recur.until) out.until = stamp(recur.until);
  const byDay = (recur.getComponent('BYDAY') as string[]).map(String).filter(isByDay);
  if (byDay.length) out.byDay = byDay;
  const byMonthDay = recur.getComponent('BYMONTHDAY') as number[];
  if (byMonthDay.length) out.byMonthDay = byMonthDay.map(Number);
  const byMonth = recur.getComponent('BYMONTH') as number[];
  if (byMonth.length) out.byMonth = byMonth.map(Number);
  return out;
}
