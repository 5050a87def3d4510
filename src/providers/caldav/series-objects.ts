/**
 * The recurring objects of a calendar, whatever the server's time-range filter says.
 *
 * Several servers (Xandikos, Zoho, others) judge `time-range` on a recurring object
 * by its first occurrence only, so a range holding a later occurrence but not
 * DTSTART comes back without the series. Listings therefore also ask which objects
 * are series at all (two calendar-queries with an RRULE or RDATE prop-filter and no
 * time-range, ETags only), and fetch those the range answer lacks by multiget, or
 * from the per-ETag cache. Local expansion then decides what lies in the range.
 *
 * Servers differ on prop-filters too, so the answer is checked: a refused filter, or
 * a series in the range answer that the prop-filter answer lacks, means the filter
 * cannot be trusted, and every member's ETag is listed instead (PROPFIND Depth 1).
 * A server that ignores the filter returns every object: each version is then
 * fetched once and remembered as "not a series".
 *
 * Prop-filters make some servers parse every object (Radicale), so which hrefs are
 * series is remembered per calendar version (getctag, else sync-token): while the
 * calendar is unchanged a page costs one Depth 0 PROPFIND next to its time-range
 * REPORT.
 */
import type { Logger } from '../types.js';
import { parseCalendarObject, type CalendarObject } from './calendar-object.js';
import { DavHttpError, type DavClient } from './dav-client.js';
import { DavXmlError, hasChild, isWithin, NS, prop, propKey, recurringRefsQueryBody, textOf, type DavResponse } from './dav-xml.js';
import { multiget, type FetchedObject } from './event-resources.js';
import { isRecurring } from './expand-series.js';
import type { SeriesObjectCache } from './series-object-cache.js';

/** Members named by href, with their ETag when the server sent one. */
export type MemberRefs = Map<string, string | undefined>;

export interface SeriesRefs {
  refs: MemberRefs;
  /** true: only the objects the RRULE/RDATE prop-filters matched; false: every member of the calendar. */
  filtered: boolean;
  /** The calendar version the refs were listed at, when the server offers one. */
  version?: string;
}

export interface SeriesFetchOptions {
  cache: SeriesObjectCache;
  /** Whose listing this is (cache entries are per account). */
  account: string;
  log: Logger;
}

export function isSeriesObject(object: CalendarObject): boolean {
  return !!object.master && isRecurring(object.master);
}

function refsFrom(responses: DavResponse[], calendarUrl: string, into: MemberRefs): void {
  const collection = new URL(calendarUrl).pathname.replace(/\/+$/, '');
  for (const response of responses) {
    if (response.status !== undefined && (response.status < 200 || response.status > 299)) continue;
    if (!isWithin(calendarUrl, response.href)) continue;
    const path = new URL(response.href).pathname.replace(/\/+$/, '');
    if (path === collection) continue;
    // Sub-collections are not calendar objects.
    if (hasChild(response.props.get(propKey(prop.resourcetype)), NS.DAV, 'collection')) continue;
    into.set(response.href, textOf(response.props.get(propKey(prop.getetag)))?.trim() || undefined);
  }
}

/** Whether a failed prop-filter query means "this server does not do that filter" rather than a real failure. */
function filterRefused(err: unknown): boolean {
  if (err instanceof DavXmlError) return true;
  return err instanceof DavHttpError && [400, 403, 405, 415, 422, 501].includes(err.status);
}

/** Every member of the calendar with its ETag: the listing that needs no filter support. */
async function listMemberRefs(client: DavClient, calendarUrl: string): Promise<MemberRefs> {
  const refs: MemberRefs = new Map();
  refsFrom(await client.propfind(calendarUrl, [prop.getetag, prop.resourcetype], 1), calendarUrl, refs);
  return refs;
}

/** The calendar's version (getctag, else sync-token); undefined when the server offers neither. */
async function calendarVersion(client: DavClient, calendarUrl: string): Promise<string | undefined> {
  let responses: DavResponse[];
  try {
    responses = await client.propfind(calendarUrl, [prop.getctag, prop.syncToken], 0);
  } catch (err) {
    if (filterRefused(err)) return undefined;
    throw err;
  }
  const own = responses.find((r) => isWithin(r.href, calendarUrl) && isWithin(calendarUrl, r.href)) ?? responses[0];
  if (!own) return undefined;
  const ctag = textOf(own.props.get(propKey(prop.getctag)))?.trim();
  const token = textOf(own.props.get(propKey(prop.syncToken)))?.trim();
  return ctag ? `ctag:${ctag}` : token ? `sync:${token}` : undefined;
}

/**
 * The objects with an RRULE or RDATE: from the cache while the calendar version is
 * unchanged, else by prop-filter, or every member when the server refuses the filter.
 */
export async function listSeriesRefs(client: DavClient, calendarUrl: string, options: SeriesFetchOptions): Promise<SeriesRefs> {
  const version = await calendarVersion(client, calendarUrl);
  const known = version ? options.cache.refs(options.account, calendarUrl, version) : undefined;
  if (known) return known;
  let found: SeriesRefs;
  try {
    const answers = await Promise.all([
      client.report(calendarUrl, recurringRefsQueryBody('RRULE'), 1),
      client.report(calendarUrl, recurringRefsQueryBody('RDATE'), 1),
    ]);
    const refs: MemberRefs = new Map();
    for (const responses of answers) refsFrom(responses, calendarUrl, refs);
    found = { refs, filtered: true };
  } catch (err) {
    if (!filterRefused(err)) throw err;
    found = { refs: await listMemberRefs(client, calendarUrl), filtered: false };
  }
  if (!version) return found;
  options.cache.setRefs(options.account, calendarUrl, { ...found, version });
  return { ...found, version };
}

/**
 * The objects of the range answer plus every series it lacks. `seriesRefs` comes from
 * `listSeriesRefs`, asked at the same time as the range.
 */
export async function withSeriesObjects(
  client: DavClient,
  calendarUrl: string,
  inRange: FetchedObject[],
  seriesRefs: SeriesRefs,
  options: SeriesFetchOptions,
): Promise<FetchedObject[]> {
  const { cache, account, log } = options;
  const have = new Set(inRange.map((o) => o.object.href));
  let { refs } = seriesRefs;
  for (const fetched of inRange) {
    if (!isSeriesObject(fetched.object)) continue;
    if (fetched.object.etag) cache.set(account, fetched.object.href, { etag: fetched.object.etag, ics: fetched.ics });
    if (seriesRefs.filtered && !refs.has(fetched.object.href)) {
      // The prop-filter missed a series we can see: its answer cannot be trusted.
      log.warn({ calendarUrl }, 'CalDAV server prop-filter missed a recurring object; listing every object instead');
      refs = await listMemberRefs(client, calendarUrl);
      if (seriesRefs.version) cache.setRefs(account, calendarUrl, { version: seriesRefs.version, refs, filtered: false });
      break;
    }
  }

  const out = [...inRange];
  const missing: string[] = [];
  for (const [href, etag] of refs) {
    if (have.has(href)) continue;
    const cached = etag ? cache.get(account, href, etag) : undefined;
    if (!cached) {
      missing.push(href);
      continue;
    }
    if (cached.ics === null) continue;
    try {
      out.push({ object: parseCalendarObject(cached.ics, href, cached.etag), ics: cached.ics });
    } catch {
      missing.push(href);
    }
  }
  if (missing.length === 0) return out;

  const fetched = await multiget(client, calendarUrl, missing, log);
  const answered = new Set<string>();
  for (const object of fetched) {
    answered.add(object.object.href);
    const series = isSeriesObject(object.object);
    const etag = object.object.etag ?? refs.get(object.object.href);
    if (etag) cache.set(account, object.object.href, { etag, ics: series ? object.ics : null });
    if (series) out.push(object);
  }
  // Unreadable or vanished meanwhile: remembered for this version so the next page does not ask again.
  for (const href of missing) {
    const etag = refs.get(href);
    if (!answered.has(href) && etag) cache.set(account, href, { etag, ics: null });
  }
  return out;
}
