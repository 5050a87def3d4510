/**
 * The query of GET /api/events (API.md) as one validated object.
 *
 * Decisions where API.md is silent:
 * - An empty value (`pageSize=`) counts as absent: form-built URLs send empty fields.
 * - A parameter given twice is a 400, never "first/last wins".
 * - Unknown parameters are ignored (SDKs and proxies add their own).
 * - `pageSize`: digits only; 0 or garbage → 400; above 1000 → 1000 (API.md "capped").
 * - `singleEvents`: true/false/1/0, case-insensitive.
 * - `calendarIds`: a JSON object whose keys are provider names and whose values are
 *   arrays of calendar ids (or null). A provider with a non-empty list is filtered to
 *   those ids (ids the user does not own are ignored, as Mobiscroll does, so a list of
 *   only foreign ids yields nothing for that provider); an empty list, null or an
 *   absent key means every calendar of that provider. Unknown keys → 400.
 */
import { isProviderId, PROVIDER_IDS, type ProviderId } from '../../domain/calendar.js';
import { ValidationError } from '../../domain/errors.js';
import { describeType, isPlainObject, Issues } from './issues.js';
import { parseApiDate, resolveRange } from './normalize-date.js';

export const DEFAULT_PAGE_SIZE = 250;
export const MAX_PAGE_SIZE = 1000;
/** Limits on `calendarIds` so a hostile query cannot make us build huge filters. */
export const MAX_CALENDAR_IDS_JSON = 64 * 1024;
export const MAX_CALENDAR_IDS_PER_PROVIDER = 500;
export const MAX_CALENDAR_ID_LENGTH = 2048;
/** Tokens we issue stay far below this; anything longer is not ours. */
export const MAX_PAGE_TOKEN_LENGTH = 32 * 1024;

/** Per provider, the calendar ids to keep; a provider without an entry is unfiltered. */
export type CalendarFilter = Partial<Record<ProviderId, readonly string[]>>;

export interface ListEventsQuery {
  start: Date;
  end: Date;
  pageSize: number;
  singleEvents: boolean;
  calendarIds: CalendarFilter;
  nextPageToken?: string;
}

/** fastify's parsed query (duplicates arrive as arrays) or a URLSearchParams. */
export type RawQuery = URLSearchParams | Readonly<Record<string, unknown>>;

const PARAMS = ['pageSize', 'start', 'end', 'calendarIds', 'nextPageToken', 'singleEvents'] as const;
type Param = (typeof PARAMS)[number];

function readParams(raw: RawQuery, issues: Issues): Partial<Record<Param, unknown>> {
  const out: Partial<Record<Param, unknown>> = {};
  for (const name of PARAMS) {
    let value: unknown;
    if (raw instanceof URLSearchParams) {
      const all = raw.getAll(name);
      value = all.length > 1 ? all : all[0];
    } else {
      value = Object.prototype.hasOwnProperty.call(raw, name) ? raw[name] : undefined;
    }
    if (Array.isArray(value)) {
      if (value.length > 1) issues.add(name, 'given more than once');
      else if (value.length === 1) value = value[0];
      else value = undefined;
      if (Array.isArray(value)) continue;
    }
    if (value === undefined || value === '') continue;
    // calendarIds may arrive already parsed by a nested query-string parser.
    if (typeof value !== 'string' && !(name === 'calendarIds' && isPlainObject(value))) {
      issues.add(name, `must be a string, got ${describeType(value)}`);
      continue;
    }
    out[name] = value;
  }
  return out;
}

function parsePageSize(value: string, issues: Issues): number {
  const text = value.trim();
  if (!/^\d{1,20}$/.test(text)) {
    issues.add('pageSize', 'must be a positive integer');
    return DEFAULT_PAGE_SIZE;
  }
  const n = Number(text);
  if (n < 1) {
    issues.add('pageSize', 'must be at least 1');
    return DEFAULT_PAGE_SIZE;
  }
  return Math.min(n, MAX_PAGE_SIZE);
}

function parseBoolean(name: string, value: string, issues: Issues): boolean | undefined {
  switch (value.trim().toLowerCase()) {
    case 'true':
    case '1':
      return true;
    case 'false':
    case '0':
      return false;
    default:
      issues.add(name, 'must be true, false, 1 or 0');
      return undefined;
  }
}

/** Parses and validates a `calendarIds` value (a JSON string or an already-parsed object). */
export function parseCalendarFilter(value: unknown, issues: Issues): CalendarFilter {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    if (value.length > MAX_CALENDAR_IDS_JSON) {
      issues.add('calendarIds', `must be at most ${MAX_CALENDAR_IDS_JSON} characters`);
      return {};
    }
    try {
      parsed = JSON.parse(value);
    } catch {
      issues.add('calendarIds', 'must be a JSON object such as {"google":["a@b.com"],"microsoft":[]}');
      return {};
    }
  }
  if (!isPlainObject(parsed)) {
    issues.add('calendarIds', `must be a JSON object keyed by provider, got ${describeType(parsed)}`);
    return {};
  }
  const filter: CalendarFilter = {};
  for (const [key, ids] of Object.entries(parsed)) {
    const field = `calendarIds.${key}`;
    if (!isProviderId(key)) {
      issues.add(field, `unknown provider: expected one of ${PROVIDER_IDS.join(', ')}`);
      continue;
    }
    if (ids === null) continue;
    if (!Array.isArray(ids)) {
      issues.add(field, `must be an array of calendar ids, got ${describeType(ids)}`);
      continue;
    }
    if (ids.length > MAX_CALENDAR_IDS_PER_PROVIDER) {
      issues.add(field, `may list at most ${MAX_CALENDAR_IDS_PER_PROVIDER} calendars`);
      continue;
    }
    const kept = new Set<string>();
    ids.forEach((id: unknown, i) => {
      if (typeof id !== 'string' || id.length === 0 || id.length > MAX_CALENDAR_ID_LENGTH) {
        issues.add(`${field}[${i}]`, `must be a non-empty string of at most ${MAX_CALENDAR_ID_LENGTH} characters`);
      } else {
        kept.add(id);
      }
    });
    if (kept.size > 0) filter[key] = [...kept];
  }
  return filter;
}

/**
 * Parses the query of GET /api/events. Every problem is collected; the ValidationError
 * (400) names the first and lists all in `details`. `now` fixes the default range.
 */
export function parseListQuery(raw: RawQuery, now: Date = new Date()): ListEventsQuery {
  const issues = new Issues();
  const p = readParams(raw, issues);
  const pageSize = typeof p.pageSize === 'string' ? parsePageSize(p.pageSize, issues) : DEFAULT_PAGE_SIZE;
  const singleEvents =
    typeof p.singleEvents === 'string' ? (parseBoolean('singleEvents', p.singleEvents, issues) ?? true) : true;
  const calendarIds = p.calendarIds === undefined ? {} : parseCalendarFilter(p.calendarIds, issues);
  let nextPageToken: string | undefined;
  if (typeof p.nextPageToken === 'string') {
    if (p.nextPageToken.length > MAX_PAGE_TOKEN_LENGTH) issues.add('nextPageToken', 'not a page token this server issued');
    else nextPageToken = p.nextPageToken;
  }
  const start = p.start as string | undefined;
  const end = p.end as string | undefined;
  // Each bound on its own first, so a bad start and a bad end are both reported.
  const startOk = start === undefined || issues.capture('start', () => parseApiDate(start, 'start')) !== undefined;
  const endOk = end === undefined || issues.capture('end', () => parseApiDate(end, 'end')) !== undefined;
  const range = startOk && endOk ? issues.capture('end', () => resolveRange(start, end, now)) : undefined;
  issues.throwIfAny();
  if (!range) throw new ValidationError('Invalid range'); // unreachable: capture recorded an issue
  return { ...range, pageSize, singleEvents, calendarIds, ...(nextPageToken === undefined ? {} : { nextPageToken }) };
}

/**
 * The calendars of one provider account to read, given the calendars the account owns.
 * Keeps the owner's order; unfiltered providers read every owned calendar.
 */
export function selectCalendarIds(filter: CalendarFilter, provider: ProviderId, owned: readonly string[]): string[] {
  const wanted = filter[provider];
  if (!wanted || wanted.length === 0) return [...owned];
  const set = new Set(wanted);
  return owned.filter((id) => set.has(id));
}
