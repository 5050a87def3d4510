/**
 * The emulator's mailbox: calendars and events as Graph keeps them. A series is its
 * master plus per-slot state (an exception's changed fields, or deleted); occurrences
 * are computed from the pattern on every read, as Graph presents them. Every change
 * bumps the item's changeKey, which is also its `@odata.etag` (W/"changeKey").
 */
import { createHash, randomBytes } from 'node:crypto';
import { formatWall, ianaOf, instantOf, parseWall, wallDate, wallOf } from './graph-time.js';
import { slotDates, validateRecurrence, withDate } from './graph-recurrence.js';
import type { PatternedRecurrence } from './graph-recurrence.js';

export interface DateTimeTimeZone {
  dateTime: string;
  timeZone: string;
}

export interface EmailAddress {
  name?: string;
  address: string;
}

export interface Attendee {
  type?: 'required' | 'optional' | 'resource';
  status?: { response: string; time?: string };
  emailAddress: EmailAddress;
}

/** The writable event fields Graph stores (resources/event). */
export interface EventFields {
  subject?: string;
  body?: { contentType: 'text' | 'html'; content: string };
  start: DateTimeTimeZone;
  end: DateTimeTimeZone;
  isAllDay?: boolean;
  location?: { displayName?: string };
  showAs?: string;
  sensitivity?: string;
  isCancelled?: boolean;
  categories?: string[];
  attendees?: Attendee[];
  isOnlineMeeting?: boolean;
  onlineMeetingProvider?: string;
  onlineMeeting?: { joinUrl?: string } | null;
  recurrence?: PatternedRecurrence | null;
  singleValueExtendedProperties?: { id: string; value: string }[];
}

export interface CalendarRecord {
  id: string;
  name: string;
  color: string;
  hexColor: string;
  canEdit: boolean;
  canShare: boolean;
  canViewPrivateItems: boolean;
  isDefaultCalendar: boolean;
  isRemovable: boolean;
  owner: EmailAddress;
  changeKey: string;
  allowedOnlineMeetingProviders: string[];
  defaultOnlineMeetingProvider: string;
}

export interface StoredEvent extends EventFields {
  id: string;
  calendarId: string;
  iCalUId: string;
  changeKey: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  organizer: { emailAddress: EmailAddress };
  /** Series only: state per slot, by the slot's original start instant. */
  slots: Map<number, { deleted?: true; exception?: Partial<EventFields>; changeKey: string; id: string }>;
}

/** One item as a read presents it: a single, a master, an occurrence or an exception. */
export interface Item {
  type: 'singleInstance' | 'seriesMaster' | 'occurrence' | 'exception';
  id: string;
  master: StoredEvent;
  fields: EventFields;
  startMs: number;
  endMs: number;
  allDay: boolean;
  originalStartMs?: number;
  changeKey: string;
}

export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const graphErrors = {
  notFound: () => new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.'),
  accessDenied: () => new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'),
  preconditionFailed: () => new GraphError(412, 'ErrorIrresolvableConflict', 'The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.'),
  invalid: (message: string) => new GraphError(400, 'ErrorInvalidRequest', message),
  crossing: () => new GraphError(400, 'ErrorOccurrenceCrossingBoundary', 'The modified occurrence is crossing or overlapping adjacent occurrence.'),
};

const DAY = 86_400_000;
/** How far ahead never-ending series are expanded. */
const HORIZON_MS = 20 * 365 * DAY;

const newChangeKey = (): string => randomBytes(12).toString('base64');
export const newId = (prefix = 'AAMkAGI2'): string => `${prefix}${randomBytes(24).toString('base64url')}`;

/** The instant a dateTimeTimeZone names; all-day values at midnight of the zone. */
export function instant(value: DateTimeTimeZone): number {
  const wall = parseWall(value.dateTime);
  const zone = ianaOf(value.timeZone);
  if (!wall || !zone) throw graphErrors.invalid(`A valid dateTime and timeZone are required (got "${value.timeZone}")`);
  return instantOf(wall, zone);
}

export class GraphStore {
  readonly calendars = new Map<string, CalendarRecord>();
  readonly events = new Map<string, StoredEvent>();
  /** Calendar id → user email (the mailbox that holds it). */
  readonly mailboxOf = new Map<string, string>();
  /** Knob: what `isOnlineMeeting` with teamsForBusiness creates. */
  teamsUrl = (id: string): string => `https://teams.microsoft.com/l/meetup-join/${encodeURIComponent(id)}`;

  addCalendar(email: string, spec: Partial<CalendarRecord> & { name: string }): CalendarRecord {
    const calendar: CalendarRecord = {
      id: spec.id ?? newId('AAMkADcal'),
      color: 'auto',
      hexColor: '',
      canEdit: true,
      canShare: true,
      canViewPrivateItems: true,
      isDefaultCalendar: false,
      isRemovable: true,
      owner: { name: email, address: email },
      changeKey: newChangeKey(),
      allowedOnlineMeetingProviders: ['teamsForBusiness'],
      defaultOnlineMeetingProvider: 'teamsForBusiness',
      ...spec,
    };
    this.calendars.set(calendar.id, calendar);
    this.mailboxOf.set(calendar.id, email);
    return calendar;
  }

  calendarsOf(email: string): CalendarRecord[] {
    return [...this.calendars.values()].filter((c) => this.mailboxOf.get(c.id) === email);
  }

  create(calendarId: string, fields: EventFields, organizer: EmailAddress): StoredEvent {
    this.validate(fields);
    const now = new Date().toISOString();
    const id = newId();
    const event: StoredEvent = {
      ...structuredClone(fields),
      id,
      calendarId,
      iCalUId: `040000008200E00074C5B7101A82E008${randomBytes(16).toString('hex').toUpperCase()}`,
      changeKey: newChangeKey(),
      createdDateTime: now,
      lastModifiedDateTime: now,
      organizer: { emailAddress: organizer },
      slots: new Map(),
    };
    if (event.isOnlineMeeting && event.onlineMeetingProvider === 'teamsForBusiness') event.onlineMeeting = { joinUrl: this.teamsUrl(id) };
    this.events.set(id, event);
    return event;
  }

  private validate(fields: EventFields): void {
    if (!fields.start || !fields.end) throw graphErrors.invalid('start and end are required');
    const start = instant(fields.start);
    const end = instant(fields.end);
    if (end < start) throw graphErrors.invalid('The end must be after the start');
    if (fields.isAllDay) {
      const s = parseWall(fields.start.dateTime)!;
      const e = parseWall(fields.end.dateTime)!;
      if (s.h || s.mi || s.s || e.h || e.mi || e.s || end - start < DAY - 2 * 3_600_000) {
        throw new GraphError(400, 'ErrorPropertyValidationFailure', 'Your request can\'t be completed. If \'IsAllDay\' is true, \'StartDate\' and \'EndDate\' must be set to midnight and the duration must be at least 24 hours.');
      }
    }
    if (fields.recurrence) {
      const problem = validateRecurrence(fields.recurrence);
      if (problem) throw graphErrors.invalid(`Invalid recurrence: ${problem}`);
    }
  }

  /** Every item of a stored event: the single, or the master and each remaining slot until `untilMs`. */
  expand(event: StoredEvent, untilMs: number): Item[] {
    const allDay = event.isAllDay === true;
    const startMs = instant(event.start);
    const endMs = instant(event.end);
    if (!event.recurrence) return [{ type: 'singleInstance', id: event.id, master: event, fields: event, startMs, endMs, allDay, changeKey: event.changeKey }];
    const zone = ianaOf(event.start.timeZone)!;
    const startWall = wallOf(startMs, zone);
    const duration = endMs - startMs;
    const items: Item[] = [{ type: 'seriesMaster', id: event.id, master: event, fields: event, startMs, endMs, allDay, changeKey: event.changeKey }];
    const until = wallDate(wallOf(Math.min(untilMs, startMs + HORIZON_MS), zone));
    for (const date of slotDates(event.recurrence, until)) {
      const originalStartMs = instantOf(withDate(startWall, date), zone);
      const slot = this.slotOf(event, originalStartMs);
      if (slot.deleted) continue;
      const fields: EventFields = { ...event, recurrence: null, ...(slot.exception ?? {}) };
      const s = slot.exception?.start ? instant(slot.exception.start) : originalStartMs;
      const e = slot.exception?.end ? instant(slot.exception.end) : originalStartMs + duration;
      items.push({
        type: slot.exception ? 'exception' : 'occurrence',
        id: slot.id,
        master: event,
        fields,
        startMs: s,
        endMs: e,
        allDay,
        originalStartMs,
        // An occurrence changes whenever its series does.
        changeKey: createHash('sha256').update(`${event.changeKey}/${slot.changeKey}`).digest('base64').slice(0, 16),
      });
    }
    return items;
  }

  private slotOf(event: StoredEvent, originalStartMs: number) {
    let slot = event.slots.get(originalStartMs);
    if (!slot) {
      slot = { id: newId(`AAMkOcc${event.id.slice(-6)}`), changeKey: '' };
      event.slots.set(originalStartMs, slot);
    }
    return slot;
  }

  /** Singles, occurrences and exceptions overlapping [startMs, endMs), as calendarView lists them. */
  view(calendarId: string, startMs: number, endMs: number): Item[] {
    const out: Item[] = [];
    for (const event of this.events.values()) {
      if (event.calendarId !== calendarId) continue;
      for (const item of this.expand(event, endMs + DAY)) {
        if (item.type === 'seriesMaster') continue;
        if (item.endMs > startMs && item.startMs < endMs) out.push(item);
        // Zero-length events at the range's start still belong to it.
        else if (item.startMs === item.endMs && item.startMs === startMs) out.push(item);
      }
    }
    return out;
  }

  /** Resolves any id (single, master, occurrence, exception) to its item. */
  find(id: string, calendarId?: string): Item | undefined {
    const direct = this.events.get(id);
    if (direct) {
      if (calendarId && direct.calendarId !== calendarId) return undefined;
      return this.expand(direct, 0)[0];
    }
    for (const event of this.events.values()) {
      if (calendarId && event.calendarId !== calendarId) continue;
      for (const [originalStartMs, slot] of event.slots) {
        if (slot.id !== id || slot.deleted) continue;
        return this.expand(event, originalStartMs + DAY).find((item) => item.id === id);
      }
    }
    return undefined;
  }

  update(item: Item, patch: Partial<EventFields>): void {
    const event = item.master;
    const now = new Date().toISOString();
    if (item.type === 'singleInstance' || item.type === 'seriesMaster') {
      const next = { ...event, ...structuredClone(patch) } as StoredEvent;
      this.validate(next);
      if (item.type === 'seriesMaster' && patch.recurrence) {
        // Exceptions and deletions outside the new range are dropped, as Graph drops them.
        const zone = ianaOf(next.start.timeZone)!;
        const kept = new Set(slotDates(next.recurrence!, wallDate(wallOf(instant(next.start) + HORIZON_MS, zone))).map((date) => instantOf(withDate(wallOf(instant(next.start), zone), date), zone)));
        for (const key of [...event.slots.keys()]) if (!kept.has(key)) event.slots.delete(key);
      }
      if (patch.recurrence === null && event.recurrence) event.slots.clear();
      Object.assign(event, next, { slots: event.slots, changeKey: newChangeKey(), lastModifiedDateTime: now });
      if (event.isOnlineMeeting && event.onlineMeetingProvider === 'teamsForBusiness' && !event.onlineMeeting?.joinUrl) event.onlineMeeting = { joinUrl: this.teamsUrl(event.id) };
      return;
    }
    if (patch.recurrence) throw graphErrors.invalid('An occurrence cannot be given a recurrence.');
    const slot = event.slots.get(item.originalStartMs!)!;
    const exception = { ...(slot.exception ?? {}), ...structuredClone(patch) };
    const startMs = exception.start ? instant(exception.start) : item.startMs;
    const endMs = exception.end ? instant(exception.end) : item.endMs;
    if (endMs < startMs) throw graphErrors.invalid('The end must be after the start');
    this.checkCrossing(item, startMs);
    slot.exception = exception;
    slot.changeKey = newChangeKey();
    event.lastModifiedDateTime = now;
  }

  /** An occurrence may not move onto or past the day of a neighbouring occurrence. */
  private checkCrossing(item: Item, startMs: number): void {
    const zone = ianaOf(item.master.start.timeZone)!;
    const siblings = this.expand(item.master, item.originalStartMs! + 400 * DAY).filter((i) => i.type !== 'seriesMaster' && i.id !== item.id);
    const day = (ms: number): string => wallDate(wallOf(ms, zone));
    const previous = siblings.filter((i) => i.originalStartMs! < item.originalStartMs!).at(-1);
    const next = siblings.find((i) => i.originalStartMs! > item.originalStartMs!);
    if (previous && day(startMs) <= day(previous.startMs)) throw graphErrors.crossing();
    if (next && day(startMs) >= day(next.startMs)) throw graphErrors.crossing();
  }

  delete(item: Item): void {
    if (item.type === 'occurrence' || item.type === 'exception') {
      const slot = item.master.slots.get(item.originalStartMs!)!;
      slot.deleted = true;
      delete slot.exception;
      slot.changeKey = newChangeKey();
      item.master.lastModifiedDateTime = new Date().toISOString();
      return;
    }
    this.events.delete(item.master.id);
  }

  /** How Graph writes an item, times in the Prefer zone (UTC by default). */
  render(item: Item, preferZone: string, webBase: string): Record<string, unknown> {
    const f = item.fields;
    const m = item.master;
    const iana = ianaOf(preferZone) ?? 'UTC';
    const originalZone = ianaOf(m.start.timeZone)!;
    const time = (ms: number): DateTimeTimeZone => {
      // All-day events come back midnight to midnight whatever zone was asked for; their
      // instants are midnights of the series' zone (give or take a daylight-saving hour).
      if (item.allDay) return { dateTime: `${wallDate(wallOf(ms + 12 * 3_600_000, originalZone))}T00:00:00.0000000`, timeZone: preferZone };
      return { dateTime: formatWall(wallOf(ms, iana)), timeZone: preferZone };
    };
    const organizer = m.organizer;
    return {
      '@odata.etag': `W/"${item.changeKey}"`,
      id: item.id,
      createdDateTime: m.createdDateTime,
      lastModifiedDateTime: m.lastModifiedDateTime,
      changeKey: item.changeKey,
      categories: f.categories ?? [],
      originalStartTimeZone: m.start.timeZone,
      originalEndTimeZone: m.end.timeZone,
      iCalUId: m.iCalUId,
      reminderMinutesBeforeStart: 15,
      isReminderOn: true,
      subject: f.subject ?? '',
      bodyPreview: (f.body?.content ?? '').slice(0, 255),
      importance: 'normal',
      sensitivity: f.sensitivity ?? 'normal',
      isAllDay: item.allDay,
      isCancelled: f.isCancelled ?? false,
      isOrganizer: true,
      responseRequested: true,
      seriesMasterId: item.type === 'occurrence' || item.type === 'exception' ? m.id : null,
      showAs: f.showAs ?? 'busy',
      type: item.type,
      webLink: `${webBase}/owa/?itemid=${encodeURIComponent(item.id)}&exvsurl=1&path=/calendar/item`,
      onlineMeetingUrl: null,
      isOnlineMeeting: f.isOnlineMeeting ?? false,
      onlineMeetingProvider: f.onlineMeetingProvider ?? 'unknown',
      ...(item.originalStartMs !== undefined ? { originalStart: new Date(item.originalStartMs).toISOString().replace('.000Z', 'Z') } : {}),
      recurrence: item.type === 'seriesMaster' ? m.recurrence : null,
      body: f.body ?? { contentType: 'html', content: '' },
      start: time(item.startMs),
      end: time(item.endMs),
      location: { displayName: f.location?.displayName ?? '', locationType: 'default', uniqueIdType: 'unknown', address: {}, coordinates: {} },
      locations: f.location?.displayName ? [{ displayName: f.location.displayName }] : [],
      attendees: (f.attendees ?? []).map((a) => ({ type: a.type ?? 'required', status: a.status ?? { response: 'none', time: '0001-01-01T00:00:00Z' }, emailAddress: a.emailAddress })),
      organizer,
      onlineMeeting: f.onlineMeeting ?? null,
    };
  }
}

/** The date an all-day value names (for tests). */
export function dateOf(value: DateTimeTimeZone): string {
  return value.dateTime.slice(0, 10);
}

