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
