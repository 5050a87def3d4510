/**
 * The parts of Google Calendar API v3 resources this adapter reads or writes, as Google
 * documents them (developers.google.com/workspace/calendar/api/v3/reference). Every field
 * is optional on the way in: cancelled items carry little more than an `id`.
 */

export interface GoogleEventDateTime {
  /** `yyyy-mm-dd`, for all-day events. */
  date?: string;
  /** RFC 3339 with offset, or local time when `timeZone` is set. */
  dateTime?: string;
  timeZone?: string;
}

export type GoogleResponseStatus = 'needsAction' | 'declined' | 'tentative' | 'accepted';

export interface GoogleAttendee {
  email?: string;
  displayName?: string;
  responseStatus?: GoogleResponseStatus;
  organizer?: boolean;
  self?: boolean;
  resource?: boolean;
  optional?: boolean;
}

export interface GoogleEntryPoint {
  entryPointType?: 'video' | 'phone' | 'sip' | 'more';
  uri?: string;
  label?: string;
  pin?: string;
  meetingCode?: string;
  passcode?: string;
}

export interface GoogleConferenceData {
  createRequest?: {
    requestId?: string;
    conferenceSolutionKey?: { type?: string };
    status?: { statusCode?: 'pending' | 'success' | 'failure' };
  };
  entryPoints?: GoogleEntryPoint[];
  conferenceSolution?: { key?: { type?: string }; name?: string; iconUri?: string };
  conferenceId?: string;
  notes?: string;
}

export interface GooglePerson {
  id?: string;
  email?: string;
  displayName?: string;
  self?: boolean;
}

export interface GoogleEvent {
  kind?: string;
  etag?: string;
  id?: string;
  status?: 'confirmed' | 'tentative' | 'cancelled';
  htmlLink?: string;
  created?: string;
  updated?: string;
  summary?: string;
  description?: string;
  location?: string;
  colorId?: string;
  creator?: GooglePerson;
  organizer?: GooglePerson;
  start?: GoogleEventDateTime;
  end?: GoogleEventDateTime;
  endTimeUnspecified?: boolean;
  recurrence?: string[];
  recurringEventId?: string;
  originalStartTime?: GoogleEventDateTime;
  transparency?: 'opaque' | 'transparent';
  visibility?: 'default' | 'public' | 'private' | 'confidential';
  iCalUID?: string;
  sequence?: number;
  attendees?: GoogleAttendee[];
  hangoutLink?: string;
  conferenceData?: GoogleConferenceData;
  extendedProperties?: { private?: Record<string, string>; shared?: Record<string, string> };
  reminders?: unknown;
  eventType?: string;
}

export interface GoogleEventsListResponse {
  kind?: string;
  etag?: string;
  summary?: string;
  /** The calendar's own zone: Google places all-day events in it when filtering and ordering. */
  timeZone?: string;
  updated?: string;
  accessRole?: string;
  nextPageToken?: string;
  nextSyncToken?: string;
  items?: GoogleEvent[];
}

export interface GoogleCalendarListEntry {
  kind?: string;
  etag?: string;
  id?: string;
  summary?: string;
  summaryOverride?: string;
  description?: string;
  location?: string;
  timeZone?: string;
  colorId?: string;
  backgroundColor?: string;
  foregroundColor?: string;
  accessRole?: 'freeBusyReader' | 'reader' | 'writer' | 'owner';
  primary?: boolean;
  hidden?: boolean;
  selected?: boolean;
  deleted?: boolean;
}

export interface GoogleCalendarListResponse {
  kind?: string;
  etag?: string;
  nextPageToken?: string;
  nextSyncToken?: string;
  items?: GoogleCalendarListEntry[];
}

/** `{"error":{"errors":[{"domain","reason","message"}],"code","message"}}` */
export interface GoogleErrorEnvelope {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    errors?: { domain?: string; reason?: string; message?: string; location?: string; locationType?: string }[];
  };
}
