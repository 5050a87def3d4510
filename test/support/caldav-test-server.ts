/**
 * What the CalDAV suites need from a real server they start: users with passwords,
 * calendars made with MKCALENDAR, and raw HTTP that bypasses the adapters so tests can
 * check what really landed on the server. Radicale and Xandikos both implement it;
 * where a server cannot do something, `capabilities` says so and why.
 */

export interface RawResponse {
  status: number;
  body: string;
  etag: string | null;
}

export interface CalendarSpec {
  displayName?: string;
  color?: string;
  description?: string;
  components?: string[];
  /** A VCALENDAR with one VTIMEZONE, as calendar-timezone wants it. */
  timezone?: string;
}

/** true when the server supports it, else the reason it cannot (used as a skip message). */
export type Capability = true | string;

export interface ServerCapabilities {
  /** calendar-description stored and returned. */
  calendarDescription: Capability;
  /** calendar-timezone stored and returned (floating times read in the calendar's zone). */
  calendarTimezone: Capability;
  /** supported-calendar-component-set chosen at MKCALENDAR (VTODO-only collections). */
  componentSets: Capability;
  /** A calendar the account may read but not write, with a privilege set that says so. */
  readOnlyCalendars: Capability;
  /** A second object with a UID already in the calendar refused (RFC 4791 no-uid-conflict). */
  uidConflicts: Capability;
}

export interface CaldavTestServer {
  readonly kind: 'radicale' | 'xandikos' | 'sabredav';
  /** `http://127.0.0.1:PORT/`: what a user types as the server URL. */
  readonly url: string;
  readonly port: number;
  readonly users: Record<string, string>;
  readonly capabilities: ServerCapabilities;
  /** The user's calendar home (absolute URL, trailing slash). */
  homeUrl(user: string): string;
  /** Where calendar `slug` of `user` lives, created or not. */
  calendarUrl(user: string, slug: string): string;
  /** MKCALENDAR; resolves to the collection's absolute URL. Throws for a spec the server cannot keep. */
  mkcalendar(user: string, slug: string, spec?: CalendarSpec): Promise<string>;
  /** From now on `user` may read calendar `slug` but not write to it. Throws when unsupported. */
  makeReadOnly(user: string, slug: string): Promise<void>;
  get(user: string, url: string): Promise<RawResponse>;
  put(user: string, url: string, ics: string, headers?: Record<string, string>): Promise<RawResponse>;
  request(user: string, method: string, url: string, body?: string, headers?: Record<string, string>): Promise<RawResponse>;
  stop(): Promise<void>;
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** A MKCALENDAR body setting what `spec` names (VEVENT only unless `components` says otherwise). */
export function mkcalendarBody(spec: CalendarSpec): string {
  const props: string[] = [];
  if (spec.displayName !== undefined) props.push(`<D:displayname>${escapeXml(spec.displayName)}</D:displayname>`);
  if (spec.color !== undefined) props.push(`<I:calendar-color>${escapeXml(spec.color)}</I:calendar-color>`);
  if (spec.description !== undefined) props.push(`<C:calendar-description>${escapeXml(spec.description)}</C:calendar-description>`);
  if (spec.timezone !== undefined) props.push(`<C:calendar-timezone>${escapeXml(spec.timezone)}</C:calendar-timezone>`);
  const components = spec.components ?? ['VEVENT'];
  props.push(`<C:supported-calendar-component-set>${components.map((c) => `<C:comp name="${c}"/>`).join('')}</C:supported-calendar-component-set>`);
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:I="http://apple.com/ns/ical/">' +
    `<D:set><D:prop>${props.join('')}</D:prop></D:set></C:mkcalendar>`
  );
}
