/**
 * Builds a VTIMEZONE for an IANA zone from the runtime's tz data. RFC 5545 wants one
 * for every TZID written, and some servers (iCloud among them) hand out TZIDs with
 * none. Transitions are found by scanning the offsets of a window of years; yearly
 * patterns ("last Sunday of March") become RRULEs so the definition stays valid
 * after the window, which matters for open-ended series.
 */
import ICAL from 'ical.js';
import { offsetAt, wallTimeAt, type WallTime, utcWallTime } from '../../domain/zone-clock.js';

interface Transition {
  utc: number;
  from: number;
  to: number;
  /** Wall time just before the change, in the `from` offset (what DTSTART means in an observance). */
  wall: WallTime;
}

const DAY = 86_400_000;
const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'] as const;

function findChange(zone: string, lo: number, hi: number, loOffset: number): number {
  // Invariant: offset(lo) === loOffset, offset(hi) !== loOffset. One-second precision.
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(zone, mid) === loOffset) lo = mid;
    else hi = mid;
  }
  return hi;
}

function transitionsIn(zone: string, start: number, end: number): Transition[] {
  const out: Transition[] = [];
  let t = start;
  let current = offsetAt(zone, t);
  // A week step is safe: no zone changes offset twice within seven days.
  while (t < end) {
    const next = Math.min(t + 7 * DAY, end);
    const offset = offsetAt(zone, next);
    if (offset !== current) {
      const utc = findChange(zone, t, next, current);
      const to = offsetAt(zone, utc);
      out.push({ utc, from: current, to, wall: utcWallTime(utc + current) });
      current = to;
      t = utc;
    } else {
      t = next;
    }
  }
  return out;
}

function pad(n: number, width = 2): string {
  return String(Math.abs(n)).padStart(width, '0');
}

function formatOffset(ms: number): string {
  const total = Math.round(ms / 1000);
  const sign = total < 0 ? '-' : '+';
  const abs = Math.abs(total);
  const seconds = abs % 60;
  return `${sign}${pad(Math.floor(abs / 3600))}${pad(Math.floor(abs / 60) % 60)}${seconds ? pad(seconds) : ''}`;
}

function formatWall(w: WallTime): string {
  return `${pad(w.year, 4)}${pad(w.month)}${pad(w.day)}T${pad(w.hour)}${pad(w.minute)}${pad(w.second)}`;
}

function formatUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The yearly rules a transition satisfies, most specific first. */
function ruleCandidates(w: WallTime): string[] {
  const weekday = WEEKDAYS[new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay()]!;
  const out: string[] = [];
  if (w.day + 7 > daysInMonth(w.year, w.month)) out.push(`BYDAY=-1${weekday}`);
  out.push(`BYDAY=${Math.ceil(w.day / 7)}${weekday}`, `BYMONTHDAY=${w.day}`);
  return out;
}

interface Run {
  items: Transition[];
  rules: string[];
}

function observance(run: Run, openEnded: boolean): string[] {
  const first = run.items[0]!;
  const last = run.items[run.items.length - 1]!;
  const kind = first.to > first.from ? 'DAYLIGHT' : 'STANDARD';
  const lines = [
    `BEGIN:${kind}`,
    `TZOFFSETFROM:${formatOffset(first.from)}`,
    `TZOFFSETTO:${formatOffset(first.to)}`,
    `DTSTART:${formatWall(first.wall)}`,
  ];
  if (run.items.length > 1 || openEnded) {
    const until = openEnded ? '' : `;UNTIL=${formatUtc(last.utc)}`;
    lines.push(`RRULE:FREQ=YEARLY;BYMONTH=${first.wall.month};${run.rules[0]}${until}`);
  }
  lines.push(`END:${kind}`);
  return lines;
}

const cache = new Map<string, string>();

/**
 * VTIMEZONE text for `zone` valid from January 1st of `fromYear`; the yearly rule in
 * force at the end of `toYear` continues indefinitely.
 */
export function buildVtimezone(zone: string, fromYear: number, toYear: number): string {
  const key = `${zone}|${fromYear}|${toYear}`;
  const cached = cache.get(key);
  if (cached) return cached;

  const start = Date.UTC(fromYear, 0, 1);
  const end = Date.UTC(toYear + 1, 0, 1);
  const initial = offsetAt(zone, start);
  const lines = ['BEGIN:VTIMEZONE', `TZID:${zone}`, `X-LIC-LOCATION:${zone}`];
  // ical.js reads times before the first observance as UTC, so the window opens with one.
  lines.push(
    'BEGIN:STANDARD',
    `TZOFFSETFROM:${formatOffset(initial)}`,
    `TZOFFSETTO:${formatOffset(initial)}`,
    `DTSTART:${formatWall(wallTimeAt(zone, start))}`,
    'END:STANDARD',
  );

  const groups = new Map<string, Transition[]>();
  for (const t of transitionsIn(zone, start, end)) {
    const w = t.wall;
    const groupKey = `${t.from}|${t.to}|${w.month}|${w.hour}:${w.minute}:${w.second}`;
    const group = groups.get(groupKey) ?? [];
    group.push(t);
    groups.set(groupKey, group);
  }
  for (const group of groups.values()) {
    let run: Run | null = null;
    const runs: Run[] = [];
    for (const t of group) {
      const candidates = ruleCandidates(t.wall);
      const previous: Transition | undefined = run?.items[run.items.length - 1];
      const shared: string[] = run ? run.rules.filter((r) => candidates.includes(r)) : [];
      if (run && previous && previous.wall.year + 1 === t.wall.year && shared.length) {
        run.items.push(t);
        run.rules = shared;
      } else {
        run = { items: [t], rules: candidates };
        runs.push(run);
      }
    }
    for (const r of runs) {
      const lastYear = r.items[r.items.length - 1]!.wall.year;
      // A rule seen in each of the last years of the window is taken to continue.
      lines.push(...observance(r, r.items.length > 1 && lastYear >= toYear));
    }
  }
  lines.push('END:VTIMEZONE');
  const text = lines.join('\r\n');
  cache.set(key, text);
  return text;
}

/** The same, as an ical.js component ready to add to a VCALENDAR. */
export function buildVtimezoneComponent(zone: string, fromYear: number, toYear: number): ICAL.Component {
  return new ICAL.Component(ICAL.parse(`BEGIN:VCALENDAR\r\n${buildVtimezone(zone, fromYear, toYear)}\r\nEND:VCALENDAR`)).getFirstSubcomponent(
    'vtimezone',
  )!;
}
