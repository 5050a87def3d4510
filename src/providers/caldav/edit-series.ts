/**
 * Plans writes on one calendar object for the this / following / all modes of
 * PROVIDERS.md §3.5. Pure: it edits ical.js components and says what to store;
 * the provider does the HTTP with If-Match.
 */
import { randomUUID } from 'node:crypto';
import ICAL from 'ical.js';
import type { EditMode, EventPatch } from '../../domain/calendar.js';
import { ProviderError } from '../types.js';
import { applyEventPatch, applyRecurrence, touch, type WriteContext } from './apply-event-patch.js';
import { cloneComponent, newVcalendar, type CalendarObject } from './calendar-object.js';
import { isRecurring, locateOccurrence, MAX_ITERATIONS, type ExpandedOccurrence } from './expand-series.js';
import { instantOf, recurrenceKey, shiftWall, styleOf, timeAt, wallDifference, writeTimeProperty } from './ics-time.js';
import { endOf, startOf } from './vevent-to-event.js';

/** What to return to the caller once the plan is stored: a series/single by UID, or one occurrence. */
export interface ResultRef {
  uid: string;
  recurrenceKey?: string;
}

export type WritePlan =
  | { kind: 'replace'; vcalendar: ICAL.Component; result: ResultRef }
  | { kind: 'delete' }
  | { kind: 'split'; vcalendar: ICAL.Component; created: { uid: string; vcalendar: ICAL.Component }; result: ResultRef };

/** Fields that "all" carries into overrides which still had the master's old value. */
const PROPAGATED: Array<[keyof EventPatch, string[]]> = [
  ['title', ['summary']],
  ['description', ['description']],
  ['location', ['location']],
  ['custom', ['x-almanac-custom']],
  ['conference', ['conference', 'url']],
  ['availability', ['transp']],
  ['privacy', ['class']],
  ['status', ['status']],
  ['attendees', ['attendee', 'organizer']],
];

function notFound(): ProviderError {
  return new ProviderError('NOT_FOUND', 'The event does not exist');
}

function invalid(message: string): ProviderError {
  return new ProviderError('INVALID_INPUT', message);
}

function recurrenceIdOf(vevent: ICAL.Component): ICAL.Time | undefined {
  const value = vevent.getFirstPropertyValue('recurrence-id');
  return value instanceof ICAL.Time ? value : undefined;
}

function propertyText(vevent: ICAL.Component, names: string[]): string {
  return names
    .flatMap((name) => vevent.getAllProperties(name).map((p) => JSON.stringify(p.toJSON())))
    .sort()
    .join('\n');
}

function copyProperties(from: ICAL.Component, to: ICAL.Component, names: string[]): void {
  for (const name of names) {
    to.removeAllProperties(name);
    for (const p of from.getAllProperties(name)) to.addProperty(new ICAL.Property(structuredClone(p.toJSON())));
  }
}

function mapTimes(vevent: ICAL.Component, name: string, fn: (t: ICAL.Time) => ICAL.Time | null): void {
  for (const property of vevent.getAllProperties(name)) {
    const values = property.getValues().filter((v): v is ICAL.Time => v instanceof ICAL.Time);
    const mapped = values.map(fn).filter((v): v is ICAL.Time => v !== null);
    if (mapped.length === 0) vevent.removeProperty(property);
    else property.setValues(mapped);
  }
}

function requireMaster(obj: CalendarObject): ICAL.Component {
  if (!obj.master) throw notFound();
  return obj.master;
}

function locate(obj: CalendarObject, key: string, ctx: WriteContext): ExpandedOccurrence {
  const occurrence = locateOccurrence(obj, key, ctx.floatingZone);
  if (!occurrence?.instance) throw notFound();
  return occurrence;
}

/** An override for `occurrence`, created from the master when there is none yet. */
function overrideFor(obj: CalendarObject, occurrence: ExpandedOccurrence): ICAL.Component {
  if (occurrence.vevent !== obj.master) return occurrence.vevent;
  const override = cloneComponent(occurrence.vevent);
  for (const name of ['rrule', 'rdate', 'exdate', 'recurrence-id']) override.removeAllProperties(name);
  // Same value type and zone as DTSTART (RFC 5545 §3.8.4.4): the iterator produced it in that zone.
  const rid = occurrence.instance!.recurrenceId;
  const masterStart = startOf(occurrence.vevent)!;
  writeTimeProperty(override, 'recurrence-id', rid);
  writeTimeProperty(override, 'dtstart', rid);
  writeTimeProperty(override, 'dtend', occurrenceEnd(rid, masterStart, endOf(occurrence.vevent, masterStart)));
  override.removeAllProperties('duration');
  obj.vcalendar.addSubcomponent(override);
  obj.overrides.push(override);
  return override;
}

function removeOverride(obj: CalendarObject, override: ICAL.Component): void {
  obj.vcalendar.removeSubcomponent(override);
  obj.overrides = obj.overrides.filter((o) => o !== override);
}

function isFirstOccurrence(obj: CalendarObject, occurrence: ExpandedOccurrence, ctx: WriteContext): boolean {
  const masterStart = startOf(requireMaster(obj))!;
  return instantOf(occurrence.instance!.recurrenceId, ctx.floatingZone) <= instantOf(masterStart, ctx.floatingZone);
}

/** RRULE instances strictly before `before`, so a COUNT can be split between two series. */
function countBefore(recur: ICAL.Recur, dtstart: ICAL.Time, before: ICAL.Time): number {
  const iterator = recur.iterator(dtstart);
  let n = 0;
  for (let next = iterator.next(); next && n < MAX_ITERATIONS; next = iterator.next()) {
    if (next.compare(before) >= 0) break;
    n++;
  }
  return n;
}

/**
 * Ends the master's rule just before `rid` (RFC 5545 UNTIL: UTC when DTSTART has a
 * TZID, a DATE when DTSTART is a DATE) and removes what lies at or after it.
 * Returns the COUNT each rule had left, for the series that continues.
 */
function endSeriesBefore(obj: CalendarObject, rid: ICAL.Time, ctx: WriteContext): Array<number | null> {
  const master = requireMaster(obj);
  const dtstart = startOf(master)!;
  const ridMs = instantOf(rid, ctx.floatingZone);
  const style = styleOf(dtstart);
  let until: ICAL.Time;
  if (style.kind === 'date') {
    until = rid.clone();
    until.day -= 1;
  } else if (style.kind === 'floating') {
    until = shiftWall(rid, -1);
  } else {
    until = timeAt(ridMs - 1000, { kind: 'utc' }, null);
  }
  const remaining: Array<number | null> = [];
  for (const property of master.getAllProperties('rrule')) {
    const recur = (property.getFirstValue() as ICAL.Recur).clone();
    remaining.push(recur.count ? Math.max(1, recur.count - countBefore(recur, dtstart, rid)) : null);
    recur.count = null as unknown as number;
    recur.until = until;
    property.setValue(recur);
  }
  const atOrAfter = (t: ICAL.Time): boolean => instantOf(t, ctx.floatingZone) >= ridMs;
  mapTimes(master, 'exdate', (t) => (atOrAfter(t) ? null : t));
  mapTimes(master, 'rdate', (t) => (atOrAfter(t) ? null : t));
  for (const override of [...obj.overrides]) {
    const overrideRid = recurrenceIdOf(override);
    if (overrideRid && atOrAfter(overrideRid)) removeOverride(obj, override);
  }
  touch(master, ctx.now);
  return remaining;
}

function copyTimezones(from: ICAL.Component, to: ICAL.Component): void {
  for (const zone of from.getAllSubcomponents('vtimezone')) to.addSubcomponent(cloneComponent(zone));
}

/**
 * "following": the old series ends before the occurrence and a new UID carries the
 * rest, exceptions included: overrides (moved or cancelled occurrences) and EXDATEs at
 * or after the split move to the new series unchanged, and the edit then applies to
 * it as "all" would, so they keep what was their own.
 */
function splitSeries(obj: CalendarObject, occurrence: ExpandedOccurrence, patch: EventPatch, ctx: WriteContext): WritePlan {
  const master = requireMaster(obj);
  const rid = occurrence.instance!.recurrenceId;
  const ridMs = instantOf(rid, ctx.floatingZone);
  const atOrAfterSplit = (t: ICAL.Time | undefined): boolean => !!t && instantOf(t, ctx.floatingZone) >= ridMs;
  const continuing = cloneComponent(master);
  const carriedExdates = master
    .getAllProperties('exdate')
    .flatMap((p) => p.getValues())
    .filter((t): t is ICAL.Time => t instanceof ICAL.Time && atOrAfterSplit(t));
  const carriedOverrides = obj.overrides.filter((o) => atOrAfterSplit(recurrenceIdOf(o))).map(cloneComponent);
  const remaining = endSeriesBefore(obj, rid, ctx);

  const uid = randomUUID();
  const vcalendar = newVcalendar();
  copyTimezones(obj.vcalendar, vcalendar);
  vcalendar.addSubcomponent(continuing);
  continuing.updatePropertyWithValue('uid', uid);
  continuing.removeAllProperties('exdate');
  mapTimes(continuing, 'rdate', (t) => (atOrAfterSplit(t) ? t : null));
  for (const exdate of carriedExdates) writeTimeProperty(continuing, 'exdate', exdate, true);
  const rules = continuing.getAllProperties('rrule');
  rules.forEach((property, i) => {
    const count = remaining[i];
    if (!count) return;
    const recur = (property.getFirstValue() as ICAL.Recur).clone();
    recur.count = count;
    property.setValue(recur);
  });
  const masterStart = startOf(master)!;
  writeTimeProperty(continuing, 'dtstart', rid);
  writeTimeProperty(continuing, 'dtend', occurrenceEnd(rid, masterStart, endOf(master, masterStart)));
  continuing.removeAllProperties('duration');
  continuing.updatePropertyWithValue('sequence', 0);
  continuing.updatePropertyWithValue('created', timeAt(ctx.now.getTime(), { kind: 'utc' }, null));
  for (const override of carriedOverrides) {
    override.updatePropertyWithValue('uid', uid);
    vcalendar.addSubcomponent(override);
  }

  const rest: CalendarObject = { href: obj.href, vcalendar, uid, master: continuing, overrides: carriedOverrides };
  updateSeries(rest, occurrence, patch, { ...ctx, vcalendar });
  // The occurrence the edit was made on takes it in full, even where it differed from the series.
  const edited = rest.overrides.find((o) => {
    const overrideRid = recurrenceIdOf(o);
    return overrideRid && recurrenceKey(overrideRid) === recurrenceKey(startOf(continuing)!);
  });
  if (edited) applyEventPatch(edited, { ...patch, recurrence: undefined }, { ...ctx, vcalendar });
  return { kind: 'split', vcalendar: obj.vcalendar, created: { uid, vcalendar }, result: { uid } };
}

/** The end of the occurrence starting at `start`, keeping the master's length. */
function occurrenceEnd(start: ICAL.Time, masterStart: ICAL.Time, masterEnd: ICAL.Time): ICAL.Time {
  const end = start.clone();
  if (start.isDate) end.day += Math.max(1, Math.round(masterEnd.subtractDate(masterStart).toSeconds() / 86_400));
  else end.addDuration(masterEnd.subtractDateTz(masterStart));
  return end;
}

/** "all": edit the master; overrides stay, moved along with the series and given the new values they shared. */
function updateSeries(obj: CalendarObject, occurrence: ExpandedOccurrence | undefined, patch: EventPatch, ctx: WriteContext): WritePlan {
  const master = requireMaster(obj);
  const oldMaster = cloneComponent(master);
  const oldStart = startOf(master)!;
  const oldStyle = styleOf(oldStart);
  const oldDuration = endOf(master, oldStart).subtractDateTz(oldStart).toSeconds();
  const masterPatch: EventPatch = { ...patch, recurrence: undefined };
  if (occurrence && (patch.start || patch.end)) {
    // Times given for one occurrence move the whole series by the same amount.
    const masterStartMs = instantOf(oldStart, ctx.floatingZone);
    const newStartMs = patch.start ? masterStartMs + (patch.start.getTime() - occurrence.startMs) : masterStartMs;
    masterPatch.start = new Date(newStartMs);
    if (patch.end) masterPatch.end = new Date(newStartMs + (patch.end.getTime() - (patch.start?.getTime() ?? occurrence.startMs)));
  }
  applyEventPatch(master, masterPatch, ctx);
  applyRecurrence(master, patch.recurrence);
  const newStart = startOf(master)!;
  const newStyle = styleOf(newStart);
  const restructured =
    patch.recurrence !== undefined ||
    newStyle.kind !== oldStyle.kind ||
    (newStyle.kind === 'zoned' && oldStyle.kind === 'zoned' && newStyle.zone.tzid !== oldStyle.zone.tzid);
  if (restructured) {
    // Old RECURRENCE-IDs cannot be mapped onto a new rule or time style.
    for (const override of [...obj.overrides]) removeOverride(obj, override);
    return { kind: 'replace', vcalendar: obj.vcalendar, result: { uid: obj.uid } };
  }
  const moved = wallDifference(newStart, oldStart);
  const newDuration = endOf(master, newStart).subtractDateTz(newStart).toSeconds();
  if (moved) {
    mapTimes(master, 'exdate', (t) => shiftWall(t, moved));
    mapTimes(master, 'rdate', (t) => shiftWall(t, moved));
  }
  for (const override of obj.overrides) {
    const rid = recurrenceIdOf(override);
    const start = startOf(override);
    if (!rid || !start) continue;
    const unmoved = recurrenceKey(rid) === recurrenceKey(start);
    const keepsLength = endOf(override, start).subtractDateTz(start).toSeconds() === oldDuration;
    if (moved) writeTimeProperty(override, 'recurrence-id', shiftWall(rid, moved));
    if (unmoved && (moved || (keepsLength && newDuration !== oldDuration))) {
      const shifted = shiftWall(start, moved);
      writeTimeProperty(override, 'dtstart', shifted);
      const end = shifted.clone();
      end.addDuration(ICAL.Duration.fromSeconds(keepsLength ? newDuration : endOf(override, start).subtractDateTz(start).toSeconds()));
      writeTimeProperty(override, 'dtend', end);
      override.removeAllProperties('duration');
    }
    for (const [field, names] of PROPAGATED) {
      if (patch[field] === undefined) continue;
      if (propertyText(override, names) === propertyText(oldMaster, names)) copyProperties(master, override, names);
    }
    touch(override, ctx.now);
  }
  return { kind: 'replace', vcalendar: obj.vcalendar, result: { uid: obj.uid } };
}

export function planUpdate(obj: CalendarObject, key: string | undefined, patch: EventPatch, mode: EditMode | undefined, ctx: WriteContext): WritePlan {
  const master = obj.master;
  if (!master) {
    // Only occurrences were shared with us: each is edited on its own.
    if (!key) throw invalid('This event exists only as single occurrences; address one of them');
    if (patch.recurrence !== undefined) throw invalid('A single occurrence cannot take a recurrence rule');
    const occurrence = locate(obj, key, ctx);
    applyEventPatch(occurrence.vevent, patch, ctx);
    return { kind: 'replace', vcalendar: obj.vcalendar, result: { uid: obj.uid, recurrenceKey: key } };
  }
  if (!isRecurring(master)) {
    if (key) throw notFound();
    applyEventPatch(master, { ...patch, recurrence: undefined }, ctx);
    applyRecurrence(master, patch.recurrence);
    return { kind: 'replace', vcalendar: obj.vcalendar, result: { uid: obj.uid } };
  }
  if (!key) return updateSeries(obj, undefined, patch, ctx);
  const occurrence = locate(obj, key, ctx);
  const effective = mode ?? 'this';
  if (effective === 'all' || (effective === 'following' && isFirstOccurrence(obj, occurrence, ctx))) {
    return updateSeries(obj, occurrence, patch, ctx);
  }
  if (effective === 'following') return splitSeries(obj, occurrence, patch, ctx);
  if (patch.recurrence !== undefined) throw invalid('A single occurrence cannot take a recurrence rule; use updateMode "following" or "all"');
  const override = overrideFor(obj, occurrence);
  applyEventPatch(override, patch, ctx);
  return { kind: 'replace', vcalendar: obj.vcalendar, result: { uid: obj.uid, recurrenceKey: key } };
}

/** Without a mode the whole series goes, as API.md specifies for DELETE. */
export function planDelete(obj: CalendarObject, key: string | undefined, mode: EditMode | undefined, ctx: WriteContext): WritePlan {
  const master = obj.master;
  if (!master) {
    if (!key) return { kind: 'delete' };
    const occurrence = locate(obj, key, ctx);
    removeOverride(obj, occurrence.vevent);
    return obj.overrides.length ? { kind: 'replace', vcalendar: obj.vcalendar, result: { uid: obj.uid } } : { kind: 'delete' };
  }
  if (!isRecurring(master)) {
    if (key) throw notFound();
    return { kind: 'delete' };
  }
  if (!key || !mode || mode === 'all') return { kind: 'delete' };
  const occurrence = locate(obj, key, ctx);
  if (mode === 'following') {
    if (isFirstOccurrence(obj, occurrence, ctx)) return { kind: 'delete' };
    endSeriesBefore(obj, occurrence.instance!.recurrenceId, ctx);
    return { kind: 'replace', vcalendar: obj.vcalendar, result: { uid: obj.uid } };
  }
  if (occurrence.vevent !== master) removeOverride(obj, occurrence.vevent);
  // EXDATE in the same value type and zone as DTSTART.
  writeTimeProperty(master, 'exdate', occurrence.instance!.recurrenceId, true);
  touch(master, ctx.now);
  return { kind: 'replace', vcalendar: obj.vcalendar, result: { uid: obj.uid } };
}
