/**
 * The occurrences stored iCalendar objects describe, computed with ical.js's own
 * ICAL.Event (RRULE, RDATE, EXDATE, RECURRENCE-ID exceptions), not with Almanac's
 * expansion: the CalDAV fixtures' "what the server holds" reading. Cancelled
 * exceptions (STATUS:CANCELLED) remove their occurrence.
 */
import ICAL from 'ical.js';
import type { ServerOccurrence } from './contract-fixture.js';

const DAY = 86_400_000;
/** How far past the range the iteration looks for exceptions moved into it. */
const LOOKAHEAD = 400 * DAY;
const MAX_ITERATIONS = 20_000;

function isCancelled(component: ICAL.Component): boolean {
  return String(component.getFirstPropertyValue('status') ?? '').toUpperCase() === 'CANCELLED';
}

function wire(time: ICAL.Time): string {
  return time.isDate ? time.toString().slice(0, 10) : time.toJSDate().toISOString();
}

function instant(time: ICAL.Time): number {
  return time.isDate ? Date.UTC(time.year, time.month - 1, time.day) : time.toJSDate().getTime();
}

function occurrence(title: string | null | undefined, start: ICAL.Time, end: ICAL.Time | null): { o: ServerOccurrence; startMs: number; endMs: number } {
  const startMs = instant(start);
  const endMs = end ? instant(end) : startMs + (start.isDate ? DAY : 0);
  const endText = end ? wire(end) : start.isDate ? new Date(endMs).toISOString().slice(0, 10) : new Date(endMs).toISOString();
  return { o: { title: title ?? '', start: wire(start), end: endText }, startMs, endMs };
}

/** Occurrences of every object overlapping [start, end) (all-day events as UTC-midnight days), in start order. */
export function expandStoredObjects(icsTexts: string[], range: { start: Date; end: Date }): ServerOccurrence[] {
  const from = range.start.getTime();
  const to = range.end.getTime();
  const found: Array<{ o: ServerOccurrence; startMs: number; endMs: number }> = [];
  const keep = (x: { o: ServerOccurrence; startMs: number; endMs: number }): void => {
    if (x.endMs > from && x.startMs < to) found.push(x);
  };
  for (const ics of icsTexts) {
    const root = new ICAL.Component(ICAL.parse(ics));
    const vevents = root.getAllSubcomponents('vevent');
    const master = vevents.find((v) => !v.hasProperty('recurrence-id'));
    const exceptions = vevents.filter((v) => v.hasProperty('recurrence-id'));
    if (!master) {
      for (const e of exceptions) if (!isCancelled(e)) keep(occurrence(new ICAL.Event(e).summary, new ICAL.Event(e).startDate, new ICAL.Event(e).endDate));
      continue;
    }
    const event = new ICAL.Event(master, { exceptions, strictExceptions: true });
    if (!event.isRecurring()) {
      if (!isCancelled(master)) keep(occurrence(event.summary, event.startDate, event.endDate));
      continue;
    }
    const horizon = to + LOOKAHEAD;
    const iterator = event.iterator();
    for (let next = iterator.next(), n = 0; next && n < MAX_ITERATIONS; next = iterator.next(), n++) {
      if (instant(next) > horizon) break;
      const details = event.getOccurrenceDetails(next);
      if (isCancelled(details.item.component)) continue;
      keep(occurrence(details.item.summary, details.startDate, details.endDate));
    }
  }
  return found.sort((a, b) => a.startMs - b.startMs || a.o.title.localeCompare(b.o.title)).map((x) => x.o);
}
