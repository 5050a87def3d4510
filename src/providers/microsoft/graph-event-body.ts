/**
 * Almanac event fields → the Graph event body of a POST or PATCH. Times are written in
 * the event's zone under its Windows name (UTC when none was given), all-day events as
 * midnight-to-midnight dates, `availability`/`status` as showAs, `privacy` as
 * sensitivity, Teams meetings via isOnlineMeeting, `custom` as its extended property.
 */
import type { EventInput, EventPatch, Recurrence } from '../../domain/calendar.js';
import { isIanaZone } from '../../domain/zone-clock.js';
import { ProviderError } from '../types.js';
import { customProperty } from './graph-custom-property.js';
import { toGraphRecurrence } from './graph-recurrence.js';
import { addDays, graphDate, graphTime, localDate } from './graph-time.js';

const SENSITIVITY = { public: 'normal', private: 'private', confidential: 'confidential' } as const;

export interface Times {
  start: Date;
  end: Date;
  allDay: boolean;
  timeZone: string;
}

export function zoneOf(timeZone: string | null | undefined): string {
  if (!timeZone) return 'UTC';
  if (!isIanaZone(timeZone)) throw new ProviderError('INVALID_INPUT', `Microsoft needs a known IANA time zone, got "${timeZone}"`);
  return timeZone;
}

/** start, end, isAllDay and (when given) the recurrence whose start date follows the start. */
export function timesBody(times: Times, recurrence: Recurrence | null | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = { isAllDay: times.allDay };
  let startDate: string;
  if (times.allDay) {
    startDate = times.start.toISOString().slice(0, 10);
    let endDate = times.end.toISOString().slice(0, 10);
    // Graph wants all-day events to last whole days, at least one.
    if (endDate <= startDate) endDate = addDays(startDate, 1);
    body.start = graphDate(startDate, times.timeZone);
    body.end = graphDate(endDate, times.timeZone);
  } else {
    if (times.end.getTime() < times.start.getTime()) throw new ProviderError('INVALID_INPUT', 'The event ends before it starts');
    startDate = localDate(times.start.getTime(), times.timeZone);
    body.start = graphTime(times.start.getTime(), times.timeZone);
    body.end = graphTime(times.end.getTime(), times.timeZone);
  }
  if (recurrence) body.recurrence = toGraphRecurrence(recurrence, startDate, times.timeZone, times.allDay ? undefined : times.start.getTime());
  else if (recurrence === null) body.recurrence = null;
  return body;
}

/** Everything but times and recurrence; `null` clears. */
export function fieldsBody(input: EventPatch, teamsAllowed: () => boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (input.title !== undefined) body.subject = input.title ?? '';
  if (input.description !== undefined) body.body = { contentType: 'text', content: input.description ?? '' };
  if (input.location !== undefined) body.location = { displayName: input.location ?? '' };
  if (input.attendees !== undefined) body.attendees = (input.attendees ?? []).map((address) => ({ emailAddress: { address }, type: 'required' }));
  if (input.privacy !== undefined) body.sensitivity = input.privacy === null ? 'normal' : SENSITIVITY[input.privacy];
  if (input.status === 'cancelled') {
    throw new ProviderError('INVALID_INPUT', 'Microsoft cancels events by deleting them; status "cancelled" cannot be written');
  }
  if (input.availability !== undefined || input.status !== undefined) {
    if (input.availability === 'free') body.showAs = 'free';
    else if (input.status === 'tentative') body.showAs = 'tentative';
    else if (input.availability !== undefined || input.status === 'confirmed') body.showAs = 'busy';
  }
  if (input.custom !== undefined) body.singleValueExtendedProperties = [customProperty(input.custom)];
  if (input.conferenceData !== undefined && input.conferenceData !== null) {
    if (input.conferenceData.provider !== 'microsoft-teams') {
      throw new ProviderError('INVALID_INPUT', `Microsoft creates only Teams meetings, not ${input.conferenceData.provider}`);
    }
    if (input.conferenceData.autoGenerate) {
      if (!teamsAllowed()) throw new ProviderError('INVALID_INPUT', 'This Microsoft calendar does not allow Teams meetings');
      body.isOnlineMeeting = true;
      body.onlineMeetingProvider = 'teamsForBusiness';
    }
  } else if (input.conferenceData === null) {
    body.isOnlineMeeting = false;
  }
  if (input.conference !== undefined && input.conference !== null) {
    throw new ProviderError('INVALID_INPUT', 'Microsoft keeps meeting links only for Teams meetings it creates: use conferenceData { provider: "microsoft-teams", autoGenerate: true }');
  }
  return body;
}

export function createBody(input: EventInput, teamsAllowed: () => boolean): Record<string, unknown> {
  const timeZone = zoneOf(input.timeZone);
  return { ...fieldsBody({ ...input }, teamsAllowed), ...timesBody({ start: input.start, end: input.end, allDay: input.allDay, timeZone }, input.recurrence) };
}
