/**
 * Writes. Every write is conditional: the application's ETag when it sent one (checked
 * against a fresh read, then sent as If-Match), else the one just read, so a change
 * made at Microsoft in between is CONFLICT, never overwritten. Edit modes:
 * - this: PATCH or DELETE the occurrence (it becomes an exception, or goes);
 * - all: PATCH or DELETE the series master (exceptions keep their own changes);
 * - following: Graph has no such operation. A new series starts at the occurrence (its
 *   numbered range shortened by the slots before it), later deleted occurrences are
 *   deleted and later exceptions re-applied in it, and only then is the old series'
 *   range ended the day before, so a failure leaves no occurrence lost.
 * A write refused with 403 on a calendar whose `canEdit` is false is READ_ONLY.
 */
import type { CalendarEvent, EditMode, EventInput, EventPatch, EventRef } from '../../domain/calendar.js';
import { ONE_OCCURRENCE_RULE } from '../../domain/calendar.js';
import { ProviderError } from '../types.js';
import type { GraphCalendarApi } from './graph-calendar-api.js';
import { createBody, fieldsBody, timesBody, zoneOf } from './graph-event-body.js';
import { eventSpan, toCalendarEvent } from './graph-event-mapper.js';
import type { GraphContext } from './graph-http.js';
import { slotDatesBefore } from './graph-recurrence.js';
import { addDays, ianaZoneOf, instantOf, localDate } from './graph-time.js';
import type { GraphEvent } from './graph-wire-types.js';

const DAY = 86_400_000;
/** How far ahead a never-ending series is searched for exceptions to carry over in a split. */
const OPEN_SERIES_HORIZON_DAYS = 5 * 366;
/** Fields an exception may have changed on top of its series. */
const EXCEPTION_FIELDS = ['subject', 'body', 'location', 'showAs', 'sensitivity', 'categories', 'attendees'] as const;

const etagOf = (event: GraphEvent): string | undefined => event['@odata.etag'];

function conflict(): ProviderError {
  return new ProviderError('CONFLICT', 'The event changed at Microsoft since it was read');
}

function mapped(event: GraphEvent | undefined, calendarId: string, custom?: Record<string, unknown> | null): CalendarEvent {
  const result = event && toCalendarEvent(event, calendarId);
  if (!result) throw new ProviderError('UNKNOWN', 'Microsoft answered a write without the event');
  // Write answers carry no extended properties: report what was written.
  if (custom !== undefined) {
    if (custom === null) delete result.custom;
    else result.custom = custom;
  }
  return result;
}

/** The series' own zone (its recurrence zone, else its start's), UTC when custom or unknown. */
function seriesZone(master: GraphEvent): string {
  return ianaZoneOf(master.recurrence?.range.recurrenceTimeZone) ?? ianaZoneOf(master.originalStartTimeZone) ?? 'UTC';
}

/** The date an occurrence's slot falls on in its series' zone. */
function slotDate(occurrence: GraphEvent, master: GraphEvent): string | undefined {
  if (!occurrence.originalStart) return undefined;
  const ms = Date.parse(occurrence.originalStart);
  if (Number.isNaN(ms)) return undefined;
  // Slots (all-day ones too) start on their date in the series' zone.
  return localDate(ms, seriesZone(master));
}

export class GraphEventEditor {
  constructor(private readonly api: GraphCalendarApi) {}

  async create(ctx: GraphContext, input: EventInput): Promise<CalendarEvent> {
    let calendar: Awaited<ReturnType<GraphCalendarApi['getCalendar']>> | undefined;
    const wantsTeams = input.conferenceData?.autoGenerate === true && input.conferenceData.provider === 'microsoft-teams';
    if (wantsTeams) calendar = await this.api.getCalendar(ctx, input.calendarId);
    const body = createBody(input, () => (calendar?.allowedOnlineMeetingProviders ?? []).includes('teamsForBusiness'));
    const created = await this.guard(ctx, input.calendarId, () => this.api.createEvent(ctx, input.calendarId, body));
    return mapped(created, input.calendarId, input.custom ?? undefined);
  }

  async update(ctx: GraphContext, ref: EventRef, patch: EventPatch, mode?: EditMode): Promise<CalendarEvent> {
    const target = await this.read(ctx, ref);
    const isInstance = target.type === 'occurrence' || target.type === 'exception';
    const effective: EditMode = isInstance ? (mode ?? 'this') : 'all';
    if (isInstance && effective === 'this' && patch.recurrence) throw new ProviderError('INVALID_INPUT', ONE_OCCURRENCE_RULE);
    if (!isInstance) return this.patchWhole(ctx, ref.calendarId, target, patch, target);
    const master = await this.readMaster(ctx, ref.calendarId, target);
    if (effective === 'all') return this.patchWhole(ctx, ref.calendarId, master, patch, target);
    if (effective === 'following') {
      const date = slotDate(target, master);
      if (!date || !master.recurrence || date <= master.recurrence.range.startDate) return this.patchWhole(ctx, ref.calendarId, master, patch, target);
      return this.split(ctx, ref.calendarId, master, target, date, patch);
    }
    const body = { ...fieldsBody(patch, () => true), ...this.movedTimes(target, patch, undefined) };
    const updated = await this.guard(ctx, ref.calendarId, () => this.api.patchEvent(ctx, ref.calendarId, target.id, body, etagOf(target)));
    return mapped(updated, ref.calendarId, patch.custom);
  }

  async remove(ctx: GraphContext, ref: EventRef, mode?: EditMode): Promise<void> {
    const target = await this.read(ctx, ref);
    const isInstance = target.type === 'occurrence' || target.type === 'exception';
    if (!isInstance || (mode ?? 'this') === 'this') {
      await this.guard(ctx, ref.calendarId, () => this.api.deleteEvent(ctx, ref.calendarId, target.id, etagOf(target)));
      return;
    }
    const master = await this.readMaster(ctx, ref.calendarId, target);
    const date = slotDate(target, master);
    if (mode === 'all' || !date || !master.recurrence || date <= master.recurrence.range.startDate) {
      await this.guard(ctx, ref.calendarId, () => this.api.deleteEvent(ctx, ref.calendarId, master.id, etagOf(master)));
      return;
    }
    await this.guard(ctx, ref.calendarId, () => this.api.patchEvent(ctx, ref.calendarId, master.id, { recurrence: endedBefore(master, date) }, etagOf(master)));
  }

  /** The event as it is now, failing with CONFLICT when the caller's version is not it. */
  private async read(ctx: GraphContext, ref: EventRef): Promise<GraphEvent> {
    const event = await this.api.getEvent(ctx, ref.calendarId, ref.eventId);
    if (!event) throw new ProviderError('NOT_FOUND', 'Microsoft has no such event');
    if (ref.etag !== undefined && ref.etag !== etagOf(event)) throw conflict();
    return event;
  }

  private async readMaster(ctx: GraphContext, calendarId: string, instance: GraphEvent): Promise<GraphEvent> {
    if (!instance.seriesMasterId) throw new ProviderError('UNKNOWN', 'Microsoft listed an occurrence without its series');
    const master = await this.api.getEvent(ctx, calendarId, instance.seriesMasterId);
    if (!master) throw new ProviderError('NOT_FOUND', 'Microsoft has no such series');
    return master;
  }

  /** PATCH a single event or a series master; `seen` is what the caller pointed at (an occurrence moves the series by as much). */
  private async patchWhole(ctx: GraphContext, calendarId: string, event: GraphEvent, patch: EventPatch, seen: GraphEvent): Promise<CalendarEvent> {
    const body = { ...fieldsBody(patch, () => true), ...this.movedTimes(event, patch, seen === event ? undefined : seen) };
    const updated = await this.guard(ctx, calendarId, () => this.api.patchEvent(ctx, calendarId, event.id, body, etagOf(event)));
    return mapped(updated, calendarId, patch.custom);
  }

  /**
   * start / end / isAllDay (and recurrence) for a patch that touches times. With `via` (an
   * occurrence of `event`'s series), the patch's times are the occurrence's new times and
   * the series moves by the same amount.
   */
  private movedTimes(event: GraphEvent, patch: EventPatch, via: GraphEvent | undefined): Record<string, unknown> {
    const touchesTimes = patch.start != null || patch.end != null || patch.allDay != null || patch.timeZone !== undefined;
    if (!touchesTimes && patch.recurrence === undefined) return {};
    const span = eventSpan(event);
    if (!span) throw new ProviderError('UNKNOWN', 'Microsoft sent an event without usable times');
    const zone = patch.timeZone ? zoneOf(patch.timeZone) : (ianaZoneOf(event.originalStartTimeZone) ?? 'UTC');
    let start = new Date(span.startMs);
    let end = new Date(span.endMs);
    if (via) {
      const seen = eventSpan(via)!;
      const shift = (patch.start ?? new Date(seen.startMs)).getTime() - seen.startMs;
      start = new Date(span.startMs + shift);
      const duration = (patch.end ?? new Date(seen.endMs)).getTime() - (patch.start ?? new Date(seen.startMs)).getTime();
      end = new Date(start.getTime() + duration);
    } else {
      if (patch.start) start = patch.start;
      if (patch.end) end = patch.end;
    }
    const allDay = patch.allDay ?? event.isAllDay === true;
    const recurrence = patch.recurrence !== undefined ? patch.recurrence : undefined;
    const body = timesBody({ start, end, allDay, timeZone: zone }, recurrence);
    // A series whose start moves keeps its pattern, starting from the new date.
    if (recurrence === undefined && event.type === 'seriesMaster' && event.recurrence && touchesTimes) {
      const startDate = allDay ? start.toISOString().slice(0, 10) : localDate(start.getTime(), zone);
      body.recurrence = { ...event.recurrence, range: { ...event.recurrence.range, startDate } };
    }
    if (!touchesTimes) {
      delete body.start;
      delete body.end;
      delete body.isAllDay;
    }
    return body;
  }

  private async split(ctx: GraphContext, calendarId: string, master: GraphEvent, target: GraphEvent, date: string, patch: EventPatch): Promise<CalendarEvent> {
    const rec = master.recurrence!;
    const zone = seriesZone(master);
    const span = eventSpan(master)!;
    const targetSlotMs = Date.parse(target.originalStart!);
    // The slots the old series had from the split on, deleted ones included.
    const lastDate = rec.range.type === 'endDate' && rec.range.endDate ? rec.range.endDate : rec.range.type === 'numbered' ? slotDatesBefore(rec, '9999-12-31').at(-1) ?? date : addDays(date, OPEN_SERIES_HORIZON_DAYS);
    const before = slotDatesBefore(rec, date).length;
    const laterSlots = slotDatesBefore(rec, addDays(lastDate, 1)).filter((d) => d >= date);
    const windowStart = new Date(targetSlotMs - 2 * DAY).toISOString();
    const windowEnd = new Date(Date.parse(`${addDays(lastDate, 2)}T00:00:00Z`) + DAY).toISOString();
    const old = (await this.api.instances(ctx, calendarId, master.id, windowStart, windowEnd)).filter((i) => slotDate(i, master) !== undefined && slotDate(i, master)! >= date);
    const oldBySlot = new Map(old.map((i) => [slotDate(i, master)!, i]));
    const deletedSlots = laterSlots.filter((d) => !oldBySlot.has(d));

    // The new series: the old one's fields, the patch on top, starting at the target's slot.
    const newRange = rec.range.type === 'numbered'
      ? { ...rec.range, startDate: date, numberOfOccurrences: Math.max(1, (rec.range.numberOfOccurrences ?? 1) - before) }
      : { ...rec.range, startDate: date };
    const slotStart = master.isAllDay ? Date.parse(`${date}T00:00:00Z`) : targetSlotMs;
    const duration = span.endMs - span.startMs;
    const base: Record<string, unknown> = {
      subject: master.subject ?? '',
      body: { contentType: 'text', content: master.body?.content ?? '' },
      location: { displayName: master.location?.displayName ?? '' },
      attendees: (master.attendees ?? []).map((a) => ({ emailAddress: a.emailAddress, type: a.type ?? 'required' })),
      showAs: master.showAs ?? 'busy',
      sensitivity: master.sensitivity ?? 'normal',
      categories: master.categories ?? [],
      ...(master.singleValueExtendedProperties?.length ? { singleValueExtendedProperties: master.singleValueExtendedProperties } : {}),
      ...(master.isOnlineMeeting ? { isOnlineMeeting: true, onlineMeetingProvider: master.onlineMeetingProvider } : {}),
    };
    const times = timesBody({ start: new Date(slotStart), end: new Date(slotStart + duration), allDay: master.isAllDay === true, timeZone: zone }, undefined);
    const body: Record<string, unknown> = { ...base, ...times, recurrence: { pattern: rec.pattern, range: newRange }, ...fieldsBody(patch, () => true) };
    const touchesTimes = patch.start != null || patch.end != null || patch.allDay != null || patch.timeZone !== undefined || patch.recurrence !== undefined;
    if (touchesTimes) {
      const pseudo: GraphEvent = { ...master, type: 'seriesMaster', start: body.start as GraphEvent['start'], end: body.end as GraphEvent['end'], originalStartTimeZone: (body.start as { timeZone: string }).timeZone, recurrence: body.recurrence as GraphEvent['recurrence'] };
      Object.assign(body, this.movedTimes(pseudo, patch, { ...target, start: target.start, end: target.end }));
    }
    const created = await this.guard(ctx, calendarId, () => this.api.createEvent(ctx, calendarId, body));
    if (!created) throw new ProviderError('UNKNOWN', 'Microsoft answered a write without the event');

    try {
      // Carry later deletions and exceptions over, unless the patch replaced the pattern.
      if (patch.recurrence === undefined && (deletedSlots.length > 0 || old.some((i) => i.type === 'exception'))) {
        const fresh = await this.api.instances(ctx, calendarId, created.id, windowStart, windowEnd);
        const freshBySlot = new Map(fresh.map((i) => [slotDate(i, master), i]));
        for (const slot of deletedSlots) {
          const occurrence = freshBySlot.get(slot);
          if (occurrence) await this.api.deleteEvent(ctx, calendarId, occurrence.id, etagOf(occurrence));
        }
        for (const exception of old.filter((i) => i.type === 'exception')) {
          const occurrence = freshBySlot.get(slotDate(exception, master));
          if (!occurrence) continue;
          const changes: Record<string, unknown> = {};
          for (const field of EXCEPTION_FIELDS) {
            if (JSON.stringify(exception[field]) !== JSON.stringify(master[field])) changes[field] = exception[field];
          }
          const moved = instantOf(exception.start) !== Date.parse(exception.originalStart!) || (eventSpan(exception)!.endMs - eventSpan(exception)!.startMs) !== duration;
          if (moved) Object.assign(changes, timesBody({ start: new Date(eventSpan(exception)!.startMs), end: new Date(eventSpan(exception)!.endMs), allDay: master.isAllDay === true, timeZone: zone }, undefined));
          if (Object.keys(changes).length > 0) await this.api.patchEvent(ctx, calendarId, occurrence.id, changes, etagOf(occurrence));
        }
      }
      await this.api.patchEvent(ctx, calendarId, master.id, { recurrence: endedBefore(master, date) }, etagOf(master));
    } catch (error) {
      // Undo the new series so the calendar is as it was (the old one is untouched until its range is ended).
      await this.api.deleteEvent(ctx, calendarId, created.id).catch(() => undefined);
      throw error;
    }
    return mapped(created, calendarId, patch.custom);
  }

  /** Runs a write; a 403 on a calendar the account may only read becomes READ_ONLY. */
  private async guard<T>(ctx: GraphContext, calendarId: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'INSUFFICIENT_SCOPE') {
        const calendar = await this.api.getCalendar(ctx, calendarId).catch(() => undefined);
        if (calendar?.canEdit === false) throw new ProviderError('READ_ONLY', 'Microsoft allows this account only to read this calendar', { cause: error });
      }
      throw error;
    }
  }
}

/** The series' recurrence ended the day before `date`. */
function endedBefore(master: GraphEvent, date: string): GraphEvent['recurrence'] {
  const rec = master.recurrence!;
  return { pattern: rec.pattern, range: { type: 'endDate', startDate: rec.range.startDate, endDate: addDays(date, -1), ...(rec.range.recurrenceTimeZone ? { recurrenceTimeZone: rec.range.recurrenceTimeZone } : {}) } };
}
