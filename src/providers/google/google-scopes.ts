/**
 * Which Google scopes each Almanac scope asks for, and whether what the user actually
 * granted (they can untick boxes on Google's consent screen) is enough.
 */

/** Almanac's own scopes (API.md §Scopes), restated so this adapter does not depend on oauth/. */
export type AlmanacScope = 'free-busy' | 'read' | 'read-write';

const G = 'https://www.googleapis.com/auth/';
export const GOOGLE_SCOPES = {
  calendar: `${G}calendar`,
  calendarReadonly: `${G}calendar.readonly`,
  events: `${G}calendar.events`,
  eventsReadonly: `${G}calendar.events.readonly`,
  calendarList: `${G}calendar.calendarlist`,
  calendarListReadonly: `${G}calendar.calendarlist.readonly`,
} as const;

/** Identify the account: its email from the userinfo endpoint. */
const IDENTITY_SCOPES = ['openid', 'email'];

/**
 * The narrowest set that serves each Almanac scope. Free-busy still reads event times
 * (Almanac strips the details itself): Google's `calendar.freebusy` only answers
 * freeBusy.query, not events.list, which the provider seam is built on. The calendar
 * list is needed for every scope, since event queries default to all calendars.
 */
const REQUESTED: Record<AlmanacScope, string[]> = {
  'free-busy': [GOOGLE_SCOPES.eventsReadonly, GOOGLE_SCOPES.calendarListReadonly],
  read: [GOOGLE_SCOPES.calendarReadonly],
  'read-write': [GOOGLE_SCOPES.events, GOOGLE_SCOPES.calendarListReadonly],
};

/** Each capability an Almanac scope needs, and the Google scopes that each grant it. */
const CAPABILITIES = {
  listCalendars: [
    GOOGLE_SCOPES.calendar,
    GOOGLE_SCOPES.calendarReadonly,
    GOOGLE_SCOPES.calendarList,
    GOOGLE_SCOPES.calendarListReadonly,
  ],
  readEvents: [GOOGLE_SCOPES.calendar, GOOGLE_SCOPES.calendarReadonly, GOOGLE_SCOPES.events, GOOGLE_SCOPES.eventsReadonly],
  writeEvents: [GOOGLE_SCOPES.calendar, GOOGLE_SCOPES.events],
};

const NEEDED: Record<AlmanacScope, (keyof typeof CAPABILITIES)[]> = {
  'free-busy': ['listCalendars', 'readEvents'],
  read: ['listCalendars', 'readEvents'],
  'read-write': ['listCalendars', 'readEvents', 'writeEvents'],
};

export function googleScopesFor(almanacScope: AlmanacScope): string[] {
  return [...IDENTITY_SCOPES, ...REQUESTED[almanacScope]];
}

/** False when the user withheld any calendar access the Almanac scope needs (partial consent). */
export function calendarPermissionGranted(grantedScopes: readonly string[], almanacScope: AlmanacScope): boolean {
  const granted = new Set(grantedScopes);
  return NEEDED[almanacScope].every((capability) => CAPABILITIES[capability].some((scope) => granted.has(scope)));
}
