/**
 * A separate, deliberately naive CalDAV reader for checking what really landed on
 * Radicale: a calendar-query REPORT over plain HTTP with Basic auth, parsed with regular
 * expressions. It shares no code with Almanac's adapter, so a bug in that adapter's
 * writing cannot be hidden by the same bug in its reading.
 */
import assert from 'node:assert/strict';
import type { RadicaleServer } from '../support/radicale.js';

export interface StoredObject {
  href: string;
  ics: string;
}

function xmlText(text: string): string {
  return text.replace(/&#(\d+);/g, (_, d: string) => String.fromCharCode(Number(d))).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** Every calendar object in a collection, by a calendar-query REPORT; ICS lines unfolded. */
export async function objectsOn(rad: RadicaleServer, user: string, collection: string): Promise<StoredObject[]> {
  const body =
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">' +
    '<D:prop><D:getetag/><C:calendar-data/></D:prop>' +
    '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter>' +
    '</C:calendar-query>';
  const res = await rad.request(user, 'REPORT', collection, body, { depth: '1', 'content-type': 'application/xml; charset=utf-8' });
  assert.equal(res.status, 207, res.body);
  const out: StoredObject[] = [];
  for (const [block] of res.body.matchAll(/<(?:[\w-]+:)?response\b[\s\S]*?<\/(?:[\w-]+:)?response>/g)) {
    const href = /<(?:[\w-]+:)?href>([^<]*)</.exec(block)?.[1];
    const data = /<(?:[\w-]+:)?calendar-data[^>]*>([\s\S]*?)<\/(?:[\w-]+:)?calendar-data>/.exec(block)?.[1];
    if (href && data) out.push({ href: xmlText(href), ics: xmlText(data).replace(/\r?\n[ \t]/g, '') });
  }
  return out;
}

export function property(ics: string, name: string): string[] {
  return [...ics.matchAll(new RegExp(`^${name}(?:;[^:\\r\\n]*)?:(.*)$`, 'gm'))].map((m) => m[1]!.trim());
}
