/**
 * Contract fixtures over a real CalDAV server: the plain CalDAV adapter on Radicale or
 * Xandikos, and the iCloud preset behind a stand-in arranged like iCloud. Events are
 * seeded as iCalendar text with plain HTTP PUTs, read back with PROPFIND and GET, and
 * expanded with ical.js's own ICAL.Event (reference-expansion.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createGuardedFetch } from '../../src/http/guarded-fetch.js';
import { createAppleProvider } from '../../src/providers/apple/index.js';
import { createCaldavProvider } from '../../src/providers/caldav/index.js';
import type { BasicCredentials, ProviderContext } from '../../src/providers/types.js';
import type { CaldavServerChoice } from '../support/caldav-servers.js';
import type { CaldavTestServer } from '../support/caldav-test-server.js';
import { connectCaldav, type ConnectSessionHandle } from '../support/connect-flow.js';
import { startIcloudStandin, type IcloudStandin } from '../support/icloud-standin.js';
import { csrfFrom, postForm } from '../support/oauth-flow.js';
import type { TestServer } from '../support/server.js';
import { VTIMEZONE_BERLIN } from '../support/ics-fixtures.js';
import type { ContractFixture, SeedEvent, SeededEvent } from './contract-fixture.js';
import { expandStoredObjects } from './reference-expansion.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** VTIMEZONEs the fixture can write (seeded events and calendar-timezone). */
const VTIMEZONES: Record<string, string[]> = {
  'Europe/Berlin': VTIMEZONE_BERLIN,
  'Pacific/Kiritimati': [
    'BEGIN:VTIMEZONE',
    'TZID:Pacific/Kiritimati',
    'BEGIN:STANDARD',
    'TZOFFSETFROM:+1400',
    'TZOFFSETTO:+1400',
    'TZNAME:+14',
    'DTSTART:19700101T000000',
    'END:STANDARD',
    'END:VTIMEZONE',
  ],
};

function vtimezone(zone: string): string[] {
  const lines = VTIMEZONES[zone];
  if (!lines) throw new Error(`caldav fixture: no VTIMEZONE for ${zone}`);
  return lines;
}

/** `2027-05-03T09:00` → `20270503T090000`; `2027-05-03` → `20270503`. */
function icsTime(wall: string): string {
  return wall.length === 10 ? wall.replace(/-/g, '') : `${wall.replace(/[-:]/g, '')}00`;
}

function timeLine(name: string, wall: string, event: SeedEvent): string {
  if (event.allDay) return `${name};VALUE=DATE:${icsTime(wall)}`;
  return event.timeZone === 'UTC' ? `${name}:${icsTime(wall)}Z` : `${name};TZID=${event.timeZone}:${icsTime(wall)}`;
}

/** The iCalendar object another client would store for `event`. */
export function seedIcs(uid: string, event: SeedEvent): string {
  const stamp = 'DTSTAMP:20270101T000000Z';
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//contract fixture//EN'];
  if (!event.allDay && event.timeZone !== 'UTC') lines.push(...vtimezone(event.timeZone));
  lines.push('BEGIN:VEVENT', `UID:${uid}`, stamp, timeLine('DTSTART', event.start, event), timeLine('DTEND', event.end, event), `SUMMARY:${event.title}`);
  if (event.rrule) lines.push(`RRULE:${event.rrule}`);
  for (const exdate of event.exdates ?? []) lines.push(timeLine('EXDATE', exdate, event));
  lines.push('END:VEVENT');
  for (const moved of event.moved ?? []) {
    lines.push('BEGIN:VEVENT', `UID:${uid}`, stamp, timeLine('RECURRENCE-ID', moved.original, event), timeLine('DTSTART', moved.start, event), timeLine('DTEND', moved.end, event), `SUMMARY:${moved.title ?? event.title}`, 'END:VEVENT');
  }
  for (const original of event.cancelled ?? []) {
    // The cancelled occurrence keeps its slot; its end is only there to make a valid VEVENT.
    lines.push('BEGIN:VEVENT', `UID:${uid}`, stamp, timeLine('RECURRENCE-ID', original, event), timeLine('DTSTART', original, event), 'STATUS:CANCELLED', `SUMMARY:${event.title}`, 'END:VEVENT');
  }
  lines.push('END:VCALENDAR', '');
  return lines.join('\r\n');
}

function hrefsIn(multistatus: string): string[] {
  return [...multistatus.matchAll(/<(?:[\w-]+:)?href>([^<]+)<\/(?:[\w-]+:)?href>/g)].map((m) => m[1]!);
}

interface CaldavFixtureOptions {
  name: string;
  server: CaldavTestServer;
  /** Where the adapter sees the server's collections, when not at the server's own origin (a front that forwards). */
  origin?: string;
  user: string;
  password: string;
  ctx: ProviderContext<BasicCredentials>;
  provider: ContractFixture['provider'];
  serverEnv: Record<string, string>;
  connect(server: TestServer, session: ConnectSessionHandle): Promise<void>;
  close(): Promise<void>;
}

function caldavFixture(o: CaldavFixtureOptions): ContractFixture {
  const { server, user } = o;
  let calendars = 0;
  const slugs = new Map<string, string>();

  async function storedObjects(calendarId: string): Promise<Array<{ href: string; etag: string | null; ics: string }>> {
    const listing = await server.request(user, 'PROPFIND', calendarId, '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>', { depth: '1', 'content-type': 'application/xml' });
    assert.equal(listing.status, 207, listing.body);
    // Members only: the collection itself (however the server spells its href) ends with a slash.
    const hrefs = hrefsIn(listing.body).map((h) => new URL(h, calendarId).toString()).filter((h) => !h.endsWith('/'));
    const objects = await Promise.all(
      hrefs.map(async (href) => {
        const res = await server.get(user, href);
        assert.equal(res.status, 200, `GET ${href}: ${res.status}`);
        return { href: new URL(href).pathname, etag: res.etag, ics: res.body };
      }),
    );
    return objects.sort((a, b) => a.href.localeCompare(b.href));
  }

  const readOnly: ContractFixture['readOnly'] =
    server.capabilities.readOnlyCalendars === true
      ? { make: (calendarId) => server.makeReadOnly(user, slugs.get(calendarId)!) }
      : server.capabilities.readOnlyCalendars;

  return {
    name: o.name,
    provider: o.provider,
    ctx: o.ctx,
    readOnly,

    async createCalendar(title, options = {}) {
      const slug = `c${++calendars}`;
      const zone = options.timeZone && server.capabilities.calendarTimezone === true
        ? { timezone: ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//contract fixture//EN', ...vtimezone(options.timeZone), 'END:VCALENDAR'].join('\r\n') }
        : {};
      const made = await server.mkcalendar(user, slug, { displayName: title, ...zone });
      const url = o.origin ? new URL(new URL(made).pathname, o.origin).toString() : made;
      slugs.set(url, slug);
      return url;
    },

    async seed(calendarId, event): Promise<SeededEvent> {
      const uid = `seed-${randomUUID()}`;
      const res = await server.put(user, new URL(`${uid}.ics`, calendarId).toString(), seedIcs(uid, event), { 'if-none-match': '*' });
      assert.ok(res.status === 201 || res.status === 204, `seed PUT answered ${res.status}: ${res.body}`);
      return { eventId: uid };
    },

    snapshot: (calendarId) => storedObjects(calendarId),

    async serverOccurrences(calendarId, range) {
      return expandStoredObjects((await storedObjects(calendarId)).map((o) => o.ics), range);
    },

    async renameOnServer(calendarId, seeded, title) {
      const href = new URL(`${seeded.eventId}.ics`, calendarId).toString();
      const current = await server.get(user, href);
      assert.equal(current.status, 200);
      // The master's SUMMARY is the first one (overrides follow it in seeded objects).
      const changed = current.body.replace(/SUMMARY:[^\r\n]*/, `SUMMARY:${title}`);
      const res = await server.put(user, href, changed, current.etag ? { 'if-match': current.etag } : {});
      assert.ok(res.status < 300, `rename PUT answered ${res.status}`);
    },

    async removeOnServer(calendarId, seeded) {
      const res = await server.request(user, 'DELETE', new URL(`${seeded.eventId}.ics`, calendarId).toString());
      assert.ok(res.status < 300, `DELETE answered ${res.status}`);
    },

    serverEnv: () => o.serverEnv,
    connect: o.connect,
    close: o.close,
  };
}

/** The CalDAV adapter on a real server of the given kind. */
export async function startCaldavFixture(choice: CaldavServerChoice): Promise<ContractFixture> {
  const user = 'contract';
  const password = 'contract-pw';
  const server = await choice.start({ users: { [user]: password } });
  const ctx: ProviderContext<BasicCredentials> = {
    credentials: { kind: 'basic', serverUrl: server.url, username: user, password, calendarHomeUrl: server.homeUrl(user) },
    fetch: createGuardedFetch({ allowPrivateNetworks: true }),
    log: silent,
  };
  return caldavFixture({
    name: `caldav on ${choice.name}`,
    server,
    user,
    password,
    ctx,
    provider: createCaldavProvider() as ContractFixture['provider'],
    serverEnv: {},
    async connect(almanac, session) {
      const res = await connectCaldav(almanac.url, session, { server_url: server.url, username: user, password });
      assert.equal(res.status, 303, await res.text());
    },
    close: () => server.stop(),
  });
}

/** The iCloud preset: discovery through a stand-in arranged like caldav.icloud.com, calendars on Radicale behind it. */
export async function startIcloudFixture(radicale: CaldavServerChoice): Promise<ContractFixture> {
  const appleId = 'contract@icloud.example';
  const appPassword = 'abcd-efgh-ijkl-mnop';
  const server = await radicale.start({ users: { [appleId]: appPassword } });
  let standin: IcloudStandin;
  try {
    standin = await startIcloudStandin({ appleId, appPassword, upstream: { port: server.port, homePath: new URL(server.homeUrl(appleId)).pathname } });
  } catch (err) {
    await server.stop();
    throw err;
  }
  const ctx: ProviderContext<BasicCredentials> = {
    // No calendar home stored: the adapter finds it through the stand-in, as after a fresh connect.
    credentials: { kind: 'basic', serverUrl: standin.url, username: appleId, password: appPassword },
    fetch: createGuardedFetch({ allowPrivateNetworks: true }),
    log: silent,
  };
  return caldavFixture({
    name: 'icloud preset',
    server,
    // The adapter reaches the calendars through the stand-in, where discovery put the home.
    origin: standin.url,
    user: appleId,
    password: appPassword,
    ctx,
    provider: createAppleProvider() as ContractFixture['provider'],
    serverEnv: { ALMANAC_ICLOUD_CALDAV_URL: standin.url },
    async connect(almanac, session) {
      const page = await fetch(`${almanac.url}/connect/icloud`, { headers: { cookie: session.cookie } });
      assert.equal(page.status, 200);
      const res = await postForm(`${almanac.url}/connect/icloud`, session.cookie, { csrf: csrfFrom(await page.text()), apple_id: appleId, password: appPassword });
      assert.equal(res.status, 303, await res.text());
    },
    async close() {
      await standin.close();
      await server.stop();
    },
  });
}
