/** The parts of Graph's resources (api-reference/v1.0/resources) the adapter reads and writes. */

export interface GraphDateTimeZone {
  /** Wall time without offset, e.g. `2027-05-03T09:00:00.0000000`. */
  dateTime: string;
  /** Windows name, IANA name, or `tzone://Microsoft/Custom`. */
  timeZone: string;
}

export interface GraphEmailAddress {
  name?: string;
  address?: string;
}

export interface GraphCalendar {
  id: string;
  name?: string;
  color?: string;
  hexColor?: string;
  canEdit?: boolean;
  isDefaultCalendar?: boolean;
  owner?: GraphEmailAddress;
  allowedOnlineMeetingProviders?: string[];
  defaultOnlineMeetingProvider?: string;
  changeKey?: string;
}

export interface GraphRecurrencePattern {
  type: 'daily' | 'weekly' | 'absoluteMonthly' | 'relativeMonthly' | 'absoluteYearly' | 'relativeYearly';
  interval: number;
  month?: number;
  dayOfMonth?: number;
  daysOfWeek?: string[];
  firstDayOfWeek?: string;
  index?: 'first' | 'second' | 'third' | 'fourth' | 'last';
}

export interface GraphRecurrenceRange {
  type: 'endDate' | 'noEnd' | 'numbered';
  startDate: string;
  endDate?: string;
  numberOfOccurrences?: number;
  recurrenceTimeZone?: string;
}

export interface GraphRecurrence {
  pattern: GraphRecurrencePattern;
  range: GraphRecurrenceRange;
}

export interface GraphAttendee {
  type?: string;
  status?: { response?: string };
  emailAddress?: GraphEmailAddress;
}

export interface GraphEvent {
  '@odata.etag'?: string;
  '@removed'?: { reason?: string };
  id: string;
  changeKey?: string;
  subject?: string;
  body?: { contentType?: string; content?: string };
  start?: GraphDateTimeZone;
  end?: GraphDateTimeZone;
  originalStartTimeZone?: string;
  originalStart?: string;
  isAllDay?: boolean;
  isCancelled?: boolean;
  showAs?: string;
  sensitivity?: string;
  type?: 'singleInstance' | 'occurrence' | 'exception' | 'seriesMaster';
  seriesMasterId?: string | null;
  recurrence?: GraphRecurrence | null;
  location?: { displayName?: string };
  attendees?: GraphAttendee[];
  organizer?: { emailAddress?: GraphEmailAddress };
  categories?: string[];
  isOnlineMeeting?: boolean;
  onlineMeetingProvider?: string;
  onlineMeeting?: { joinUrl?: string } | null;
  webLink?: string;
  lastModifiedDateTime?: string;
  singleValueExtendedProperties?: { id: string; value?: string }[];
}

export interface GraphCollection<T> {
  value?: T[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}
