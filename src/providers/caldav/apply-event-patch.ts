/**
 * Writes API fields into a VEVENT. Patch semantics: an omitted field stays as it is,
 * `null` removes it. Times keep the event's existing style (TZID, UTC, floating or
 * date) unless the patch changes `allDay` or `timeZone`.
 */
import ICAL from 'ical.js';
import type { EventPatch } from '../../domain/calendar.js';
import { ProviderError } from '../types.js';
import { instantOf, styleOf, timeAt, writeTimeProperty, type TimeStyle } from './ics-time.js';
import { toRecur } from './recurrence-rule.js';
import { CUSTOM_PROPERTY, conferenceProviderOf, endOf, mailtoAddress, spanOf, startOf } from './vevent-to-event.js';
import { buildVtimezoneComponent } from './vtimezone-builder.js';
import { resolveIanaZone } from '../../domain/zone-clock.js';

export interface WriteContext {
  vcalendar: ICAL.Component;
  floatingZone: string | null;
  /** The account's own address, written as ORGANIZER when attendees are invited. */
  organizerEmail?: string;
  now: Date;
}

const DAY = 86_400_000;

function invalid(message: string): ProviderError {
  return new ProviderError('INVALID_INPUT', message);
}

/** A Timezone for an IANA zone, adding its VTIMEZONE to the calendar when missing. */
export function zoneFor(vcalendar: ICAL.Component, zoneName: string, aroundYear: number): ICAL.Timezone {
  const existing = vcalendar.getAllSubcomponents('vtimezone').find((z) => z.getFirstPropertyValue('tzid') === zoneName);
  const component = existing ?? buildVtimezoneComponent(zoneName, aroundYear - 1, Math.max(aroundYear, new Date().getUTCFullYear()) + 2);
  if (!existing) vcalendar.addSubcomponent(component);
  return new ICAL.Timezone({ component, tzid: zoneName });
}

function setText(vevent: ICAL.Component, name: string, value: string | null | undefined): void {
  if (value === undefined) return;
  if (value === null || value === '') vevent.removeAllProperties(name);
  else vevent.updatePropertyWithValue(name, value);
}

function targetStyle(vevent: ICAL.Component, patch: EventPatch, ctx: WriteContext, year: number): TimeStyle {
  const current = startOf(vevent);
  const allDay = patch.allDay ?? current?.isDate ?? false;
  if (allDay) return { kind: 'date' };
  if (patch.timeZone === null) return { kind: 'utc' };
  if (patch.timeZone !== undefined) {
    const zone = resolveIanaZone(patch.timeZone);
    if (!zone) throw invalid(`Unknown time zone ${patch.timeZone}`);
    return zone === 'UTC' ? { kind: 'utc' } : { kind: 'zoned', zone: zoneFor(ctx.vcalendar, zone, year) };
  }
  if (!current || current.isDate) return { kind: 'utc' };
  return styleOf(current);
}

function applyTimes(vevent: ICAL.Component, patch: EventPatch, ctx: WriteContext): void {
  const timesTouched =
    patch.start !== undefined || patch.end !== undefined || patch.allDay !== undefined || patch.timeZone !== undefined;
  if (!timesTouched) return;
  const currentStart = startOf(vevent);
  const current = currentStart ? spanOf(currentStart, endOf(vevent, currentStart), ctx.floatingZone) : undefined;
  const start = patch.start?.getTime() ?? current?.start;
  if (start === undefined || Number.isNaN(start)) throw invalid('start is required');
  let end = patch.end?.getTime() ?? (current ? start + (current.end - current.start) : start);
  if (Number.isNaN(end)) throw invalid('end is not a valid date');
  const style = targetStyle(vevent, patch, ctx, new Date(start).getUTCFullYear());
  if (style.kind === 'date') {
    const startDay = Math.floor(start / DAY) * DAY;
    // An all-day end on the same date as the start means that one day.
    end = Math.max(Math.ceil(end / DAY) * DAY, startDay + DAY);
    writeTimeProperty(vevent, 'dtstart', timeAt(startDay, style, ctx.floatingZone));
    writeTimeProperty(vevent, 'dtend', timeAt(end, style, ctx.floatingZone));
  } else {
    if (end < start) throw invalid('end must not be before start');
    writeTimeProperty(vevent, 'dtstart', timeAt(start, style, ctx.floatingZone));
    writeTimeProperty(vevent, 'dtend', timeAt(end, style, ctx.floatingZone));
  }
  vevent.removeAllProperties('duration');
}

function applyAttendees(vevent: ICAL.Component, attendees: string[] | null | undefined, ctx: WriteContext): void {
  if (attendees === undefined) return;
  const wanted = new Map<string, string>();
  for (const raw of attendees ?? []) {
    const email = typeof raw === 'string' ? raw.trim() : '';
    if (!/^[^\s@<>]+@[^\s@<>]+$/.test(email)) throw invalid(`Not an email address: ${String(raw).slice(0, 100)}`);
    wanted.set(email.toLowerCase(), email);
  }
  for (const property of vevent.getAllProperties('attendee')) {
    const email = mailtoAddress(property.getFirstValue())?.toLowerCase();
    // Kept attendees keep their PARTSTAT; everyone else goes.
    if (email && wanted.has(email)) wanted.delete(email);
    else vevent.removeProperty(property);
  }
  for (const email of wanted.values()) {
    const property = new ICAL.Property('attendee', vevent);
    property.setParameter('partstat', 'NEEDS-ACTION');
    property.setParameter('role', 'REQ-PARTICIPANT');
    property.setParameter('rsvp', 'TRUE');
    property.setValue(`mailto:${email}`);
    vevent.addProperty(property);
  }
  const hasAttendees = vevent.getAllProperties('attendee').length > 0;
  if (!hasAttendees) vevent.removeAllProperties('organizer');
  else if (!vevent.hasProperty('organizer') && ctx.organizerEmail) {
    vevent.updatePropertyWithValue('organizer', `mailto:${ctx.organizerEmail}`);
  }
}

function applyConference(vevent: ICAL.Component, patch: EventPatch): void {
  if (patch.conference === undefined) return;
  const previous = vevent.getFirstPropertyValue('conference');
  const previousLink = previous === null ? undefined : String(previous);
  const urlValue = vevent.getFirstPropertyValue('url');
  const url = urlValue === null ? undefined : String(urlValue);
  vevent.removeAllProperties('conference');
  if (patch.conference === null) {
    if (url !== undefined && url === previousLink) vevent.removeAllProperties('url');
    return;
  }
  const link = patch.conference.trim();
  try {
    const parsed = new URL(link);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('scheme');
  } catch {
    throw invalid('conference must be an http(s) URL');
  }
  const property = new ICAL.Property('conference', vevent);
  property.resetType('uri');
  property.setParameter('feature', 'VIDEO');
  property.setValue(link);
  vevent.addProperty(property);
  // Apple clients show URL, not CONFERENCE: mirror the link there unless URL holds something else.
  if (url === undefined || url === previousLink || conferenceProviderOf(url)) vevent.updatePropertyWithValue('url', link);
}

function applyCustom(vevent: ICAL.Component, custom: Record<string, unknown> | null | undefined): void {
  if (custom === undefined) return;
  if (custom === null) {
    vevent.removeAllProperties(CUSTOM_PROPERTY);
    return;
  }
  if (typeof custom !== 'object' || Array.isArray(custom)) throw invalid('custom must be an object');
  vevent.removeAllProperties(CUSTOM_PROPERTY);
  // VALUE=TEXT makes commas and semicolons escaped; servers split raw X- values on them.
  const property = new ICAL.Property(CUSTOM_PROPERTY, vevent);
  property.resetType('text');
  property.setValue(JSON.stringify(custom));
  vevent.addProperty(property);
}

function applyEnum<T extends string>(vevent: ICAL.Component, name: string, value: T | null | undefined, map: Record<T, string>): void {
  if (value === undefined) return;
  if (value === null) {
    vevent.removeAllProperties(name);
    return;
  }
  const mapped = map[value];
  if (!mapped) throw invalid(`Unsupported ${name.toLowerCase()} value ${String(value)}`);
  vevent.updatePropertyWithValue(name, mapped);
}

/** Applies every field of `patch` except `recurrence`, which only a series master takes (see `applyRecurrence`). */
export function applyEventPatch(vevent: ICAL.Component, patch: EventPatch, ctx: WriteContext): void {
  if (patch.title !== undefined) setText(vevent, 'summary', patch.title ?? '');
  setText(vevent, 'description', patch.description);
  setText(vevent, 'location', patch.location);
  applyTimes(vevent, patch, ctx);
  applyAttendees(vevent, patch.attendees, ctx);
  applyCustom(vevent, patch.custom);
  applyConference(vevent, patch);
  applyEnum(vevent, 'transp', patch.availability, { busy: 'OPAQUE', free: 'TRANSPARENT' });
  applyEnum(vevent, 'class', patch.privacy, { public: 'PUBLIC', private: 'PRIVATE', confidential: 'CONFIDENTIAL' });
  applyEnum(vevent, 'status', patch.status, { confirmed: 'CONFIRMED', tentative: 'TENTATIVE', cancelled: 'CANCELLED' });
  touch(vevent, ctx.now);
}

/** Sets or removes the RRULE (RDATE/EXDATE belong to the old rule and go with it). */
export function applyRecurrence(vevent: ICAL.Component, recurrence: EventPatch['recurrence']): void {
  if (recurrence === undefined) return;
  vevent.removeAllProperties('rrule');
  vevent.removeAllProperties('rdate');
  vevent.removeAllProperties('exdate');
  if (recurrence === null) return;
  const start = startOf(vevent);
  if (!start) throw invalid('A recurring event needs a start');
  vevent.addPropertyWithValue('rrule', toRecur(recurrence, styleOf(start)));
}

/** DTSTAMP/LAST-MODIFIED now and SEQUENCE bumped, so clients notice the change. */
export function touch(vevent: ICAL.Component, now: Date): void {
  const stamp = timeAt(now.getTime(), { kind: 'utc' }, null);
  vevent.updatePropertyWithValue('dtstamp', stamp);
  vevent.updatePropertyWithValue('last-modified', stamp.clone());
  // An absent SEQUENCE is 0 (RFC 5545 §3.8.7.4); new objects reset it to 0 afterwards.
  const sequence = Number(vevent.getFirstPropertyValue('sequence') ?? 0);
  vevent.updatePropertyWithValue('sequence', Number.isFinite(sequence) ? sequence + 1 : 1);
}

/** The instant a VEVENT starts, for callers comparing before and after a patch. */
export function startInstant(vevent: ICAL.Component, floatingZone: string | null): number | undefined {
  const start = startOf(vevent);
  return start ? instantOf(start, floatingZone) : undefined;
}
