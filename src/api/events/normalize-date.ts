/**
 * Dates as applications actually send them (API.md, GET /api/events): ISO 8601 with
 * the usual damage of hand-built query strings repaired before parsing.
 *
 * Accepted, after trimming:
 * - date-only `2025-01-31` (see DateEdge for what time of day it means);
 * - `T` or a space between date and time (`t` too);
 * - `HH:MM`, `HH:MM:SS`, `HH:MM:SS.fff…` (1–9 fraction digits, `.` or `,`; kept to ms);
 * - `Z`, `±HH:MM`, `±HHMM`, `±HH`, or no zone at all (= UTC);
 * - a space, then `UTC`, `GMT` (any case) or a signed offset: how Ruby's `Time#to_s`
 *   writes times (`2031-03-10 10:00:00 UTC`, `2031-03-10 11:00:00 +0100`), which the
 *   Ruby SDK sends as is;
 * - an offset whose `+` was decoded to a space by an unencoded query (`10:00:00 01:00`).
 * Everything else, including impossible calendar dates (`2025-02-30`) and leap seconds,
 * is a ValidationError naming the parameter.
 */
import { ValidationError } from '../../domain/errors.js';

/**
 * Which end of a range a value is.
 * - `start`: a date-only value is 00:00:00Z of that date.
 * - `end`: a date-only value names the last day *included* in the range, so it becomes
 *   00:00:00Z of the following day (ranges are half-open, events overlap when
 *   `event.start < end`). `end=2025-01-31` therefore includes every event of Jan 31,
 *   including one that starts at 23:59:59.5Z, which an end of 23:59:59Z would miss.
 */
export type DateEdge = 'start' | 'end';

const DAY_MS = 86_400_000;
/** Longest accepted raw value: no legitimate date needs more, hostile input gets cut short. */
const MAX_LENGTH = 64;
/**
 * The widest accepted span of a GET /api/events range: 20 years. Paging bounds the work of
 * a page, so this only turns away ranges no calendar question needs (year 1 to 9999).
 */
export const MAX_RANGE_DAYS = 7305;

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
// date [T|t|space] HH:MM[:SS[.frac]] [zone]; zone = Z | [space]UTC | [space]GMT |
// [space]±HH[:MM] | [space]±HHMM | " HH:MM" / " HHMM" (the last two: a `+` that arrived as a space).
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz]| ?(?:[Uu][Tt][Cc]|[Gg][Mm][Tt]))| ?([+\-])(\d{2})(?::?(\d{2}))?|( )(\d{2})(?::?(\d{2}))?)?$/;

function invalid(param: string): ValidationError {
  return new ValidationError(`Invalid ${param}: expected an ISO 8601 date or date-time such as 2025-01-31 or 2025-01-31T10:00:00Z`, [
    { field: param, message: 'not a valid ISO 8601 date or date-time' },
  ]);
}

/** Milliseconds of a UTC wall time, or undefined when a field is out of range. */
function utcMillis(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number | undefined {
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 onto 1900–1999.
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, ms);
  // Reject rollovers such as Feb 30 → Mar 2.
  if (date.getUTCDate() !== d || date.getUTCMonth() !== mo - 1) return undefined;
  return date.getTime();
}

/** True for `YYYY-MM-DD` and nothing else (after trimming). */
export function isDateOnly(value: string): boolean {
  return DATE_ONLY.test(value.trim());
}

/**
 * Parses one API date. `param` names the parameter in the error (defaults to `edge`,
 * which is right for the `start`/`end` query parameters).
 */
export function parseApiDate(value: string, edge: DateEdge, param: string = edge): Date {
  if (typeof value !== 'string' || value.length > MAX_LENGTH) throw invalid(param);
  const text = value.trim();

  const dateOnly = DATE_ONLY.exec(text);
  if (dateOnly) {
    const ms = utcMillis(Number(dateOnly[1]), Number(dateOnly[2]), Number(dateOnly[3]));
    if (ms === undefined) throw invalid(param);
    return new Date(edge === 'end' ? ms + DAY_MS : ms);
  }

  const m = DATE_TIME.exec(text);
  if (!m) throw invalid(param);
  const [, y, mo, d, h, mi, s, frac, zulu, signed, signedH, signedM, spaced, spacedH, spacedM] = m;
  const sign = signed ?? spaced;
  const offH = signedH ?? spacedH;
  const offM = signedM ?? spacedM;
  const ms = frac ? Number(frac.padEnd(3, '0').slice(0, 3)) : 0;
  const local = utcMillis(Number(y), Number(mo), Number(d), Number(h), Number(mi), s ? Number(s) : 0, ms);
  if (local === undefined) throw invalid(param);
  if (zulu || sign === undefined) return new Date(local);

  const oh = Number(offH);
  const om = offM ? Number(offM) : 0;
  if (oh > 23 || om > 59) throw invalid(param);
  // A space is a `+` that the query-string decoder turned into a space.
  const direction = sign === '-' ? -1 : 1;
  return new Date(local - direction * (oh * 60 + om) * 60_000);
}

export interface DateRange {
  start: Date;
  end: Date;
}

/** API.md's default range: the first day of `now`'s month 00:00:00Z to its last day 23:59:59Z. */
export function defaultRange(now: Date): DateRange {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  return {
    start: new Date(Date.UTC(y, m, 1, 0, 0, 0)),
    end: new Date(Date.UTC(y, m + 1, 0, 23, 59, 59)),
  };
}

/** Throws a ValidationError unless start < end and the span is at most MAX_RANGE_DAYS. */
export function assertValidRange(range: DateRange): void {
  if (range.start.getTime() >= range.end.getTime()) {
    throw new ValidationError('Invalid range: start must be before end', [
      { field: 'end', message: 'must be after start' },
    ]);
  }
  if (range.end.getTime() - range.start.getTime() > MAX_RANGE_DAYS * DAY_MS) {
    throw new ValidationError(`Invalid range: start and end may be at most ${MAX_RANGE_DAYS} days apart`, [
      { field: 'end', message: `more than ${MAX_RANGE_DAYS} days after start` },
    ]);
  }
}

/**
 * The range of a GET /api/events query. Both absent: the default range. Only one given:
 * the other comes from the month of the given one (only `start=2026-03-10` →
 * until 2026-03-31T23:59:59Z; only `end` → from the first day of the month holding the
 * last included instant), so a lone bound never collides with "the current month".
 */
export function resolveRange(start: string | undefined, end: string | undefined, now: Date): DateRange {
  const s = start === undefined ? undefined : parseApiDate(start, 'start');
  const e = end === undefined ? undefined : parseApiDate(end, 'end');
  const range: DateRange = {
    start: s ?? defaultRange(e ? new Date(e.getTime() - 1) : now).start,
    end: e ?? defaultRange(s ?? now).end,
  };
  assertValidRange(range);
  return range;
}
