/**
 * Almanac's Recurrence ↔ the RFC 5545 lines of Google's `recurrence` array
 * (`RRULE:…`, `EXDATE:…`, `RDATE:…`; Google keeps DTSTART in `start` instead).
 */
import type { Frequency, Recurrence, Weekday } from '../../domain/calendar.js';
import { addDays } from './google-time.js';

const FREQUENCIES: readonly Frequency[] = ['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'];
const WEEKDAYS: readonly Weekday[] = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];

type RuleParts = Map<string, string>;

function parseRule(line: string): RuleParts {
  const parts: RuleParts = new Map();
  for (const pair of line.replace(/^RRULE:/i, '').split(';')) {
    const [key, value] = pair.split('=');
    if (key && value !== undefined) parts.set(key.toUpperCase(), value);
  }
  return parts;
}

function formatRule(parts: RuleParts): string {
  // FREQ first: RFC 5545 allows any order, but some consumers of Google's data expect it there.
  const ordered = [...parts].sort(([a], [b]) => (a === 'FREQ' ? -1 : b === 'FREQ' ? 1 : 0));
  return `RRULE:${ordered.map(([k, v]) => `${k}=${v}`).join(';')}`;
}

const isRule = (line: string): boolean => /^RRULE:/i.test(line);

const numbers = (value: string | undefined): number[] | undefined => {
  if (value === undefined) return undefined;
  const list = value.split(',').map(Number).filter(Number.isInteger);
  return list.length > 0 ? list : undefined;
};

/** The first RRULE as Almanac's Recurrence; undefined when absent or not expressible. */
export function parseGoogleRecurrence(lines: readonly string[] | undefined): Recurrence | undefined {
  const line = lines?.find(isRule);
  if (!line) return undefined;
  const parts = parseRule(line);
  const frequency = parts.get('FREQ')?.toUpperCase() as Frequency | undefined;
  if (!frequency || !FREQUENCIES.includes(frequency)) return undefined;
  const recurrence: Recurrence = { frequency };
  const interval = Number(parts.get('INTERVAL'));
  if (Number.isInteger(interval) && interval > 1) recurrence.interval = interval;
  const count = Number(parts.get('COUNT'));
  if (Number.isInteger(count) && count > 0) recurrence.count = count;
  const until = parts.get('UNTIL');
  if (until) recurrence.until = normalizeUntil(until);
  // Ordinal weekdays (`-1FR`) have no place in Almanac's shape; they stay visible in `original`.
  const byDay = parts
    .get('BYDAY')
    ?.split(',')
    .filter((d): d is Weekday => (WEEKDAYS as readonly string[]).includes(d.toUpperCase()))
    .map((d) => d.toUpperCase() as Weekday);
  if (byDay && byDay.length > 0) recurrence.byDay = byDay;
  const byMonthDay = numbers(parts.get('BYMONTHDAY'));
  if (byMonthDay) recurrence.byMonthDay = byMonthDay;
  const byMonth = numbers(parts.get('BYMONTH'));
  if (byMonth) recurrence.byMonth = byMonth;
  return recurrence;
}

/** `20251120` (an all-day rule) → `20251120T000000Z`; a floating time is read as UTC. */
function normalizeUntil(value: string): string {
  if (/^\d{8}$/.test(value)) return `${value}T000000Z`;
  if (/^\d{8}T\d{6}$/.test(value)) return `${value}Z`;
  return value;
}

/** Almanac's Recurrence as Google's `recurrence` array. */
export function formatGoogleRecurrence(recurrence: Recurrence, allDay: boolean): string[] {
  const parts: RuleParts = new Map([['FREQ', recurrence.frequency]]);
  if (recurrence.interval !== undefined && recurrence.interval > 1) parts.set('INTERVAL', String(recurrence.interval));
  if (recurrence.count !== undefined) parts.set('COUNT', String(recurrence.count));
  if (recurrence.until !== undefined) {
    // RFC 5545: UNTIL takes the value type of DTSTART, a DATE for all-day series.
    parts.set('UNTIL', allDay ? recurrence.until.slice(0, 8) : recurrence.until);
  }
  if (recurrence.byDay?.length) parts.set('BYDAY', recurrence.byDay.join(','));
  if (recurrence.byMonthDay?.length) parts.set('BYMONTHDAY', recurrence.byMonthDay.join(','));
  if (recurrence.byMonth?.length) parts.set('BYMONTH', recurrence.byMonth.join(','));
  return [formatRule(parts)];
}

export function recurrenceCount(lines: readonly string[]): number | undefined {
  const count = Number(parseRule(lines.find(isRule) ?? '').get('COUNT'));
  return Number.isInteger(count) && count > 0 ? count : undefined;
}

/**
 * The series' lines ending just before an occurrence: UNTIL one second before a timed
 * start, or the day before an all-day one; COUNT goes (RFC 5545 forbids both together).
 */
export function endRecurrenceBefore(
  lines: readonly string[],
  occurrence: { allDay: boolean; startMs: number; date?: string },
): string[] {
  const until = occurrence.allDay
    ? addDays(occurrence.date ?? new Date(occurrence.startMs).toISOString().slice(0, 10), -1).replaceAll('-', '')
    : basicUtc(occurrence.startMs - 1000);
  return lines.map((line) => {
    if (!isRule(line)) return line;
    const parts = parseRule(line);
    parts.delete('COUNT');
    parts.set('UNTIL', until);
    return formatRule(parts);
  });
}

/** The same lines with COUNT replaced (for the remainder of a split series). */
export function withCount(lines: readonly string[], count: number): string[] {
  return lines.map((line) => {
    if (!isRule(line)) return line;
    const parts = parseRule(line);
    parts.delete('UNTIL');
    parts.set('COUNT', String(count));
    return formatRule(parts);
  });
}

/** `YYYYMMDDTHHMMSSZ` */
export function basicUtc(instantMs: number): string {
  return new Date(instantMs).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
