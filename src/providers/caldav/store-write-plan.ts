/** Stores what `edit-series.ts` planned, every write conditional on the version read. */
import type ICAL from 'ical.js';
import { pruneUnusedTimezones, resourceNameFor, serializeCalendarObject } from './calendar-object.js';
import type { DavClient } from './dav-client.js';
import type { WritePlan } from './edit-series.js';
import type { FetchedObject } from './event-resources.js';

export function serializeForStore(vcalendar: ICAL.Component): string {
  pruneUnusedTimezones(vcalendar);
  return serializeCalendarObject(vcalendar);
}

/**
 * Resolves to the href of the object holding the result (undefined after a delete).
 * A split writes the shortened series first: if the continuation cannot be created,
 * the original text is put back so the occurrences are not lost.
 * @param etag the version the caller saw; without one, `If-Match: *` still refuses
 *   to resurrect an object deleted in the meantime.
 */
export async function storeWritePlan(
  client: DavClient,
  fetched: FetchedObject,
  plan: WritePlan,
  etag: string | undefined,
  calendarUrl: string,
): Promise<string | undefined> {
  const href = fetched.object.href;
  const ifMatch = etag ?? '*';
  if (plan.kind === 'delete') {
    await client.delete(href, ifMatch);
    return undefined;
  }
  const newEtag = await client.put(href, serializeForStore(plan.vcalendar), { ifMatch });
  if (plan.kind === 'replace') return href;
  const created = new URL(resourceNameFor(plan.created.uid), calendarUrl).toString();
  try {
    await client.put(created, serializeForStore(plan.created.vcalendar), { ifNoneMatch: '*' });
  } catch (err) {
    const current = newEtag ?? (await client.get(href).then((o) => o.etag).catch(() => undefined));
    if (current) await client.put(href, fetched.ics, { ifMatch: current }).catch(() => undefined);
    throw err;
  }
  return created;
}
