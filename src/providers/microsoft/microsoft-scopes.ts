/**
 * Which delegated Graph permissions each Almanac scope asks for, and whether what the
 * user consented to covers it. Graph names permissions bare in the authorize request
 * (`Calendars.Read`) and qualified in token answers (`https://graph.microsoft.com/Calendars.Read`).
 */

/** Almanac's own scopes (API.md §Scopes), restated so this adapter does not depend on oauth/. */
export type AlmanacScope = 'free-busy' | 'read' | 'read-write';

const IDENTITY_SCOPES = ['openid', 'email', 'profile', 'offline_access'];

/**
 * Free-busy asks for Calendars.ReadBasic: it lists calendars and reads calendarView
 * (event times, subjects, locations) but never bodies, attachments or extensions, the
 * narrowest permission the event reads behind the provider seam work with, for work
 * and personal accounts alike; Almanac strips the remaining details itself.
 */
const REQUESTED: Record<AlmanacScope, string> = {
  'free-busy': 'Calendars.ReadBasic',
  read: 'Calendars.Read',
  'read-write': 'Calendars.ReadWrite',
};

/** Permissions that satisfy each Almanac scope (a broader grant serves a narrower scope). */
const SATISFIES: Record<AlmanacScope, string[]> = {
  'free-busy': ['Calendars.ReadBasic', 'Calendars.Read', 'Calendars.ReadWrite'],
  read: ['Calendars.Read', 'Calendars.ReadWrite'],
  'read-write': ['Calendars.ReadWrite'],
};

const GRAPH_PREFIX = /^https:\/\/graph\.microsoft\.(?:com|us|de)\/|^https:\/\/(?:dod-graph|microsoftgraph\.chinacloudapi)\.[a-z.]+\//i;

/** `https://graph.microsoft.com/Calendars.Read` → `Calendars.Read`. */
export function bareScope(scope: string): string {
  return scope.replace(GRAPH_PREFIX, '');
}

export function microsoftScopesFor(almanacScope: AlmanacScope): string[] {
  return [...IDENTITY_SCOPES, REQUESTED[almanacScope]];
}

/** False when the user consented without the calendar permission the Almanac scope needs. */
export function calendarPermissionGranted(grantedScopes: readonly string[], almanacScope: AlmanacScope): boolean {
  const granted = new Set(grantedScopes.map(bareScope).map((s) => s.toLowerCase()));
  return SATISFIES[almanacScope].some((scope) => granted.has(scope.toLowerCase()));
}
