/**
 * Dates in this app are shown and entered in UTC. The API speaks UTC, and converting
 * to each user's zone would need a zone preference this minimal app does not have.
 */

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

export interface MonthRange {
  /** `YYYY-MM` */
  month: string;
  start: Date;
  /** First instant of the next month: the range is [start, end). */
  end: Date;
  previous: string;
  next: string;
}

function monthKey(date: Date): string {
  return date.toISOString().slice(0, 7);
}

/** The month named by `?month=YYYY-MM`, or the current one when absent or malformed. */
export function monthRange(param: string | null, now = new Date()): MonthRange {
  const match = param ? MONTH.exec(param) : null;
  const year = match ? Number(match[1]) : now.getUTCFullYear();
  const month = match ? Number(match[2]) - 1 : now.getUTCMonth();
  const start = new Date(Date.UTC(year, month, 1));
  const end = new Date(Date.UTC(year, month + 1, 1));
  return { month: monthKey(start), start, end, previous: monthKey(new Date(Date.UTC(year, month - 1, 1))), next: monthKey(end) };
}

export function monthOf(iso: string): string {
  return monthKey(new Date(iso));
}

/** `2025-01-15T10:00` for an `<input type="datetime-local">`. */
export function toInputValue(iso: string): string {
  return new Date(iso).toISOString().slice(0, 16);
}

const INPUT = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/** Parses a datetime-local value as UTC; `undefined` when malformed. */
export function fromInputValue(value: string | null): Date | undefined {
  const match = value ? INPUT.exec(value.trim()) : null;
  if (!match) return undefined;
  const date = new Date(`${match[1]}T${match[2]}:${match[3]}:${match[4] ?? '00'}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function midnight(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * 86_400_000);
}

/** `Wed 15 Jan` */
export function dayLabel(iso: string): string {
  return new Date(iso).toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });
}

/** `10:00` */
export function timeLabel(iso: string): string {
  return new Date(iso).toISOString().slice(11, 16);
}

/** `January 2025` */
export function monthLabel(range: MonthRange): string {
  return range.start.toLocaleDateString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
}
