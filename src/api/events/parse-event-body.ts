/**
 * Bodies of POST / PUT / DELETE /api/event (API.md) checked and turned into the domain's
 * EventInput / EventPatch / EventRef. Every problem is collected: the 400 names the first
 * field in `message` and lists all of them in `details` ({ field, message }).
 *
 * Decisions where API.md is silent:
 * - Unknown fields are ignored (SDKs send their own extras), except that a known field
 *   of the wrong type is always a 400.
 * - Create: `null` for an optional field means "absent" (typed SDKs serialise unset
 *   fields as null). Update: omitted = unchanged, `null` clears an optional field; null
 *   for title/start/end/allDay is a 400 (they cannot be cleared).
 * - Dates: any form parseApiDate accepts. A date-only value in a body is midnight UTC of
 *   that date (all-day ends are exclusive, API.md), not the query's inclusive end-of-day.
 * - allDay: defaults to true when both start and end are date-only and allDay is absent,
 *   else false (create) / unchanged (update). For all-day events the calendar date is the
 *   date as written (`2025-11-15T00:00:00+02:00` is Nov 15, not Nov 14 UTC); an end on
 *   the start date means a one-day event (end = start + 1 day).
 * - end before start → 400; end equal to start is allowed for timed events.
 * - attendees: email strings (or `{ email }` objects as GET returns them), deduplicated
 *   case-insensitively, at most 500.
 * - recurrence: the object of API.md, or an RRULE string (`FREQ=WEEKLY;BYDAY=MO,WE`).
 *   `until` accepts YYYYMMDDTHHMMSSZ, YYYYMMDD and ISO forms and is normalised to
 *   YYYYMMDDTHHMMSSZ (a date alone = the end of that day, UNTIL being inclusive).
 *   byDay ordinals (1MO, -1FR) only for MONTHLY (|n| ≤ 5) and YEARLY (|n| ≤ 53);
 *   byMonthDay not with WEEKLY (RFC 5545).
 * - conference: an http(s) URL, or `{ url, provider }` whose provider is informational
 *   (the adapter recognises the service from the URL).
 * - DELETE: parameters from the query string and/or a JSON body; a parameter given in
 *   both with different values is a 400 (a destructive call must not guess).
 * - PUT with updateMode "this", a recurrence (or null) and a recurringEventId naming a
 *   series other than eventId: 400, since one occurrence has no rule of its own. The
 *   same on a single event (no recurringEventId) makes it recurring.
 */
import {
  isProviderId,
  ONE_OCCURRENCE_RULE,
  PROVIDER_IDS,
  type Availability,
  type ConferenceProvider,
  type EditMode,
  type EventInput,
  type EventPatch,
  type EventRef,
  type EventStatus,
  type Frequency,
  type Privacy,
  type ProviderId,
  type Recurrence,
  type ByDay,
} from '../../domain/calendar.js';
import { ValidationError } from '../../domain/errors.js';
import { describeType, isPlainObject, Issues } from './issues.js';
import { isDateOnly, parseApiDate } from './normalize-date.js';

export const MAX_TITLE_LENGTH = 1024;
export const MAX_LOCATION_LENGTH = 1024;
export const MAX_DESCRIPTION_BYTES = 64 * 1024;
export const MAX_ID_LENGTH = 2048;
export const MAX_ATTENDEES = 500;
export const MAX_CUSTOM_BYTES = 8 * 1024;
export const MAX_URL_LENGTH = 2048;
export const MAX_RECURRENCE_INTERVAL = 1000;
export const MAX_RECURRENCE_COUNT = 5000;
const MAX_RULE_PARTS = 100;
const DAY_MS = 86_400_000;

const FREQUENCIES = ['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'] as const satisfies readonly Frequency[];
const AVAILABILITY = ['busy', 'free'] as const satisfies readonly Availability[];
const PRIVACY = ['public', 'private', 'confidential'] as const satisfies readonly Privacy[];
const STATUS = ['confirmed', 'tentative', 'cancelled'] as const satisfies readonly EventStatus[];
const EDIT_MODES = ['this', 'following', 'all'] as const satisfies readonly EditMode[];
const CONFERENCE_PROVIDERS = ['google-meet', 'microsoft-teams', 'zoom', 'webex'] as const satisfies readonly ConferenceProvider[];

export interface CreateEventRequest {
  provider: ProviderId;
  input: EventInput;
}
export interface UpdateEventRequest {
  provider: ProviderId;
  ref: EventRef;
  patch: EventPatch;
  mode: EditMode;
}
export interface DeleteEventRequest {
  provider: ProviderId;
  ref: EventRef;
  mode: EditMode;
}

type Mode = 'create' | 'update';
type Body = Record<string, unknown>;

/** One field read: `undefined` absent, `null` clear (update only), else the value. */
type Read<T> = T | null | undefined;

class Reader {
  constructor(
    readonly body: Body,
    readonly issues: Issues,
    readonly mode: Mode,
  ) {}

  /** The raw value; null on create counts as absent. */
  raw(name: string): unknown {
    const v = Object.prototype.hasOwnProperty.call(this.body, name) ? this.body[name] : undefined;
    return this.mode === 'create' && v === null ? undefined : v;
  }

  /** Required on create (present, non-null); on update null is refused when not clearable. */
  present(name: string, opts: { required?: boolean; clearable?: boolean }): unknown {
    const v = this.raw(name);
    if (v === undefined) {
      if (opts.required && this.mode === 'create') this.issues.add(name, 'is required');
      return undefined;
    }
    if (v === null && !opts.clearable) {
      this.issues.add(name, 'cannot be null');
      return undefined;
    }
    return v;
  }

  string(
    name: string,
    opts: { required?: boolean; clearable?: boolean; max?: number; maxBytes?: number; nonEmpty?: boolean },
  ): Read<string> {
    const v = this.present(name, opts);
    if (v === undefined || v === null) return v as null | undefined;
    if (typeof v !== 'string') {
      this.issues.add(name, `must be a string, got ${describeType(v)}`);
      return undefined;
    }
    if (opts.nonEmpty && v.trim() === '') {
      this.issues.add(name, 'must not be empty');
      return undefined;
    }
    if (opts.max !== undefined && v.length > opts.max) {
      this.issues.add(name, `must be at most ${opts.max} characters`);
      return undefined;
    }
    if (opts.maxBytes !== undefined && Buffer.byteLength(v, 'utf8') > opts.maxBytes) {
      this.issues.add(name, `must be at most ${opts.maxBytes} bytes`);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(name: string, values: readonly T[], opts: { clearable?: boolean }): Read<T> {
    const v = this.present(name, opts);
    if (v === undefined || v === null) return v as null | undefined;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.issues.add(name, `must be one of ${values.join(', ')}`);
      return undefined;
    }
    return v as T;
  }

  boolean(name: string): boolean | undefined {
    const v = this.present(name, {});
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') {
      this.issues.add(name, `must be true or false, got ${describeType(v)}`);
      return undefined;
    }
    return v;
  }
}

function readBody(body: unknown): Body {
  if (body === undefined) {
    throw new ValidationError('Request body is missing: send the event as a JSON object', [{ field: 'body', message: 'is required' }]);
  }
  if (!isPlainObject(body)) {
    throw new ValidationError('Request body must be a JSON object', [
      { field: 'body', message: `must be a JSON object, got ${describeType(body)}` },
    ]);
  }
  return body;
}

function readProvider(r: Reader): ProviderId | undefined {
  const v = r.present('provider', { required: true });
  if (v === undefined) {
    if (r.mode === 'update') r.issues.add('provider', 'is required');
    return undefined;
  }
  if (!isProviderId(v)) {
    const shown = typeof v === 'string' ? `"${v.slice(0, 64)}"` : describeType(v);
    r.issues.add(
      'provider',
      `must be one of ${PROVIDER_IDS.join(', ')}`,
      `Unknown provider ${shown}: expected one of ${PROVIDER_IDS.join(', ')}`,
    );
    return undefined;
  }
  return v;
}

/** An id that is required whatever the mode (calendarId, eventId). */
function readId(r: Reader, name: string): string | undefined {
  const v = r.string(name, { required: true, max: MAX_ID_LENGTH, nonEmpty: true });
  if (v === undefined && r.mode === 'update' && r.raw(name) === undefined) r.issues.add(name, 'is required');
  return v ?? undefined;
}

// ---- dates ------------------------------------------------------------------------------

interface Times {
  start?: Date;
  end?: Date;
  allDay?: boolean;
}

function utcMidnightOf(text: string): Date {
  // The value already passed parseApiDate, so it starts with a valid YYYY-MM-DD.
  return new Date(`${text.trim().slice(0, 10)}T00:00:00.000Z`);
}

function readTimes(r: Reader): Times {
  const startRaw = r.string('start', { required: true, max: 64 });
  const endRaw = r.string('end', { required: true, max: 64 });
  let allDay = r.boolean('allDay');

  const startText = typeof startRaw === 'string' ? startRaw : undefined;
  const endText = typeof endRaw === 'string' ? endRaw : undefined;
  const start = startText === undefined ? undefined : r.issues.capture('start', () => parseApiDate(startText, 'start', 'start'));
  const end = endText === undefined ? undefined : r.issues.capture('end', () => parseApiDate(endText, 'start', 'end'));
  if (allDay === undefined && startText !== undefined && endText !== undefined && isDateOnly(startText) && isDateOnly(endText)) {
    allDay = true;
  }
  if (allDay === undefined && r.mode === 'create') allDay = false;

  const times: Times = {};
  if (allDay !== undefined) times.allDay = allDay;
  if (allDay) {
    if (start) times.start = utcMidnightOf(startText!);
    if (end) times.end = utcMidnightOf(endText!);
    if (times.start && times.end && times.end.getTime() === times.start.getTime()) {
      times.end = new Date(times.start.getTime() + DAY_MS);
    }
  } else {
    if (start) times.start = start;
    if (end) times.end = end;
  }
  if (times.start && times.end && times.end.getTime() < times.start.getTime()) {
    r.issues.add('end', 'must not be before start');
  }
  return times;
}

function readTimeZone(r: Reader): Read<string> {
  const v = r.string('timeZone', { clearable: true, max: 64, nonEmpty: true });
  if (typeof v !== 'string') return v;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: v.trim() }).resolvedOptions().timeZone;
  } catch {
    r.issues.add('timeZone', 'must be an IANA time zone such as Europe/Paris');
    return undefined;
  }
}

// ---- attendees --------------------------------------------------------------------------

const EMAIL = /^[^\s@<>()[\]\\,;:"]{1,64}@[^\s@<>()[\]\\,;:".]+(?:\.[^\s@<>()[\]\\,;:".]+)+$/;

export function isEmail(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value);
}

function readAttendees(r: Reader): Read<string[]> {
  const v = r.present('attendees', { clearable: true });
  if (v === undefined || v === null) return v as null | undefined;
  if (!Array.isArray(v)) {
    r.issues.add('attendees', `must be an array of email addresses, got ${describeType(v)}`);
    return undefined;
  }
  if (v.length > MAX_ATTENDEES) {
    r.issues.add('attendees', `may list at most ${MAX_ATTENDEES} attendees`);
    return undefined;
  }
  const out: string[] = [];
  const seen = new Set<string>();
  v.forEach((item: unknown, i) => {
    const field = `attendees[${i}]`;
    const email = isPlainObject(item) ? item.email : item;
    if (typeof email !== 'string') {
      r.issues.add(field, 'must be an email address string');
      return;
    }
    const trimmed = email.trim();
    if (!isEmail(trimmed)) {
      r.issues.add(field, 'is not a valid email address');
      return;
    }
    const k = trimmed.toLowerCase();
    if (seen.has(k)) return;
    seen.add(k);
    out.push(trimmed);
  });
  return out;
}

// ---- recurrence -------------------------------------------------------------------------

const BY_DAY = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/;
const UNTIL_BASIC = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/;

function formatUntil(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** YYYYMMDDTHHMMSSZ from any accepted form; a date alone is the end of that day. */
function parseUntil(value: string, issues: Issues): string | undefined {
  const text = value.trim().toUpperCase();
  const basic = UNTIL_BASIC.exec(text);
  let iso: string;
  if (basic) {
    const [, y, mo, d, h, mi, s] = basic;
    iso = h === undefined ? `${y}-${mo}-${d}` : `${y}-${mo}-${d}T${h}:${mi}:${s}Z`;
  } else {
    iso = value;
  }
  const dateOnly = isDateOnly(iso);
  const parsed = issues.capture('recurrence.until', () => parseApiDate(iso, 'start', 'recurrence.until'));
  if (!parsed) return undefined;
  return formatUntil(dateOnly ? new Date(parsed.getTime() + DAY_MS - 1000) : parsed);
}

/** Integers from a number or an array of numbers, each checked by `valid`. */
function readIntList(
  issues: Issues,
  field: string,
  v: unknown,
  valid: (n: number) => boolean,
  rule: string,
): number[] | undefined {
  const list = Array.isArray(v) ? v : [v];
  if (list.length > MAX_RULE_PARTS) {
    issues.add(field, `may hold at most ${MAX_RULE_PARTS} values`);
    return undefined;
  }
  const out: number[] = [];
  let ok = true;
  list.forEach((n: unknown, i) => {
    if (typeof n !== 'number' || !Number.isInteger(n) || !valid(n)) {
      issues.add(Array.isArray(v) ? `${field}[${i}]` : field, `must be ${rule}`);
      ok = false;
    } else if (!out.includes(n)) {
      out.push(n);
    }
  });
  return ok && out.length > 0 ? out : undefined;
}

/** `FREQ=WEEKLY;BYDAY=MO,WE` (optionally prefixed `RRULE:`) into the object form. */
function ruleStringToObject(text: string, issues: Issues): Body | undefined {
  const body: Body = {};
  const rule = text.trim().replace(/^RRULE:/i, '');
  for (const part of rule.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).toUpperCase();
    const value = eq < 0 ? '' : part.slice(eq + 1);
    const ints = (): number[] | number => {
      const list = value.split(',').map((x) => (/^[+-]?\d+$/.test(x) ? Number(x) : Number.NaN));
      return list.length === 1 ? list[0]! : list;
    };
    switch (name) {
      case 'FREQ': body.frequency = value; break;
      case 'INTERVAL': body.interval = ints(); break;
      case 'COUNT': body.count = ints(); break;
      case 'UNTIL': body.until = value; break;
      case 'BYDAY': body.byDay = value.split(','); break;
      case 'BYMONTHDAY': body.byMonthDay = ints(); break;
      case 'BYMONTH': body.byMonth = ints(); break;
      case 'WKST': break;
      default:
        issues.add('recurrence', `unsupported rule part ${name.slice(0, 32)}`);
        return undefined;
    }
  }
  return body;
}

function readRecurrence(r: Reader, start: Date | undefined): Read<Recurrence> {
  let v = r.present('recurrence', { clearable: true });
  if (v === undefined || v === null) return v as null | undefined;
  const issues = r.issues;
  if (typeof v === 'string') {
    if (v.length > 2048) {
      issues.add('recurrence', 'must be at most 2048 characters');
      return undefined;
    }
    v = ruleStringToObject(v, issues);
    if (v === undefined) return undefined;
  }
  if (!isPlainObject(v)) {
    issues.add('recurrence', `must be an object such as { "frequency": "WEEKLY" }, got ${describeType(v)}`);
    return undefined;
  }
  const rec = v;
  const before = issues.list.length;

  let frequency: Frequency | undefined;
  if (rec.frequency === undefined || rec.frequency === null) issues.add('recurrence.frequency', 'is required');
  else if (typeof rec.frequency !== 'string' || !(FREQUENCIES as readonly string[]).includes(rec.frequency.toUpperCase())) {
    issues.add('recurrence.frequency', `must be one of ${FREQUENCIES.join(', ')}`);
  } else frequency = rec.frequency.toUpperCase() as Frequency;

  const out: Partial<Recurrence> = {};
  if (rec.interval !== undefined && rec.interval !== null) {
    const n = rec.interval;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_RECURRENCE_INTERVAL) {
      issues.add('recurrence.interval', `must be an integer from 1 to ${MAX_RECURRENCE_INTERVAL}`);
    } else out.interval = n;
  }
  const hasCount = rec.count !== undefined && rec.count !== null;
  const hasUntil = rec.until !== undefined && rec.until !== null;
  if (hasCount && hasUntil) issues.add('recurrence', 'count and until cannot be combined');
  if (hasCount) {
    const n = rec.count;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_RECURRENCE_COUNT) {
      issues.add('recurrence.count', `must be an integer from 1 to ${MAX_RECURRENCE_COUNT}`);
    } else out.count = n;
  }
  if (hasUntil) {
    if (typeof rec.until !== 'string' || rec.until.length > 64) {
      issues.add('recurrence.until', 'must be a date string such as 20251231T235959Z');
    } else {
      const until = parseUntil(rec.until, issues);
      if (until !== undefined) {
        if (start && until < formatUntil(start)) issues.add('recurrence.until', 'must not be before start');
        else out.until = until;
      }
    }
  }

  if (rec.byDay !== undefined && rec.byDay !== null) {
    const list = typeof rec.byDay === 'string' ? rec.byDay.split(',') : rec.byDay;
    if (!Array.isArray(list) || list.length > MAX_RULE_PARTS) {
      issues.add('recurrence.byDay', `must be an array of weekdays such as ["MO","WE"] (at most ${MAX_RULE_PARTS})`);
    } else {
      const days: string[] = [];
      list.forEach((d: unknown, i) => {
        const field = `recurrence.byDay[${i}]`;
        const m = typeof d === 'string' ? BY_DAY.exec(d.trim().toUpperCase()) : null;
        if (!m) {
          issues.add(field, 'must be a weekday MO..SU, optionally with an ordinal such as 1MO or -1FR');
          return;
        }
        let day = m[2]!;
        if (m[1] !== undefined) {
          const n = Number(m[1]);
          const limit = frequency === 'MONTHLY' ? 5 : frequency === 'YEARLY' ? 53 : 0;
          if (limit === 0) {
            issues.add(field, 'ordinal weekdays are only allowed with MONTHLY or YEARLY');
            return;
          }
          if (n === 0 || Math.abs(n) > limit) {
            issues.add(field, `ordinal must be from -${limit} to ${limit}, not 0`);
            return;
          }
          day = `${n}${day}`;
        }
        if (!days.includes(day)) days.push(day);
      });
      // Plain days and ordinal forms (1MO, -1FR) alike: every adapter accepts both.
      if (days.length > 0) out.byDay = days as ByDay[];
    }
  }
  if (rec.byMonthDay !== undefined && rec.byMonthDay !== null) {
    if (frequency === 'WEEKLY') issues.add('recurrence.byMonthDay', 'is not allowed with WEEKLY');
    else {
      const list = readIntList(issues, 'recurrence.byMonthDay', rec.byMonthDay, (n) => n !== 0 && n >= -31 && n <= 31, 'an integer from 1 to 31 or -31 to -1');
      if (list) out.byMonthDay = list;
    }
  }
  if (rec.byMonth !== undefined && rec.byMonth !== null) {
    const list = readIntList(issues, 'recurrence.byMonth', rec.byMonth, (n) => n >= 1 && n <= 12, 'an integer from 1 to 12');
    if (list) out.byMonth = list;
  }
  if (issues.list.length > before || !frequency) return undefined;
  return { frequency, ...out };
}

// ---- custom, conference -----------------------------------------------------------------

function readCustom(r: Reader): Read<Record<string, unknown>> {
  const v = r.present('custom', { clearable: true });
  if (v === undefined || v === null) return v as null | undefined;
  if (!isPlainObject(v)) {
    r.issues.add('custom', `must be a JSON object, got ${describeType(v)}`);
    return undefined;
  }
  const json = JSON.stringify(v);
  if (Buffer.byteLength(json, 'utf8') > MAX_CUSTOM_BYTES) {
    r.issues.add('custom', `must be at most ${MAX_CUSTOM_BYTES} bytes as JSON`);
    return undefined;
  }
  // A detached copy; JSON.parse keeps a `__proto__` key an ordinary own property.
  return JSON.parse(json) as Record<string, unknown>;
}

function httpUrl(value: string): string | undefined {
  if (value.length > MAX_URL_LENGTH) return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '') return undefined;
  return url.href;
}

function readConference(r: Reader): Read<string> {
  const v = r.present('conference', { clearable: true });
  if (v === undefined || v === null) return v as null | undefined;
  let field = 'conference';
  let raw: unknown = v;
  if (isPlainObject(v)) {
    field = 'conference.url';
    raw = v.url;
    if (v.provider !== undefined && v.provider !== null && typeof v.provider !== 'string') {
      r.issues.add('conference.provider', 'must be a string');
    }
  }
  if (typeof raw !== 'string') {
    r.issues.add(field, `must be an http(s) URL string, got ${describeType(raw)}`);
    return undefined;
  }
  const url = httpUrl(raw);
  if (!url) {
    r.issues.add(field, `must be an http or https URL of at most ${MAX_URL_LENGTH} characters`);
    return undefined;
  }
  return url;
}

function readConferenceData(r: Reader): Read<NonNullable<EventInput['conferenceData']>> {
  const v = r.present('conferenceData', { clearable: true });
  if (v === undefined || v === null) return v as null | undefined;
  if (!isPlainObject(v)) {
    r.issues.add('conferenceData', `must be an object such as { "provider": "google-meet", "autoGenerate": true }`);
    return undefined;
  }
  let ok = true;
  if (typeof v.provider !== 'string' || !(CONFERENCE_PROVIDERS as readonly string[]).includes(v.provider)) {
    r.issues.add('conferenceData.provider', `must be one of ${CONFERENCE_PROVIDERS.join(', ')}`);
    ok = false;
  }
  if (v.autoGenerate !== undefined && v.autoGenerate !== null && typeof v.autoGenerate !== 'boolean') {
    r.issues.add('conferenceData.autoGenerate', 'must be true or false');
    ok = false;
  }
  if (!ok) return undefined;
  const out: NonNullable<EventInput['conferenceData']> = { provider: v.provider as ConferenceProvider };
  if (typeof v.autoGenerate === 'boolean') out.autoGenerate = v.autoGenerate;
  return out;
}

// ---- the event fields shared by create and update -----------------------------------------

function readEventFields(r: Reader): EventPatch {
  const patch: EventPatch = {};
  const set = <K extends keyof EventPatch>(k: K, v: EventPatch[K] | undefined): void => {
    if (v !== undefined) patch[k] = v;
  };
  const title = r.string('title', { required: true, max: MAX_TITLE_LENGTH });
  if (typeof title === 'string') patch.title = title;
  const times = readTimes(r);
  set('start', times.start);
  set('end', times.end);
  set('allDay', times.allDay);
  set('timeZone', readTimeZone(r));
  set('description', r.string('description', { clearable: true, maxBytes: MAX_DESCRIPTION_BYTES }));
  set('location', r.string('location', { clearable: true, max: MAX_LOCATION_LENGTH }));
  set('attendees', readAttendees(r));
  set('recurrence', readRecurrence(r, times.start));
  set('custom', readCustom(r));
  set('conference', readConference(r));
  set('conferenceData', readConferenceData(r));
  set('availability', r.oneOf('availability', AVAILABILITY, { clearable: true }));
  set('privacy', r.oneOf('privacy', PRIVACY, { clearable: true }));
  set('status', r.oneOf('status', STATUS, { clearable: true }));
  return patch;
}

function readRef(r: Reader): EventRef | undefined {
  const calendarId = readId(r, 'calendarId');
  const eventId = readId(r, 'eventId');
  const recurringEventId = r.string('recurringEventId', { clearable: true, max: MAX_ID_LENGTH });
  if (calendarId === undefined || eventId === undefined) return undefined;
  const ref: EventRef = { calendarId, eventId };
  if (typeof recurringEventId === 'string' && recurringEventId !== '') ref.recurringEventId = recurringEventId;
  return ref;
}

// ---- the three requests -------------------------------------------------------------------

/** POST /api/event. */
export function parseCreateEventBody(body: unknown): CreateEventRequest {
  const r = new Reader(readBody(body), new Issues(), 'create');
  const provider = readProvider(r);
  const calendarId = readId(r, 'calendarId');
  const fields = readEventFields(r);
  r.issues.throwIfAny();
  // No issues means every required field was read.
  const input = { ...fields, calendarId } as EventInput;
  return { provider: provider!, input };
}

/**
 * One occurrence has no rule of its own: providers would drop it silently (Google) or
 * refuse it. Adapters refuse it too when the request does not say the event is an
 * occurrence (no recurringEventId), with the same words (ONE_OCCURRENCE_RULE).
 */
const ONE_OCCURRENCE_DETAIL = 'cannot be set on one occurrence (updateMode "this"); use "following" or "all" to change the series';

/** PUT /api/event: omitted fields unchanged, null clears. */
export function parseUpdateEventBody(body: unknown): UpdateEventRequest {
  const r = new Reader(readBody(body), new Issues(), 'update');
  const provider = readProvider(r);
  const ref = readRef(r);
  const patch = readEventFields(r);
  const mode = r.oneOf('updateMode', EDIT_MODES, { clearable: true }) ?? 'all';
  if (mode === 'this' && patch.recurrence !== undefined && ref?.recurringEventId !== undefined && ref.recurringEventId !== ref.eventId) {
    r.issues.add('recurrence', ONE_OCCURRENCE_DETAIL, ONE_OCCURRENCE_RULE);
  }
  r.issues.throwIfAny();
  return { provider: provider!, ref: ref!, patch, mode };
}

const DELETE_PARAMS = ['provider', 'calendarId', 'eventId', 'recurringEventId', 'deleteMode'] as const;

/**
 * DELETE /api/event: parameters from the query string (the SDKs) or a JSON body (the
 * Postman collection), or both when they agree.
 */
export function parseDeleteEventParams(query: unknown, body: unknown): DeleteEventRequest {
  const issues = new Issues();
  const q: Body = isPlainObject(query) ? query : {};
  if (query instanceof URLSearchParams) {
    for (const name of DELETE_PARAMS) {
      const all = query.getAll(name);
      if (all.length > 0) q[name] = all.length > 1 ? all : all[0];
    }
  }
  let b: Body = {};
  if (body !== undefined && body !== null && body !== '') {
    if (!isPlainObject(body)) {
      issues.add('body', `must be a JSON object, got ${describeType(body)}`);
    } else b = body;
  }
  const merged: Body = {};
  for (const name of DELETE_PARAMS) {
    let fromQuery = Object.prototype.hasOwnProperty.call(q, name) ? q[name] : undefined;
    if (Array.isArray(fromQuery)) {
      issues.add(name, 'given more than once in the query string');
      continue;
    }
    if (fromQuery === '') fromQuery = undefined;
    const fromBody = Object.prototype.hasOwnProperty.call(b, name) ? b[name] : undefined;
    if (fromQuery !== undefined && fromBody !== undefined && fromBody !== null && fromQuery !== fromBody) {
      issues.add(name, 'differs between the query string and the body');
      continue;
    }
    const value = fromBody ?? fromQuery;
    if (value !== undefined) merged[name] = value;
  }
  const r = new Reader(merged, issues, 'create');
  const provider = readProvider(r);
  const ref = readRef(r);
  const mode = r.oneOf('deleteMode', EDIT_MODES, {}) ?? 'all';
  issues.throwIfAny();
  return { provider: provider!, ref: ref!, mode };
}
