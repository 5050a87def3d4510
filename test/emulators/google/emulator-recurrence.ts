/**
 * Recurrence expansion for the emulator, RFC 5545 kept simple: FREQ DAILY / WEEKLY /
 * MONTHLY / YEARLY with INTERVAL, COUNT, UNTIL, BYDAY (weekly), BYMONTHDAY, BYMONTH,
 * and EXDATE. Times repeat on the wall clock of the series' `start.timeZone`, as Google
 * does, so a 10:00 New York meeting stays at 10:00 across daylight-saving changes.
 */
import { basicUtcStamp, dateOnly, dateStartInZone, parseDate, wallAt, wallToInstant } from './emulator-time.js';

export interface Occurrence {
  allDay: boolean;
  /** All-day occurrences: `yyyy-mm-dd`. */
  date?: string;
  endDate?: string;
  /** Timed: the instant. All-day: local midnight of the date in the calendar's zone. */
  startMs: number;
  endMs: number;
  /** Suffix of the instance id: `YYYYMMDDTHHMMSSZ`, or `YYYYMMDD` for all-day. */
  stamp: string;
}

interface SeriesTimes {
  start?: { date?: string; dateTime?: string; timeZone?: string };
  end?: { date?: string; dateTime?: string; timeZone?: string };
  recurrence?: string[];
}

const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
const DAY_MS = 86_400_000;
/** Periods a rule may step through: rules that never match must still end. */
const MAX_PERIODS = 200_000;

interface Rule {
  freq: string;
  interval: number;
  count?: number;
  untilDate?: string;
  untilMs?: number;
  byDay?: number[];
  byMonthDay?: number[];
  byMonth?: number[];
}

function parseRule(line: string): Rule | undefined {
  const map = new Map<string, string>();
  for (const part of line.replace(/^RRULE:/i, '').split(';')) {
    const [k, v] = part.split('=');
    if (k && v !== undefined) map.set(k.toUpperCase(), v.toUpperCase());
  }
  const freq = map.get('FREQ');
  if (!freq || !['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'].includes(freq)) return undefined;
  const rule: Rule = { freq, interval: Math.max(1, Number(map.get('INTERVAL') ?? 1) || 1) };
  if (map.has('COUNT')) rule.count = Number(map.get('COUNT'));
  const until = map.get('UNTIL');
  if (until) {
    const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z?)?$/.exec(until);
    if (m) {
      if (m[4] === undefined) rule.untilDate = `${m[1]}-${m[2]}-${m[3]}`;
      else rule.untilMs = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
    }
  }
  const byDay = map.get('BYDAY');
  if (byDay) rule.byDay = byDay.split(',').map((d) => WEEKDAYS.indexOf(d.slice(-2))).filter((i) => i >= 0).sort();
  const byMonthDay = map.get('BYMONTHDAY');
  if (byMonthDay) rule.byMonthDay = byMonthDay.split(',').map(Number);
  const byMonth = map.get('BYMONTH');
  if (byMonth) rule.byMonth = byMonth.split(',').map(Number).sort((a, b) => a - b);
  return rule;
}

interface Exclusions {
  instants: Set<number>;
  dates: Set<string>;
}

function parseExdates(lines: string[]): Exclusions {
  const ex: Exclusions = { instants: new Set(), dates: new Set() };
  for (const line of lines) {
    const m = /^EXDATE([^:]*):(.*)$/i.exec(line);
    if (!m) continue;
    const tzid = /TZID=([^;:]+)/i.exec(m[1] ?? '')?.[1];
    for (const value of (m[2] ?? '').split(',')) {
      const v = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(value.trim());
      if (!v) continue;
      if (v[4] === undefined) {
        ex.dates.add(`${v[1]}-${v[2]}-${v[3]}`);
        continue;
      }
      const wall = { y: +v[1]!, mo: +v[2]!, d: +v[3]!, h: +v[4]!, mi: +v[5]!, s: +v[6]! };
      ex.instants.add(
        v[7] === 'Z' || !tzid ? Date.UTC(wall.y, wall.mo - 1, wall.d, wall.h, wall.mi, wall.s) : wallToInstant(wall, tzid),
      );
    }
  }
  return ex;
}

const dayNumber = (date: string): number => {
  const { y, mo, d } = parseDate(date);
  return Date.UTC(y, mo - 1, d) / DAY_MS;
};
const dateOfDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
const daysInMonth = (y: number, mo: number): number => new Date(Date.UTC(y, mo, 0)).getUTCDate();

/** Candidate dates of the rule in order, starting from the series' first date. */
function* candidateDates(rule: Rule, first: string): Generator<string> {
  const start = parseDate(first);
  const firstDay = dayNumber(first);
  if (rule.freq === 'DAILY') {
    for (let k = 0; k < MAX_PERIODS; k++) yield dateOfDay(firstDay + k * rule.interval);
  }
  if (rule.freq === 'WEEKLY') {
    const weekday = (new Date(firstDay * DAY_MS).getUTCDay() + 6) % 7; // Monday = 0 (WKST=MO)
    const days = rule.byDay?.length ? rule.byDay : [weekday];
    for (let w = 0; w < MAX_PERIODS; w++) {
      const monday = firstDay - weekday + w * 7 * rule.interval;
      for (const d of days) if (monday + d >= firstDay) yield dateOfDay(monday + d);
    }
  }
  if (rule.freq === 'MONTHLY') {
    const days = rule.byMonthDay ?? [start.d];
    for (let k = 0; k < MAX_PERIODS; k++) {
      const index = start.mo - 1 + k * rule.interval;
      const y = start.y + Math.floor(index / 12);
      const mo = (index % 12) + 1;
      const dim = daysInMonth(y, mo);
      const resolved = days.map((d) => (d < 0 ? dim + d + 1 : d)).filter((d) => d >= 1 && d <= dim).sort((a, b) => a - b);
      for (const d of resolved) {
        const date = dateOnly({ y, mo, d });
        if (dayNumber(date) >= firstDay) yield date;
      }
    }
  }
  if (rule.freq === 'YEARLY') {
    const months = rule.byMonth ?? [start.mo];
    const days = rule.byMonthDay ?? [start.d];
    for (let k = 0; k < MAX_PERIODS; k++) {
      const y = start.y + k * rule.interval;
      for (const mo of months) {
        for (const d of days) {
          if (d < 1 || d > daysInMonth(y, mo)) continue; // Feb 29 only in leap years (RFC 5545)
          const date = dateOnly({ y, mo, d });
          if (dayNumber(date) >= firstDay) yield date;
        }
      }
    }
  }
}

/**
 * Every occurrence of a series that starts before `limitMs` (and at most `cap`), in
 * order, EXDATEs removed. COUNT counts occurrences before EXDATE removal (RFC 5545).
 */
export function expandSeries(series: SeriesTimes, calendarZone: string, limitMs: number, cap = 50_000): Occurrence[] {
  const lines = series.recurrence ?? [];
  const rules = lines.filter((l) => /^RRULE:/i.test(l)).map(parseRule).filter((r): r is Rule => r !== undefined);
  const rule = rules[0];
  if (!rule || !series.start) return [];
  const ex = parseExdates(lines);
  const allDay = series.start.date !== undefined;
  const out: Occurrence[] = [];

  if (allDay) {
    const first = series.start.date!;
    const lengthDays = dayNumber(series.end?.date ?? first) - dayNumber(first) || 1;
    let generated = 0;
    for (const date of candidateDates(rule, first)) {
      if (rule.count !== undefined && generated >= rule.count) break;
      const untilDate = rule.untilDate ?? (rule.untilMs !== undefined ? new Date(rule.untilMs).toISOString().slice(0, 10) : undefined);
      if (untilDate !== undefined && date > untilDate) break;
      const startMs = dateStartInZone(date, calendarZone);
      if (startMs >= limitMs || out.length >= cap) break;
      generated++;
      if (ex.dates.has(date)) continue;
      const endDate = dateOfDay(dayNumber(date) + lengthDays);
      out.push({ allDay, date, endDate, startMs, endMs: dateStartInZone(endDate, calendarZone), stamp: date.replaceAll('-', '') });
    }
    return out;
  }

  const zone = series.start.timeZone ?? calendarZone;
  const firstMs = Date.parse(series.start.dateTime ?? '');
  const durationMs = Date.parse(series.end?.dateTime ?? '') - firstMs || 0;
  const wall = wallAt(firstMs, zone);
  let generated = 0;
  for (const date of candidateDates(rule, dateOnly(wall))) {
    if (rule.count !== undefined && generated >= rule.count) break;
    const startMs = wallToInstant({ ...parseDate(date), h: wall.h, mi: wall.mi, s: wall.s }, zone);
    if (rule.untilMs !== undefined && startMs > rule.untilMs) break;
    if (rule.untilDate !== undefined && date > rule.untilDate) break;
    if (startMs >= limitMs || out.length >= cap) break;
    generated++;
    if (ex.instants.has(startMs)) continue;
    out.push({ allDay, startMs, endMs: startMs + durationMs, stamp: basicUtcStamp(startMs) });
  }
  return out;
}
