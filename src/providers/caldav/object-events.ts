/**
 * The API events one calendar object resource contributes to a range, in both views:
 * its occurrences (singleEvents=true) and its master or single event (singleEvents=false).
 * Live reads and the change feed both go through here, so the mirror holds exactly what
 * a live read would have returned.
 */
import type { CalendarEvent, ProviderId } from '../../domain/calendar.js';
import type { CalendarObject } from './calendar-object.js';
import { expandObject, hasOccurrenceIn, type ExpandOptions } from './expand-series.js';
import { endOf, startOf, toCalendarEvent, type Occurrence, type ReadContext } from './vevent-to-event.js';

export interface ObjectSource {
  object: CalendarObject;
  /** The resource as stored (carried in `original.ics` of single events and masters). */
  ics: string;
}

export interface ObjectEventsContext {
  provider: ProviderId;
  calendarId: string;
  floatingZone: string | null;
}

export interface PositionedEvent {
  startMs: number;
  event: CalendarEvent;
}

function readContext(ctx: ObjectEventsContext, obj: CalendarObject): ReadContext {
  return { provider: ctx.provider, calendarId: ctx.calendarId, href: obj.href, ...(obj.etag ? { etag: obj.etag } : {}), floatingZone: ctx.floatingZone };
}

/** The series master (or single event) as an API event with its recurrence; undefined without a master. */
export function masterOf(source: ObjectSource, ctx: ObjectEventsContext): PositionedEvent | undefined {
  const master = source.object.master;
  const start = master && startOf(master);
  if (!master || !start) return undefined;
  const event = toCalendarEvent({ vevent: master, start, end: endOf(master, start) }, readContext(ctx, source.object), { withRecurrence: true, ics: source.ics });
  return { startMs: Date.parse(event.start), event };
}

/** One occurrence as singleEvents=true lists it (a single event carries its resource's text too). */
export function occurrenceEvent(source: ObjectSource, ctx: ObjectEventsContext, occurrence: Occurrence): CalendarEvent {
  return toCalendarEvent(occurrence, readContext(ctx, source.object), { withRecurrence: false, ...(occurrence.instance ? {} : { ics: source.ics }) });
}

/** Occurrences overlapping the range, as singleEvents=true lists them. */
export function instancesIn(source: ObjectSource, ctx: ObjectEventsContext, range: Omit<ExpandOptions, 'floatingZone'>): PositionedEvent[] {
  const out: PositionedEvent[] = [];
  for (const occurrence of expandObject(source.object, { ...range, floatingZone: ctx.floatingZone })) {
    out.push({ startMs: occurrence.startMs, event: occurrenceEvent(source, ctx, occurrence) });
  }
  return out;
}

/**
 * As singleEvents=false lists the object: its master when the series (or single) has
 * something in the range; an object holding only overrides (an invitation to single
 * occurrences) has no master, so its occurrences stand in for it.
 */
export function mastersIn(source: ObjectSource, ctx: ObjectEventsContext, range: Omit<ExpandOptions, 'floatingZone'>): PositionedEvent[] {
  if (!source.object.master) return instancesIn(source, ctx, range);
  if (!hasOccurrenceIn(source.object, { ...range, floatingZone: ctx.floatingZone })) return [];
  const master = masterOf(source, ctx);
  return master ? [master] : [];
}
