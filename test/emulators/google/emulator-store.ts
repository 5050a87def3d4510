/**
 * The emulator's calendars and events, with Google's documented semantics: events.list
 * filtering (end > timeMin, start < timeMax; all-day dates in the calendar's zone),
 * recurring series expanded into instances `{masterId}_{stamp}`, exceptions stored as
 * their own resources, patch (merge) vs update (replace), ETags with If-Match, deletion
 * leaving `cancelled` resources behind, conference creation, and a change sequence for
 * sync tokens. No HTTP here: the route module translates.
 */
import { randomBytes } from 'node:crypto';
import { ApiError, apiErrors } from './emulator-http.js';
import { expandSeries } from './emulator-recurrence.js';
import type { Occurrence } from './emulator-recurrence.js';
import { dateStartInZone, rfc3339InZone, validZone, wallToInstant } from './emulator-time.js';

export interface EventTime {
  date?: string;
  dateTime?: string;
  timeZone?: string;
}

export interface EventResource {
  id: string;
  kind?: string;
  etag?: string;
  status?: string;
  summary?: string;
  start?: EventTime;
  end?: EventTime;
  recurrence?: string[];
  recurringEventId?: string;
  originalStartTime?: EventTime;
  attendees?: { email?: string; responseStatus?: string; [key: string]: unknown }[];
  conferenceData?: Record<string, unknown>;
  hangoutLink?: string;
  extendedProperties?: { private?: Record<string, unknown>; shared?: Record<string, unknown> };
  updated?: string;
  [key: string]: unknown;
}

export interface CalendarRecord {
  id: string;
  summary: string;
  description?: string;
  timeZone: string;
  colorId: string;
  backgroundColor: string;
  foregroundColor: string;
}

/**
 * One item of a listing. `startMs` is Google's ordering key: the instant for timed
 * events, local midnight in the calendar's zone for all-day ones.
 */
export interface Listed {
  id: string;
  startMs: number;
  endMs: number;
  recurringEventId?: string;
  updated?: string;
  build(): EventResource;
}

export interface ListOptions {
  timeMin?: number;
  timeMax?: number;
  singleEvents: boolean;
  showDeleted: boolean;
  iCalUID?: string;
}

export interface WriteOptions {
  ifMatch?: string;
  conferenceDataVersion: number;
  /** The account writing: becomes creator, and organizer of new events on its own calendars. */
  actorEmail: string;
}

/** Members Google computes itself: ignored in request bodies. */
const READ_ONLY = [
  'kind',
  'etag',
  'id',
  'created',
  'updated',
  'htmlLink',
  'iCalUID',
  'creator',
  'organizer',
  'hangoutLink',
  'recurringEventId',
  'originalStartTime',
  'conferenceData',
] as const;

/** Far enough for any test; series without an end are expanded up to here. */
const HORIZON_MS = Date.UTC(2100, 0, 1);
const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

type Json = Record<string, unknown>;

const clone = <T>(value: T): T => structuredClone(value);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function mergePatch(target: Json, patch: Json): Json {
  const out: Json = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (isObject(value)) out[key] = mergePatch(isObject(out[key]) ? (out[key] as Json) : {}, value);
    else out[key] = value;
  }
  return out;
}

function withoutReadOnly(body: Json): Json {
  const out = { ...body };
  for (const key of READ_ONLY) delete out[key];
  return out;
}

export class EventStore {
  readonly calendars = new Map<string, CalendarRecord>();
  private readonly events = new Map<string, Map<string, { resource: EventResource; seq: number }>>();
  private readonly expansions = new Map<string, Occurrence[]>();
  private etagCounter = 3_181_161_784_712_000;
  private seq = 0;
  private syncFloor = 0;
  /** Told after every change to a calendar's events (push channels listen). */
  onChange: (calendarId: string) => void = () => undefined;
  /** Knob: Meet creation answers `pending` (no link yet) instead of succeeding at once. */
  meetCreation: 'success' | 'pending' = 'success';

  addCalendar(record: CalendarRecord): CalendarRecord {
    this.calendars.set(record.id, record);
    if (!this.events.has(record.id)) this.events.set(record.id, new Map());
    return record;
  }

  calendar(calendarId: string): CalendarRecord {
    const calendar = this.calendars.get(calendarId);
    if (!calendar) throw apiErrors.notFound();
    return calendar;
  }

  private table(calendarId: string): Map<string, { resource: EventResource; seq: number }> {
    this.calendar(calendarId);
    return this.events.get(calendarId)!;
  }

  /** Stored resources as they are (masters, singles, exceptions, cancelled ones): for test assertions. */
  stored(calendarId: string): EventResource[] {
    return [...this.table(calendarId).values()].map((r) => clone(r.resource));
  }

  storedEvent(calendarId: string, eventId: string): EventResource | undefined {
    const r = this.table(calendarId).get(eventId);
    return r ? clone(r.resource) : undefined;
  }

  /** Puts a resource in place without validation (fixtures may hold what the API would refuse). */
  seed(calendarId: string, resource: Partial<EventResource>): EventResource {
    const id = resource.id ?? this.newId();
    const now = new Date().toISOString();
    const full: EventResource = {
      kind: 'calendar#event',
      status: 'confirmed',
      created: now,
      updated: now,
      iCalUID: `${id}@google.com`,
      ...clone(resource),
      id,
      etag: this.nextEtag(),
    };
    this.save(calendarId, full);
    return clone(full);
  }

  expireSyncTokens(): void {
    // Tokens handed out from now on (even before the next write) must stay valid.
    this.seq += 1;
    this.syncFloor = this.seq;
  }

  // ---- reads ---------------------------------------------------------------------------

  /**
   * The items of an events.list, in Google's unordered (stable) order. Each is built
   * only when served: a series of thousands of instances costs numbers, not objects,
   * for every page but the one being answered.
   */
  list(calendarId: string, options: ListOptions): Listed[] {
    const zone = this.calendar(calendarId).timeZone;
    const records = [...this.table(calendarId).values()].map((r) => r.resource);
    const exceptions = new Map<string, EventResource[]>();
    for (const r of records) {
      if (r.recurringEventId) exceptions.set(r.recurringEventId, [...(exceptions.get(r.recurringEventId) ?? []), r]);
    }
    const overlaps = (startMs: number, endMs: number): boolean =>
      (options.timeMin === undefined || endMs > options.timeMin) && (options.timeMax === undefined || startMs < options.timeMax);
    const stored = (e: EventResource, stub = false): Listed => ({
      id: e.id,
      startMs: this.startMs(e.start ?? e.originalStartTime, zone),
      endMs: this.startMs(e.end ?? e.originalStartTime, zone),
      recurringEventId: e.recurringEventId,
      updated: e.updated,
      build: () => (stub ? cancelledStub(e) : clone(e)),
    });
    const out: Listed[] = [];

    for (const r of records) {
      // Listed with its series; an occurrence the user was invited to without the series
      // (its master is not in this calendar) is listed as an event of its own.
      if (r.recurringEventId && this.table(calendarId).has(r.recurringEventId)) continue;
      if (options.iCalUID && r.iCalUID !== options.iCalUID) continue;
      if (!r.recurrence) {
        const item = stored(r, r.status === 'cancelled');
        if (r.status === 'cancelled' ? options.showDeleted : overlaps(item.startMs, item.endMs)) out.push(item);
        continue;
      }
      if (r.status === 'cancelled') {
        if (options.showDeleted && !options.singleEvents) out.push(stored(r, true));
        continue;
      }
      const own = new Map((exceptions.get(r.id) ?? []).map((e) => [e.id, e]));
      const live: Listed[] = [];
      let anyInRange = false;
      for (const o of this.occurrences(r, zone)) {
        const id = `${r.id}_${o.stamp}`;
        const exception = own.get(id);
        if (exception) {
          const item = stored(exception, exception.status === 'cancelled');
          if (exception.status === 'cancelled') {
            // Google lists cancelled occurrences when deleted events are asked for, and also
            // whenever series are not expanded (events.list reference, showDeleted).
            if ((options.showDeleted || !options.singleEvents) && overlaps(o.startMs, o.endMs)) live.push({ ...item, startMs: o.startMs, endMs: o.endMs });
          } else if (overlaps(item.startMs, item.endMs)) {
            live.push(item);
            anyInRange = true;
          }
        } else if (overlaps(o.startMs, o.endMs)) {
          anyInRange = true;
          if (options.singleEvents) {
            live.push({ id, startMs: o.startMs, endMs: o.endMs, recurringEventId: r.id, updated: r.updated, build: () => this.instanceOf(r, o, zone) });
          }
        }
      }
      if (options.singleEvents) out.push(...live);
      else {
        // Without expansion Google lists the series and, separately, its exceptions.
        if (anyInRange) out.push(stored(r));
        out.push(...live);
      }
    }
    return out;
  }

  get(calendarId: string, eventId: string): EventResource {
    const table = this.table(calendarId);
    const stored = table.get(eventId);
    if (stored) return clone(stored.resource);
    const cut = eventId.lastIndexOf('_');
    const master = cut > 0 ? table.get(eventId.slice(0, cut))?.resource : undefined;
    if (!master?.recurrence) throw apiErrors.notFound();
    const zone = this.calendar(calendarId).timeZone;
    const occurrence = this.occurrences(master, zone).find((o) => o.stamp === eventId.slice(cut + 1));
    if (!occurrence) throw apiErrors.notFound();
    const instance = this.instanceOf(master, occurrence, zone);
    if (master.status === 'cancelled') instance.status = 'cancelled';
    return instance;
  }

  instances(calendarId: string, masterId: string, options: { timeMin?: number; timeMax?: number; showDeleted: boolean }): Listed[] {
    const master = this.table(calendarId).get(masterId)?.resource;
    if (!master || master.status === 'cancelled') throw master ? apiErrors.deleted() : apiErrors.notFound();
    return this.list(calendarId, { singleEvents: true, showDeleted: options.showDeleted })
      .filter((e) => e.recurringEventId === masterId || (!master.recurrence && e.id === masterId))
      // Here timeMin bounds the end inclusively (instances reference).
      .filter((e) => (options.timeMin === undefined || e.endMs >= options.timeMin) && (options.timeMax === undefined || e.startMs < options.timeMax))
      .sort((a, b) => a.startMs - b.startMs);
  }

  /** Changes since a sync token, deletions included; 410 once the token has expired. */
  changesSince(calendarId: string, token: string): EventResource[] {
    const since = decodeSyncToken(token, calendarId);
    if (since === undefined || since < this.syncFloor) throw apiErrors.fullSyncRequired();
    return [...this.table(calendarId).values()]
      .filter((r) => r.seq > since)
      .map((r) => (r.resource.status === 'cancelled' ? cancelledStub(r.resource) : clone(r.resource)));
  }

  syncToken(calendarId: string): string {
    return Buffer.from(JSON.stringify({ c: calendarId, s: this.seq })).toString('base64url');
  }

  // ---- writes --------------------------------------------------------------------------

  insert(calendarId: string, body: Json, options: WriteOptions): EventResource {
    const calendar = this.calendar(calendarId);
    const table = this.table(calendarId);
    let id: string;
    if (body.id !== undefined) {
      if (typeof body.id !== 'string' || !/^[a-v0-9]{5,1024}$/.test(body.id)) throw apiErrors.invalid('Invalid resource id value.');
      if (table.has(body.id)) throw apiErrors.duplicate();
      id = body.id;
    } else {
      id = this.newId();
    }
    const now = new Date().toISOString();
    let resource: EventResource = {
      kind: 'calendar#event',
      status: 'confirmed',
      ...withoutReadOnly(body),
      id,
      created: now,
      updated: now,
      htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${calendarId}`).toString('base64url')}`,
      iCalUID: `${id}@google.com`,
      creator: { email: options.actorEmail, self: true },
      organizer: { email: calendarId, displayName: calendar.summary, self: calendarId === options.actorEmail },
      sequence: 0,
      reminders: body.reminders ?? { useDefault: true },
      eventType: 'default',
    };
    resource = this.applyConference(resource, body, undefined, options.conferenceDataVersion);
    this.validateAndNormalize(resource, calendar);
    resource.etag = this.nextEtag();
    this.save(calendarId, resource);
    return clone(resource);
  }

  patch(calendarId: string, eventId: string, body: Json, options: WriteOptions): EventResource {
    const current = this.writable(calendarId, eventId, options.ifMatch);
    let next = mergePatch(current, withoutReadOnly(body)) as EventResource;
    next = this.applyConference(next, body, current, options.conferenceDataVersion);
    return this.commit(calendarId, current, next);
  }

  update(calendarId: string, eventId: string, body: Json, options: WriteOptions): EventResource {
    const current = this.writable(calendarId, eventId, options.ifMatch);
    const kept: Json = {};
    for (const key of READ_ONLY) if (current[key] !== undefined) kept[key] = current[key];
    let next = { ...withoutReadOnly(body), ...kept } as EventResource;
    next = this.applyConference(next, body, current, options.conferenceDataVersion);
    return this.commit(calendarId, current, next);
  }

  /** Deleting an occurrence leaves a cancelled exception; deleting anything else marks it cancelled. */
  delete(calendarId: string, eventId: string, ifMatch: string | undefined): void {
    const current = this.get(calendarId, eventId);
    if (current.status === 'cancelled') throw apiErrors.deleted();
    checkEtag(ifMatch, current.etag);
    this.save(calendarId, { ...current, status: 'cancelled', updated: new Date().toISOString(), etag: this.nextEtag() });
  }

  private writable(calendarId: string, eventId: string, ifMatch: string | undefined): EventResource {
    const current = this.get(calendarId, eventId);
    checkEtag(ifMatch, current.etag);
    return current;
  }

  private commit(calendarId: string, current: EventResource, next: EventResource): EventResource {
    next.id = current.id;
    next.updated = new Date().toISOString();
    next.sequence = Number(current.sequence ?? 0) + 1;
    if (current.recurringEventId) {
      // An edited occurrence becomes (or stays) an exception tied to its original slot.
      next.recurringEventId = current.recurringEventId;
      next.originalStartTime = current.originalStartTime;
      delete next.recurrence;
    }
    this.validateAndNormalize(next, this.calendar(calendarId));
    next.etag = this.nextEtag();
    this.save(calendarId, next);
    return clone(next);
  }

  /**
   * conferenceData is only read from a body sent with conferenceDataVersion=1 (Google
   * ignores it otherwise). A createRequest makes a Meet; copied Meet details are kept.
   */
  private applyConference(next: EventResource, body: Json, current: EventResource | undefined, version: number): EventResource {
    const keep = (): EventResource => {
      const out = { ...next };
      if (current?.conferenceData) out.conferenceData = current.conferenceData;
      else delete out.conferenceData;
      if (current?.hangoutLink) out.hangoutLink = current.hangoutLink;
      else delete out.hangoutLink;
      return out;
    };
    if (version !== 1 || !('conferenceData' in body)) return keep();
    const out = { ...next };
    const requested = body.conferenceData;
    if (requested === null) {
      delete out.conferenceData;
      delete out.hangoutLink;
      return out;
    }
    if (!isObject(requested)) throw apiErrors.invalid('Invalid conference data.');
    const createRequest = isObject(requested.createRequest) ? requested.createRequest : undefined;
    if (createRequest) {
      const key = isObject(createRequest.conferenceSolutionKey) ? createRequest.conferenceSolutionKey.type : undefined;
      if (key !== 'hangoutsMeet') throw apiErrors.invalid('Invalid conference type value.');
      const requestId = String(createRequest.requestId ?? '');
      const previous = current?.conferenceData?.createRequest as Json | undefined;
      if (previous?.requestId === requestId && current?.conferenceData) return keep(); // same request: same conference
      return { ...out, ...this.newMeet(requestId) };
    }
    out.conferenceData = clone(requested);
    const solution = isObject(requested.conferenceSolution) && isObject(requested.conferenceSolution.key) ? requested.conferenceSolution.key.type : undefined;
    const video = Array.isArray(requested.entryPoints)
      ? (requested.entryPoints as Json[]).find((p) => p.entryPointType === 'video')?.uri
      : undefined;
    if (solution === 'hangoutsMeet' && typeof video === 'string') out.hangoutLink = video;
    else delete out.hangoutLink;
    return out;
  }

  private newMeet(requestId: string): Pick<EventResource, 'conferenceData' | 'hangoutLink'> {
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const pick = (n: number): string => [...randomBytes(n)].map((b) => letters[b % 26]).join('');
    const code = `${pick(3)}-${pick(4)}-${pick(3)}`;
    const solution = {
      key: { type: 'hangoutsMeet' },
      name: 'Google Meet',
      iconUri: 'https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png',
    };
    if (this.meetCreation === 'pending') {
      return {
        conferenceData: { createRequest: { requestId, conferenceSolutionKey: { type: 'hangoutsMeet' }, status: { statusCode: 'pending' } } },
      };
    }
    const uri = `https://meet.google.com/${code}`;
    return {
      hangoutLink: uri,
      conferenceData: {
        createRequest: { requestId, conferenceSolutionKey: { type: 'hangoutsMeet' }, status: { statusCode: 'success' } },
        entryPoints: [{ entryPointType: 'video', uri, label: `meet.google.com/${code}` }],
        conferenceSolution: solution,
        conferenceId: code,
      },
    };
  }

  /** Google's checks on an event about to be stored, and its normal form for times. */
  private validateAndNormalize(event: EventResource, calendar: CalendarRecord): void {
    if (event.status === 'cancelled') return;
    if (!isObject(event.start)) throw apiRequired('Missing start time.');
    if (!isObject(event.end)) throw apiRequired('Missing end time.');
    const start: EventTime = event.start;
    const end: EventTime = event.end;
    if ((start.date === undefined) !== (end.date === undefined)) {
      throw apiErrors.invalid('Start and end times must either both be date or both be dateTime.');
    }
    for (const [side, value] of [['start', start], ['end', end]] as const) {
      if (value.timeZone !== undefined && (typeof value.timeZone !== 'string' || !validZone(value.timeZone))) throw apiErrors.invalid(`Invalid time zone definition for ${side} time.`);
      if (value.date !== undefined) {
        if (typeof value.date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value.date)) throw apiErrors.invalid(`Invalid ${side} time.`);
        delete value.dateTime;
        continue;
      }
      if (typeof value.dateTime !== 'string') throw apiRequired(`Missing ${side} time.`);
      const hasOffset = /(Z|[+-]\d{2}:\d{2})$/i.test(value.dateTime);
      if (!hasOffset && !value.timeZone) throw apiErrors.invalid(`Missing time zone definition for ${side} time.`);
      const ms = hasOffset ? Date.parse(value.dateTime) : this.wallInZone(value.dateTime, value.timeZone!);
      if (Number.isNaN(ms)) throw apiErrors.invalid(`Invalid ${side} time.`);
      // Google answers times in the calendar's zone (or the event's, when it has one).
      value.dateTime = rfc3339InZone(ms, value.timeZone ?? calendar.timeZone);
    }
    const startMs = this.startMs(start, calendar.timeZone);
    const endMs = this.startMs(end, calendar.timeZone);
    if (endMs < startMs || (start.date !== undefined && endMs === startMs)) throw apiErrors.timeRangeEmpty();
    if (event.recurrence !== undefined) {
      if (!Array.isArray(event.recurrence) || event.recurrence.some((l) => typeof l !== 'string' || !/^(RRULE|EXRULE|RDATE|EXDATE)[:;]/i.test(l))) {
        throw apiErrors.invalid('Invalid recurrence rule.');
      }
      const rule = event.recurrence.find((l) => /^RRULE:/i.test(l));
      if (rule && /COUNT=/i.test(rule) && /UNTIL=/i.test(rule)) throw apiErrors.invalid('Invalid recurrence rule.');
      if (start.dateTime !== undefined && !start.timeZone) throw apiErrors.invalid('Missing time zone definition for start time.');
    }
    for (const scope of ['private', 'shared'] as const) {
      const props = event.extendedProperties?.[scope];
      if (props && Object.values(props).some((v) => typeof v !== 'string')) throw apiErrors.invalid('Invalid extended property value.');
    }
    if (event.attendees !== undefined) {
      if (!Array.isArray(event.attendees)) throw apiErrors.invalid('Invalid attendees.');
      for (const attendee of event.attendees) {
        if (typeof attendee.email !== 'string' || !attendee.email.includes('@')) throw apiErrors.invalid('Invalid attendee email.');
        attendee.responseStatus ??= 'needsAction';
      }
    }
  }

  private wallInZone(local: string, zone: string): number {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(local);
    if (!m) return Number.NaN;
    return wallToInstant({ y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +m[4]!, mi: +m[5]!, s: +(m[6] ?? 0) }, zone);
  }

  startMs(value: EventTime | undefined, zone: string): number {
    if (value?.date) return dateStartInZone(value.date, zone);
    const ms = Date.parse(value?.dateTime ?? '');
    return Number.isNaN(ms) ? 0 : ms;
  }

  private occurrences(master: EventResource, zone: string): Occurrence[] {
    const key = `${master.id}|${master.etag}|${zone}`;
    let cached = this.expansions.get(key);
    if (!cached) {
      cached = expandSeries(master, zone, HORIZON_MS);
      this.expansions.set(key, cached);
    }
    return cached;
  }

  private instanceOf(master: EventResource, o: Occurrence, zone: string): EventResource {
    const { recurrence: _recurrence, ...rest } = master;
    const tz = master.start?.timeZone;
    const at = (ms: number): EventTime => ({ dateTime: rfc3339InZone(ms, tz ?? zone), ...(tz ? { timeZone: tz } : {}) });
    const start = o.allDay ? { date: o.date } : at(o.startMs);
    return {
      ...clone(rest),
      id: `${master.id}_${o.stamp}`,
      recurringEventId: master.id,
      originalStartTime: clone(start),
      start,
      end: o.allDay ? { date: o.endDate } : at(o.endMs),
    };
  }

  private save(calendarId: string, resource: EventResource): void {
    this.seq += 1;
    this.table(calendarId).set(resource.id, { resource, seq: this.seq });
    this.onChange(calendarId);
  }

  private nextEtag(): string {
    this.etagCounter += 1000;
    return `"${this.etagCounter}"`;
  }

  private newId(): string {
    return [...randomBytes(26)].map((b) => BASE32HEX[b % 32]).join('');
  }
}

/** Google's `required` reason: a member that must be present is missing. */
const apiRequired = (message: string): ApiError => new ApiError(400, 'required', message);

/** What Google guarantees for a cancelled item: its id, and for occurrences the series and slot. */
function cancelledStub(event: EventResource): EventResource {
  const stub: EventResource = { kind: 'calendar#event', etag: event.etag, id: event.id, status: 'cancelled' };
  if (event.recurringEventId) {
    stub.recurringEventId = event.recurringEventId;
    stub.originalStartTime = event.originalStartTime;
  }
  return stub;
}

function checkEtag(ifMatch: string | undefined, etag: string | undefined): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  const offered = ifMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (!etag || !offered.includes(etag)) throw apiErrors.conditionNotMet();
}

function decodeSyncToken(token: string, calendarId: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { c?: unknown; s?: unknown };
    return parsed.c === calendarId && typeof parsed.s === 'number' ? parsed.s : undefined;
  } catch {
    return undefined;
  }
}
