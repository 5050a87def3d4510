/** Provider-neutral calendar and event types: the shapes of API.md. */

export const PROVIDER_IDS = ['google', 'microsoft', 'apple', 'caldav'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

/** How API messages name each provider. */
export const PROVIDER_NAMES: Record<ProviderId, string> = {
  google: 'Google',
  microsoft: 'Microsoft',
  apple: 'iCloud',
  caldav: 'CalDAV',
};

export function isProviderId(value: unknown): value is ProviderId {
  return typeof value === 'string' && (PROVIDER_IDS as readonly string[]).includes(value);
}

/**
 * Every field is always there: the official SDKs type `timeZone`, `color` and
 * `description` as strings, so an adapter fills in what its provider leaves out
 * (the account's zone, `defaultCalendarColor`, `""`) instead of passing null along.
 */
export interface Calendar {
  provider: ProviderId;
  id: string;
  title: string;
  /** IANA zone: the calendar's own, else its account's, else `UTC`. */
  timeZone: string;
  /** `#RRGGBB`: the provider's colour, else `defaultCalendarColor(id)`. */
  color: string;
  /** The provider's description, `""` when it has none. */
  description: string;
  /** Almanac extra: true when this account may read but not write the calendar. */
  readOnly: boolean;
  /** The provider's own object, as it came. */
  original: unknown;
}

export type AttendeeStatus = 'accepted' | 'declined' | 'tentative' | 'none';
export interface Attendee {
  email: string;
  status: AttendeeStatus;
  organizer?: boolean;
}

export type ConferenceProvider = 'google-meet' | 'microsoft-teams' | 'zoom' | 'webex';
export interface ConferenceData {
  provider: ConferenceProvider;
  url?: string;
  [key: string]: unknown;
}

export type Availability = 'busy' | 'free';
export type Privacy = 'public' | 'private' | 'confidential';
export type EventStatus = 'confirmed' | 'tentative' | 'cancelled';

export interface CalendarEvent {
  provider: ProviderId;
  id: string;
  calendarId: string;
  title: string;
  description?: string;
  /** ISO 8601 UTC (`2025-11-15T10:00:00.000Z`). All-day: midnight UTC of the date. */
  start: string;
  /** ISO 8601 UTC; all-day events end exclusive at midnight UTC of the day after. */
  end: string;
  allDay: boolean;
  /** Series id, on instances of a recurring series. */
  recurringEventId?: string;
  color?: string;
  location?: string;
  attendees?: Attendee[];
  custom?: Record<string, unknown>;
  conference?: string;
  conferenceData?: ConferenceData;
  availability?: Availability;
  privacy?: Privacy;
  status?: EventStatus;
  lastModified?: string;
  link?: string;
  /** Series rule, on masters (singleEvents=false) and in write results. */
  recurrence?: Recurrence;
  original: unknown;
}

export type Frequency = 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';
export type Weekday = 'MO' | 'TU' | 'WE' | 'TH' | 'FR' | 'SA' | 'SU';
/** A weekday, optionally with an ordinal for MONTHLY/YEARLY rules (`1MO`, `-1FR`). */
export type ByDay = Weekday | `${number}${Weekday}`;
export interface Recurrence {
  frequency: Frequency;
  interval?: number;
  count?: number;
  /** `YYYYMMDDTHHMMSSZ` */
  until?: string;
  byDay?: ByDay[];
  byMonthDay?: number[];
  byMonth?: number[];
}

/** What an application may set on create; on update every field is optional. */
export interface EventInput {
  calendarId: string;
  title: string;
  /** Instants as Date; for all-day events the UTC date part is the calendar date. */
  start: Date;
  end: Date;
  allDay: boolean;
  /** IANA zone to write times in (recurring events need one); UTC when absent. */
  timeZone?: string;
  description?: string;
  location?: string;
  attendees?: string[];
  recurrence?: Recurrence;
  custom?: Record<string, unknown>;
  conference?: string;
  conferenceData?: { provider: ConferenceProvider; autoGenerate?: boolean };
  availability?: Availability;
  privacy?: Privacy;
  status?: EventStatus;
}

/** Omitted fields stay unchanged; `null` clears an optional field. */
export type EventPatch = {
  [K in keyof Omit<EventInput, 'calendarId'>]?: EventInput[K] | (undefined extends EventInput[K] ? null : never);
};

export type EditMode = 'this' | 'following' | 'all';

/** Why a recurrence sent with mode `this` for one occurrence of a series is refused. */
export const ONE_OCCURRENCE_RULE = 'One occurrence cannot take a recurrence rule; use updateMode "following" or "all" to change the series';

export interface EventRef {
  calendarId: string;
  eventId: string;
  /** Series id when eventId names an instance. */
  recurringEventId?: string;
  /**
   * The version the caller last saw (a CalDAV ETag, from `original.etag`). When set,
   * the write fails with CONFLICT if the event changed since; when absent, adapters
   * still guard their own read-modify-write.
   */
  etag?: string;
}
