/**
 * One CalDAV calendar object resource: a VCALENDAR holding one UID, its master VEVENT
 * and any RECURRENCE-ID overrides (RFC 4791 §4.1). Parsing also repairs what servers
 * omit: a TZID without its VTIMEZONE gets one built from the tz database, so times
 * are never silently read as floating.
 */
import { randomUUID } from 'node:crypto';
import ICAL from 'ical.js';
import { buildVtimezoneComponent } from './vtimezone-builder.js';
import { resolveIanaZone } from '../../domain/zone-clock.js';

export class IcsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IcsError';
  }
}

export interface CalendarObject {
  /** Absolute URL of the resource. */
  href: string;
  etag?: string;
  vcalendar: ICAL.Component;
  uid: string;
  /** The VEVENT without RECURRENCE-ID; absent when only overrides were shared with us. */
  master?: ICAL.Component;
  overrides: ICAL.Component[];
}

const TIME_PROPERTIES = ['dtstart', 'dtend', 'recurrence-id', 'exdate', 'rdate', 'due'];

function referencedTzids(vcalendar: ICAL.Component): Map<string, number> {
  const years = new Map<string, number>();
  for (const vevent of vcalendar.getAllSubcomponents('vevent')) {
    for (const name of TIME_PROPERTIES) {
      for (const p of vevent.getAllProperties(name)) {
        const tzid = p.getParameter('tzid');
        if (typeof tzid !== 'string' || !tzid) continue;
        const raw = p.jCal[3];
        const year = typeof raw === 'string' ? Number(raw.slice(0, 4)) : NaN;
        const earliest = years.get(tzid);
        if (!Number.isNaN(year) && (earliest === undefined || year < earliest)) years.set(tzid, year);
        else if (earliest === undefined) years.set(tzid, new Date().getUTCFullYear());
      }
    }
  }
  return years;
}

/** Adds a VTIMEZONE, built from the tz database, for each referenced TZID that has none. */
export function addMissingTimezones(vcalendar: ICAL.Component): void {
  const present = new Set(vcalendar.getAllSubcomponents('vtimezone').map((z) => String(z.getFirstPropertyValue('tzid'))));
  const thisYear = new Date().getUTCFullYear();
  for (const [tzid, earliestYear] of referencedTzids(vcalendar)) {
    if (present.has(tzid)) continue;
    const zone = resolveIanaZone(tzid);
    if (!zone || zone === 'UTC') continue;
    const component = buildVtimezoneComponent(zone, earliestYear - 1, Math.max(thisYear, earliestYear) + 2);
    component.updatePropertyWithValue('tzid', tzid);
    vcalendar.addSubcomponent(component);
  }
}

export function parseCalendarObject(ics: string, href: string, etag?: string): CalendarObject {
  let vcalendar: ICAL.Component;
  try {
    vcalendar = new ICAL.Component(ICAL.parse(ics));
  } catch (err) {
    throw new IcsError('The calendar object is not valid iCalendar', { cause: err });
  }
  if (vcalendar.name !== 'vcalendar') throw new IcsError('The calendar object has no VCALENDAR');
  const vevents = vcalendar.getAllSubcomponents('vevent');
  const first = vevents[0];
  if (!first) throw new IcsError('The calendar object has no VEVENT');
  const uid = String(first.getFirstPropertyValue('uid') ?? '');
  if (!uid) throw new IcsError('The VEVENT has no UID');
  addMissingTimezones(vcalendar);
  const sameUid = vevents.filter((v) => String(v.getFirstPropertyValue('uid') ?? '') === uid);
  const master = sameUid.find((v) => !v.hasProperty('recurrence-id'));
  const overrides = sameUid.filter((v) => v.hasProperty('recurrence-id'));
  return { href, ...(etag ? { etag } : {}), vcalendar, uid, ...(master ? { master } : {}), overrides };
}

export function serializeCalendarObject(vcalendar: ICAL.Component): string {
  return `${vcalendar.toString()}\r\n`;
}

/** Deep copy of a component with no parent (a VEVENT to turn into an override or a new series). */
export function cloneComponent(component: ICAL.Component): ICAL.Component {
  return new ICAL.Component(structuredClone(component.toJSON()));
}

export function newVcalendar(): ICAL.Component {
  const vcalendar = new ICAL.Component('vcalendar');
  vcalendar.updatePropertyWithValue('prodid', '-//Almanac//CalDAV adapter//EN');
  vcalendar.updatePropertyWithValue('version', '2.0');
  vcalendar.updatePropertyWithValue('calscale', 'GREGORIAN');
  return vcalendar;
}

/** Keeps only the VTIMEZONEs some VEVENT still references. */
export function pruneUnusedTimezones(vcalendar: ICAL.Component): void {
  const used = referencedTzids(vcalendar);
  for (const zone of vcalendar.getAllSubcomponents('vtimezone')) {
    if (!used.has(String(zone.getFirstPropertyValue('tzid')))) vcalendar.removeSubcomponent(zone);
  }
}

/** Whether a UID can name its resource (`{uid}.ics`) without escaping. */
export function isPathSafeUid(uid: string): boolean {
  return /^[A-Za-z0-9@._-]{1,200}$/.test(uid) && !uid.startsWith('.');
}

/** A resource name derived from the UID when it is safe in a URL path segment, else a fresh one. */
export function resourceNameFor(uid: string): string {
  return isPathSafeUid(uid) ? `${uid}.ics` : `${randomUUID()}.ics`;
}
