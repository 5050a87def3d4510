/**
 * Creating, updating and deleting events, including the `this` / `following` / `all`
 * edits of recurring series as PROVIDERS.md §1.4 describes them. Every change is
 * conditional: on the ETag the application sent (EventRef.etag) when it sent one, else
 * on the ETag just read, so a concurrent edit surfaces as CONFLICT instead of being
 * overwritten.
 */
import { randomBytes } from 'node:crypto';
import { ONE_OCCURRENCE_RULE } from '../../domain/calendar.js';
import type { CalendarEvent, EditMode, EventInput, EventPatch, EventRef } from '../../domain/calendar.js';
import { ProviderError } from '../types.js';
import type { GoogleCalendarApi } from './google-calendar-api.js';
import { applyMergePatch, buildInsertBody, buildPatchBody, googleDateTime } from './google-event-body-builder.js';
import type { JsonObject } from './google-event-body-builder.js';
import { dateTimeMs, eventEndMs, eventStartMs, isAllDay, toCalendarEvent } from './google-event-mapper.js';
import type { GoogleContext } from './google-http.js';
import { exdateLine, exdateSlots, mapSlots, occurrencesBefore, slotKey, slotMs, slotOf } from './google-occurrence-slots.js';
import type { Slot } from './google-occurrence-slots.js';
import { endRecurrenceBefore, recurrenceCount, withCount } from './google-recurrence.js';
import type { GoogleEvent } from './google-wire-types.js';

const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';
const DAY_MS = 86_400_000;
/** Against a server that never stops handing out page tokens. */
const MAX_PAGES = 1000;

/** A random id in Google's allowed alphabet (base32hex), so inserts can be repeated safely. */
export function newGoogleEventId(): string {
  return [...randomBytes(26)].map((b) => BASE32HEX[b % 32]).join('');
}

/** What a series' occurrences at or after a split point hold beyond the rule itself. */
interface LaterChanges {
  /** Slots with no occurrence: EXDATEs and cancelled occurrences. */
  excluded: Slot[];
  /** Occurrences changed on their own (moved, retitled, …): exceptions of the series. */
  changed: GoogleEvent[];
}

export class GoogleEventEditor {
  constructor(private readonly api: GoogleCalendarApi) {}

  async create(ctx: GoogleContext, input: EventInput): Promise<CalendarEvent> {
    const id = newGoogleEventId();
    const write = buildInsertBody(input, id);
    return toCalendarEvent(await this.insert(ctx, input.calendarId, write.body, write.conferenceDataVersion), input.calendarId);
  }

  async update(ctx: GoogleContext, ref: EventRef, patch: EventPatch, mode?: EditMode): Promise<CalendarEvent> {
    const calendarId = ref.calendarId;
    const target = await this.load(ctx, calendarId, ref.eventId);
    // A single event, or a series addressed by its master: the change applies to exactly it.
    if (target.recurringEventId === undefined) {
      return toCalendarEvent(await this.patch(ctx, calendarId, target, patch, ref.etag), calendarId);
    }
    if ((mode ?? 'this') === 'this') {
      // Google would store the exception and drop the rule without a word.
      if (patch.recurrence !== undefined) throw new ProviderError('INVALID_INPUT', ONE_OCCURRENCE_RULE);
      return toCalendarEvent(await this.patch(ctx, calendarId, target, patch, ref.etag), calendarId);
    }
    // The application read the occurrence; the write goes to the series, so its ETag is checked here.
    assertUnchanged(target, ref.etag);
    const master = await this.load(ctx, calendarId, target.recurringEventId);
    if (mode === 'all' || isFirstOccurrence(target, master)) {
      return toCalendarEvent(await this.patch(ctx, calendarId, master, patchForSeries(patch, target, master)), calendarId);
    }
    return toCalendarEvent(await this.splitSeries(ctx, calendarId, master, target, patch), calendarId);
  }

  async remove(ctx: GoogleContext, ref: EventRef, mode?: EditMode): Promise<void> {
    const calendarId = ref.calendarId;
    const target = await this.load(ctx, calendarId, ref.eventId);
    // API.md: no mode removes the whole series.
    const effective = mode ?? 'all';
    if (target.recurringEventId === undefined || effective === 'this') {
      // Deleting an instance id cancels that one occurrence (Google keeps it as a cancelled exception).
      await this.api.deleteEvent(ctx, calendarId, target.id, { etag: ifMatch(ref.etag) ?? target.etag });
      return;
    }
    assertUnchanged(target, ref.etag);
    const master = await this.load(ctx, calendarId, target.recurringEventId);
    if (effective === 'all' || isFirstOccurrence(target, master)) {
      await this.api.deleteEvent(ctx, calendarId, master.id, { etag: master.etag });
      return;
    }
    await this.api.patchEvent(ctx, calendarId, master.id, { recurrence: this.truncatedBefore(master, target) }, { etag: master.etag });
  }

  private async load(ctx: GoogleContext, calendarId: string, eventId: string): Promise<GoogleEvent & { id: string }> {
    const event = await this.api.getEvent(ctx, calendarId, eventId);
    // Google still serves deleted events (and cancelled occurrences) as `cancelled`.
    if (event.status === 'cancelled' || !event.id) throw new ProviderError('NOT_FOUND', 'The event was deleted at Google');
    return event as GoogleEvent & { id: string };
  }

  /** PATCH conditional on `etag` (the application's) or else on the ETag `current` was read with. */
  private async patch(ctx: GoogleContext, calendarId: string, current: GoogleEvent, patch: EventPatch, etag?: string): Promise<GoogleEvent> {
    const write = buildPatchBody(patch, current);
    return this.api.patchEvent(ctx, calendarId, current.id!, write.body, {
      etag: ifMatch(etag) ?? current.etag,
      conferenceDataVersion: write.conferenceDataVersion,
    });
  }

  private async insert(ctx: GoogleContext, calendarId: string, body: JsonObject, conferenceDataVersion?: 1): Promise<GoogleEvent> {
    try {
      return await this.api.insertEvent(ctx, calendarId, body as GoogleEvent, { conferenceDataVersion });
    } catch (error) {
      // Our id is random: a duplicate means an earlier attempt of this same insert went through.
      if (error instanceof ProviderError && error.code === 'CONFLICT' && typeof body.id === 'string') {
        return this.api.getEvent(ctx, calendarId, body.id);
      }
      throw error;
    }
  }

  /**
   * `following`: a new series from the target's slot on (inserted first, so a failure
   * later duplicates rather than loses occurrences), then the master ends just before
   * the slot. If anything after the insert fails the new series is removed again.
   *
   * Unless the application gives a new rule, the new series continues the old one
   * exactly: COUNT becomes what the old rule had left (RFC 5545 counts excluded and
   * moved occurrences by their slot), excluded and cancelled occurrences stay excluded,
   * and occurrences changed on their own keep their changes, at their new position
   * when the edit moved the series' times.
   */
  private async splitSeries(
    ctx: GoogleContext,
    calendarId: string,
    master: GoogleEvent & { id: string },
    target: GoogleEvent,
    patch: EventPatch,
  ): Promise<GoogleEvent> {
    const split = slotOf(target)!;
    const startMs = occurrenceSlotMs(target);
    const allDay = isAllDay(master);
    const zone = master.start?.timeZone;
    const copy: JsonObject = {
      ...seriesFields(master),
      start: googleDateTime(startMs, allDay, zone),
      end: googleDateTime(startMs + (eventEndMs(master) - eventStartMs(master)), allDay, zone),
    };
    const write = buildPatchBody(patch, copy as GoogleEvent);
    const body: JsonObject = { ...applyMergePatch(copy, write.body), id: newGoogleEventId() };
    const later = patch.recurrence === undefined ? await this.laterChanges(ctx, calendarId, master, split) : undefined;
    if (later) body.recurrence = continuedRecurrence(master, split, body as GoogleEvent, later.excluded);
    const carriesConference = body.conferenceData !== undefined;
    const created = await this.insert(ctx, calendarId, body, carriesConference || write.conferenceDataVersion ? 1 : undefined);
    try {
      if (later && later.changed.length > 0) {
        await this.carryChanges(ctx, calendarId, master, split, created, later.changed, new Set(Object.keys(write.body)));
      }
      await this.api.patchEvent(ctx, calendarId, master.id, { recurrence: this.truncatedBefore(master, target) }, { etag: master.etag });
    } catch (error) {
      await this.api.deleteEvent(ctx, calendarId, created.id!).catch((cleanup: unknown) => {
        ctx.log.warn({ err: describeError(cleanup) }, 'google: could not remove the new series after a failed split');
      });
      throw error;
    }
    return created;
  }

  /**
   * The master's exclusions and exceptions at or after `split`. A series and its
   * exceptions share the master's iCalUID; without singleEvents Google lists the
   * exceptions as their own items, cancelled ones (showDeleted) as stubs with their slot.
   */
  private async laterChanges(ctx: GoogleContext, calendarId: string, master: GoogleEvent & { id: string }, split: Slot): Promise<LaterChanges> {
    const atOrAfter = (slot: Slot | undefined): slot is Slot => slot !== undefined && slotMs(slot) >= slotMs(split);
    const later: LaterChanges = { excluded: exdateSlots(master).filter(atOrAfter), changed: [] };
    if (!master.iCalUID) return later;
    let pageToken: string | undefined;
    let pages = 0;
    do {
      if (++pages > MAX_PAGES) throw new ProviderError('UNKNOWN', 'Google kept returning more pages of exceptions');
      const page = await this.api.listEvents(ctx, calendarId, { iCalUID: master.iCalUID, showDeleted: true, maxResults: 2500, pageToken });
      for (const item of page.items ?? []) {
        if (item.recurringEventId !== master.id) continue;
        const slot = slotOf(item);
        if (!atOrAfter(slot)) continue;
        if (item.status === 'cancelled') later.excluded.push(slot);
        else later.changed.push(item);
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
    return later;
  }

  /**
   * Re-applies each changed occurrence of the old series to the occurrence in its
   * position in `created`. The occurrence the edit was made on keeps its own changes
   * only where the edit did not set the field (`edited`: the Google fields it set).
   */
  private async carryChanges(
    ctx: GoogleContext,
    calendarId: string,
    master: GoogleEvent,
    split: Slot,
    created: GoogleEvent,
    changed: GoogleEvent[],
    edited: ReadonlySet<string>,
  ): Promise<void> {
    const positions = mapSlots(master, split, created, changed.map((e) => slotOf(e)!));
    const instances = await this.instancesAt(ctx, calendarId, created.id!, [...positions.values()]);
    for (const exception of changed) {
      const position = positions.get(slotKey(slotOf(exception)!));
      const instance = position ? instances.get(slotKey(position)) : undefined;
      if (!instance?.id) {
        ctx.log.warn({ calendarId }, 'google: an occurrence changed on its own has no place in the new series');
        continue;
      }
      const { body, conferenceDataVersion } = exceptionChanges(exception, master);
      if (slotKey(slotOf(exception)!) === slotKey(split)) for (const key of edited) delete body[key];
      if (Object.keys(body).length === 0) continue;
      await this.api.patchEvent(ctx, calendarId, instance.id, body, { etag: instance.etag, conferenceDataVersion });
    }
  }

  /** The occurrences of a series at the given slots, by slot key. */
  private async instancesAt(ctx: GoogleContext, calendarId: string, seriesId: string, slots: Slot[]): Promise<Map<string, GoogleEvent>> {
    const found = new Map<string, GoogleEvent>();
    if (slots.length === 0) return found;
    const wanted = new Set(slots.map(slotKey));
    const times = slots.map(slotMs);
    // All-day slots are dated in the calendar's zone at Google: a day either side covers any zone.
    const range = { timeMin: new Date(Math.min(...times) - DAY_MS).toISOString(), timeMax: new Date(Math.max(...times) + 2 * DAY_MS).toISOString() };
    let pageToken: string | undefined;
    let pages = 0;
    do {
      if (++pages > MAX_PAGES) throw new ProviderError('UNKNOWN', 'Google kept returning more pages of occurrences');
      const page = await this.api.listInstances(ctx, calendarId, seriesId, { ...range, maxResults: 2500, pageToken });
      for (const item of page.items ?? []) {
        const slot = slotOf(item);
        if (slot && wanted.has(slotKey(slot))) found.set(slotKey(slot), item);
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
    return found;
  }

  private truncatedBefore(master: GoogleEvent, target: GoogleEvent): string[] {
    const slot = target.originalStartTime ?? target.start;
    return endRecurrenceBefore(master.recurrence ?? [], {
      allDay: isAllDay(master),
      startMs: occurrenceSlotMs(target),
      date: slot?.date,
    });
  }
}

/** An If-Match value for an ETag as applications copy it from `original.etag` (Google's are quoted). */
function ifMatch(etag: string | undefined): string | undefined {
  if (etag === undefined) return undefined;
  const trimmed = etag.trim();
  return /^(W\/)?".*"$/.test(trimmed) ? trimmed : `"${trimmed}"`;
}

const comparableEtag = (etag: string | undefined): string | undefined => etag?.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');

/** The application's ETag against the version just read: a write must not go ahead on a stale view. */
function assertUnchanged(current: GoogleEvent, etag: string | undefined): void {
  if (etag !== undefined && comparableEtag(etag) !== comparableEtag(current.etag)) {
    throw new ProviderError('CONFLICT', 'The event changed at Google since it was read');
  }
}

/**
 * The recurrence of a series continuing `master` from `split`: the same rule with the
 * COUNT it had left, other lines kept, and one EXDATE line for the excluded slots,
 * moved to their positions in the new series.
 */
function continuedRecurrence(master: GoogleEvent, split: Slot, continuing: GoogleEvent, excluded: Slot[]): string[] {
  const lines = master.recurrence ?? [];
  const count = recurrenceCount(lines);
  const ruled = count === undefined ? [...lines] : withCount(lines, Math.max(1, count - (occurrencesBefore(master, split) ?? 0)));
  const kept = ruled.filter((line) => !/^EXDATE[;:]/i.test(line));
  const positions = mapSlots(master, split, { ...continuing, recurrence: kept }, excluded);
  const exdate = exdateLine(continuing, [...positions.values()]);
  return exdate ? [...kept, exdate] : kept;
}

/** Fields an occurrence may hold on its own, compared with the master it was cut from. */
const OCCURRENCE_FIELDS = [
  'summary',
  'description',
  'location',
  'colorId',
  'transparency',
  'visibility',
  'status',
  'reminders',
  'extendedProperties',
] as const;

/**
 * What an occurrence changed on its own, as a PATCH for its counterpart in a new series:
 * the fields where it differs from the master (they win over the edit that split the
 * series), and its times when it was moved or resized.
 */
function exceptionChanges(exception: GoogleEvent, master: GoogleEvent): { body: JsonObject; conferenceDataVersion?: 1 } {
  const body: JsonObject = {};
  for (const key of OCCURRENCE_FIELDS) {
    if (!sameJson(exception[key], master[key])) body[key] = exception[key] ?? null;
  }
  if (!sameJson(guests(exception), guests(master))) body.attendees = guests(exception) ?? [];
  const moved = dateTimeMs(exception.start) !== dateTimeMs(exception.originalStartTime);
  const resized = eventEndMs(exception) - eventStartMs(exception) !== eventEndMs(master) - eventStartMs(master);
  if (moved || resized) {
    body.start = exception.start;
    body.end = exception.end;
  }
  let conferenceDataVersion: 1 | undefined;
  const conference = exception.conferenceData;
  if (conference?.entryPoints?.length && !sameJson(conference.entryPoints, master.conferenceData?.entryPoints)) {
    body.conferenceData = { conferenceSolution: conference.conferenceSolution, conferenceId: conference.conferenceId, entryPoints: conference.entryPoints };
    conferenceDataVersion = 1;
  }
  return { body, conferenceDataVersion };
}

/** The guest list as written (Google adds flags such as `self` and `organizer` on reads). */
function guests(event: GoogleEvent): JsonObject[] | undefined {
  return event.attendees?.map(({ email, displayName, optional, responseStatus }) => ({ email, displayName, optional, responseStatus }));
}

function sameJson(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as JsonObject).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/** Where an occurrence sits in its series (its original start, even when moved). */
function occurrenceSlotMs(event: GoogleEvent): number {
  return dateTimeMs(event.originalStartTime) ?? eventStartMs(event);
}

function isFirstOccurrence(target: GoogleEvent, master: GoogleEvent): boolean {
  return occurrenceSlotMs(target) <= eventStartMs(master);
}

/**
 * A patch written against one occurrence, re-expressed for the master: the series
 * moves by as much as the occurrence moved from its slot, and takes the new duration.
 */
function patchForSeries(patch: EventPatch, instance: GoogleEvent, master: GoogleEvent): EventPatch {
  if (patch.start === undefined && patch.end === undefined) return patch;
  const instanceStart = eventStartMs(instance);
  const newStart = patch.start?.getTime() ?? instanceStart;
  const newEnd = patch.end?.getTime() ?? eventEndMs(instance);
  const shift = patch.start !== undefined ? newStart - occurrenceSlotMs(instance) : 0;
  const masterStart = eventStartMs(master) + shift;
  return { ...patch, start: new Date(masterStart), end: new Date(masterStart + (newEnd - newStart)) };
}

/** What a new series split off a master inherits (never ids, ETags or a pending Meet request). */
function seriesFields(master: GoogleEvent): JsonObject {
  const copy: JsonObject = {};
  const keys = [
    'summary',
    'description',
    'location',
    'colorId',
    'transparency',
    'visibility',
    'status',
    'recurrence',
    'reminders',
    'extendedProperties',
  ] as const;
  for (const key of keys) if (master[key] !== undefined) copy[key] = master[key];
  if (master.attendees) {
    copy.attendees = master.attendees.map(({ email, displayName, optional, responseStatus }) => ({
      email,
      displayName,
      optional,
      responseStatus,
    }));
  }
  const data = master.conferenceData;
  if (data?.entryPoints?.length) {
    // The same meeting continues: Google accepts copied conference details with conferenceDataVersion=1.
    copy.conferenceData = { conferenceSolution: data.conferenceSolution, conferenceId: data.conferenceId, entryPoints: data.entryPoints };
  }
  return copy;
}

function describeError(error: unknown): string {
  return error instanceof ProviderError ? error.code : error instanceof Error ? error.name : 'unknown';
}
