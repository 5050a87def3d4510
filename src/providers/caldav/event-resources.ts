/** Fetching calendar object resources: by time range, by UID, by href. */
import type { Logger } from '../types.js';
import { ProviderError } from '../types.js';
import { isPathSafeUid, parseCalendarObject, type CalendarObject } from './calendar-object.js';
import { DavHttpError, type DavClient } from './dav-client.js';
import { calendarMultigetBody, calendarQueryBody, isWithin, prop, propKey, textOf, uidQueryBody, type DavResponse } from './dav-xml.js';

export interface FetchedObject {
  object: CalendarObject;
  /** The resource as stored, for rolling back a split that failed halfway. */
  ics: string;
}

function fromResponse(response: DavResponse, calendarUrl: string, log: Logger): FetchedObject | null {
  const data = textOf(response.props.get(propKey(prop.calendarData)));
  if (!data) return null;
  // Writes go to these hrefs with the account's credentials: never outside the calendar.
  if (!isWithin(calendarUrl, response.href)) {
    log.warn({ calendarUrl }, 'ignoring a calendar object outside its calendar');
    return null;
  }
  const etag = textOf(response.props.get(propKey(prop.getetag)))?.trim();
  try {
    return { object: parseCalendarObject(data, response.href, etag), ics: data };
  } catch (err) {
    // One broken object must not hide the rest of the calendar.
    log.warn({ href: response.href, err: (err as Error).message }, 'skipping unreadable calendar object');
    return null;
  }
}

/** calendar-multiget of `hrefs` in batches of this many: bounded answers, few round trips. */
export const MULTIGET_BATCH = 100;

/** The named resources' data (missing ones are left out), a few requests of MULTIGET_BATCH each. */
export async function multiget(client: DavClient, calendarUrl: string, hrefs: readonly string[], log: Logger): Promise<FetchedObject[]> {
  const out: FetchedObject[] = [];
  for (let i = 0; i < hrefs.length; i += MULTIGET_BATCH) {
    const responses = await client.report(calendarUrl, calendarMultigetBody(hrefs.slice(i, i + MULTIGET_BATCH)), 1);
    for (const response of responses) {
      const fetched = fromResponse(response, calendarUrl, log);
      if (fetched) out.push(fetched);
    }
  }
  return out;
}

export async function queryRange(client: DavClient, calendarUrl: string, range: { start: Date; end: Date }, log: Logger): Promise<FetchedObject[]> {
  const responses = await client.report(calendarUrl, calendarQueryBody(range), 1);
  return responses.map((r) => fromResponse(r, calendarUrl, log)).filter((o): o is FetchedObject => o !== null);
}

export async function fetchObject(client: DavClient, href: string): Promise<FetchedObject> {
  const { body, etag } = await client.get(href);
  return { object: parseCalendarObject(body, href, etag), ics: body };
}

/** Where we would have stored `uid`; undefined when the UID is not safe in a path. */
export function guessHref(calendarUrl: string, uid: string): string | undefined {
  if (!isPathSafeUid(uid)) return undefined;
  return new URL(`${uid}.ics`, calendarUrl).toString();
}

/**
 * The resource holding `uid`. The href we would have chosen is tried first; objects
 * created by other clients are found with a UID calendar-query, re-checked here
 * because some servers ignore prop-filters.
 */
export async function findByUid(client: DavClient, calendarUrl: string, uid: string, log: Logger): Promise<FetchedObject> {
  const guess = guessHref(calendarUrl, uid);
  if (guess) {
    try {
      const fetched = await fetchObject(client, guess);
      if (fetched.object.uid === uid) return fetched;
    } catch (err) {
      if (!(err instanceof DavHttpError && (err.status === 404 || err.status === 410))) throw err;
    }
  }
  const responses = await client.report(calendarUrl, uidQueryBody(uid), 1);
  for (const response of responses) {
    const fetched = fromResponse(response, calendarUrl, log);
    if (fetched?.object.uid === uid) return fetched;
  }
  throw new ProviderError('NOT_FOUND', 'The event does not exist');
}
