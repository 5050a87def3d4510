/**
 * Creating, updating and deleting events, including the `this` / `following` / `all`
 * edits of recurring series as PROVIDERS.md §1.4 describes them. Every change is
 * conditional on the ETag just read, so a concurrent edit surfaces as CONFLICT.
 */
import { randomBytes } from 'node:crypto';
import type { CalendarEvent, EditMode, EventInput, EventPatch, EventRef } from '../../domain/calendar.js';
import { ProviderError } from '../types.js';
import type { GoogleCalendarApi } from './google-calendar-api.js';
import { applyMergePatch, buildInsertBody, buildPatchBody, googleDateTime } from './google-event-body-builder.js';
import type { JsonObject } from './google-event-body-builder.js';
import { dateTimeMs, eventEndMs, eventStartMs, isAllDay, toCalendarEvent } from './google-event-mapper.js';
import type { GoogleContext } from './google-http.js';
import { endRecurrenceBefore, recurrenceCount, withCount } from './google-recurrence.js';
import type { GoogleEvent } from './google-wire-types.js';

const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

/** A random id in Google's allowed alphabet (base32hex), so inserts can be repeated safely. */
export function newGoogleEventId(): string {
  return [...randomBytes(26)].map((b) => BASE32HEX[b % 32]).join('');
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
    if (target.recurringEventId === undefined || (mode ?? 'this') === 'this') {
      return toCalendarEvent(await this.patch(ctx, calendarId, target, patch), calendarId);
    }
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
      await this.api.deleteEvent(ctx, calendarId, target.id!, { etag: target.etag });
      return;
    }
    const master = await this.load(ctx, calendarId, target.recurringEventId);
    if (effective === 'all' || isFirstOccurrence(target, master)) {
      await this.api.deleteEvent(ctx, calendarId, master.id!, { etag: master.etag });
      return;
    }
    await this.api.patchEvent(ctx, calendarId, master.id!, { recurrence: this.truncatedBefore(master, target) }, { etag: master.etag });
  }

  private async load(ctx: GoogleContext, calendarId: string, eventId: string): Promise<GoogleEvent & { id: string }> {
    const event = await this.api.getEvent(ctx, calendarId, eventId);
    // Google still serves deleted events (and cancelled occurrences) as `cancelled`.
    if (event.status === 'cancelled' || !event.id) throw new ProviderError('NOT_FOUND', 'The event was deleted at Google');
    return event as GoogleEvent & { id: string };
  }

  private async patch(ctx: GoogleContext, calendarId: string, current: GoogleEvent, patch: EventPatch): Promise<GoogleEvent> {
    const write = buildPatchBody(patch, current);
    return this.api.patchEvent(ctx, calendarId, current.id!, write.body, {
      etag: current.etag,
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
   * the slot. If ending the master fails the new series is removed again.
   */
  private async splitSeries(
    ctx: GoogleContext,
    calendarId: string,
    master: GoogleEvent,
    target: GoogleEvent,
    patch: EventPatch,
  ): Promise<GoogleEvent> {
    const slotMs = occurrenceSlotMs(target);
    const allDay = isAllDay(master);
    const zone = master.start?.timeZone;
    const copy: JsonObject = {
      ...seriesFields(master),
      start: googleDateTime(slotMs, allDay, zone),
      end: googleDateTime(slotMs + (eventEndMs(master) - eventStartMs(master)), allDay, zone),
    };
    const count = recurrenceCount(master.recurrence ?? []);
    if (count !== undefined && patch.recurrence === undefined) {
      const before = await this.countOccurrencesBefore(ctx, calendarId, master, slotMs);
      copy.recurrence = withCount(master.recurrence ?? [], Math.max(1, count - before));
    }
    const write = buildPatchBody(patch, copy as GoogleEvent);
    const body: JsonObject = { ...applyMergePatch(copy, write.body), id: newGoogleEventId() };
    const carriesConference = body.conferenceData !== undefined;
    const created = await this.insert(ctx, calendarId, body, carriesConference || write.conferenceDataVersion ? 1 : undefined);
    try {
      await this.api.patchEvent(ctx, calendarId, master.id!, { recurrence: this.truncatedBefore(master, target) }, { etag: master.etag });
    } catch (error) {
      await this.api.deleteEvent(ctx, calendarId, created.id!).catch((cleanup: unknown) => {
        ctx.log.warn({ err: describeError(cleanup) }, 'google: could not remove the new series after a failed split');
      });
      throw error;
    }
    return created;
  }

  private truncatedBefore(master: GoogleEvent, target: GoogleEvent): string[] {
    const slot = target.originalStartTime ?? target.start;
    return endRecurrenceBefore(master.recurrence ?? [], {
      allDay: isAllDay(master),
      startMs: occurrenceSlotMs(target),
      date: slot?.date,
    });
  }

  /** COUNT counts every generated occurrence, cancelled ones included (RFC 5545 §3.3.10). */
  private async countOccurrencesBefore(ctx: GoogleContext, calendarId: string, master: GoogleEvent, slotMs: number): Promise<number> {
    let count = 0;
    let pageToken: string | undefined;
    do {
      const page = await this.api.listInstances(ctx, calendarId, master.id!, {
        timeMin: new Date(eventStartMs(master)).toISOString(),
        timeMax: new Date(slotMs).toISOString(),
        showDeleted: true,
        maxResults: 2500,
        pageToken,
      });
      count += (page.items ?? []).filter((i) => occurrenceSlotMs(i) < slotMs).length;
      pageToken = page.nextPageToken;
    } while (pageToken);
    return count;
  }
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
