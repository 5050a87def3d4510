/**
 * Listings must not depend on the server's time-range filter for recurring objects
 * (Xandikos judges a series by its first occurrence only). Against real Radicale and
 * Xandikos, and against proxies in front of them that refuse, ignore or break the
 * prop-filter the adapter uses to find series: the right occurrences come back, and
 * the requests a page costs stay bounded (counted on the wire).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CalendarEvent } from '../../src/domain/calendar.js';
import { createGuardedFetch } from '../../src/http/guarded-fetch.js';
import { createCaldavProvider } from '../../src/providers/caldav/index.js';
import type { BasicCredentials, ProviderContext } from '../../src/providers/types.js';
import { CALDAV_SERVERS } from '../support/caldav-servers.js';
import type { CaldavTestServer } from '../support/caldav-test-server.js';
import { countingFetch, startDavProxy, type DavProxy } from '../support/dav-proxy.js';

const log = { debug() {}, info() {}, warn() {}, error() {} };
const USER = 'ana';
const open = createGuardedFetch({ allowPrivateNetworks: true });

function vevent(uid: string, lines: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//other client//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20270101T000000Z', ...lines, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

const summary = (e: CalendarEvent): string => `${e.start.slice(0, 16)} ${e.title}`;
const reports = (requests: string[]): string[] => requests.filter((r) => r.startsWith('REPORT') || r.startsWith('PROPFIND')).sort();

for (const choice of CALDAV_SERVERS) {
  describe(`recurring objects whatever the time-range filter says, on ${choice.name}`, { skip: choice.skip }, () => {
    let server: CaldavTestServer;
    let calendar: string;
    let many: string;

    function contextFor(fetch: typeof globalThis.fetch, origin = server.url): ProviderContext<BasicCredentials> {
      const home = new URL(new URL(server.homeUrl(USER)).pathname, origin).toString();
      return { credentials: { kind: 'basic', serverUrl: origin, username: USER, password: 'pw', calendarHomeUrl: home }, fetch, log };
    }

    async function list(ctx: ProviderContext<BasicCredentials>, calendarId: string, start: string, end: string, singleEvents = true): Promise<CalendarEvent[]> {
      // A fresh provider unless one is given: its series cache starts empty.
      const page = await listWith(createCaldavProvider(), ctx, calendarId, start, end, singleEvents);
      return page;
    }

    async function listWith(provider: ReturnType<typeof createCaldavProvider>, ctx: ProviderContext<BasicCredentials>, calendarId: string, start: string, end: string, singleEvents = true): Promise<CalendarEvent[]> {
      const page = await provider.listEvents(ctx, { calendarId, start: new Date(start), end: new Date(end), singleEvents, pageSize: 1000 });
      assert.equal(page.nextPageToken, undefined);
      return page.events;
    }

    const via = (proxy: DavProxy, url: string): string => new URL(new URL(url).pathname, proxy.url).toString();

    before(async () => {
      server = await choice.start({ users: { [USER]: 'pw' } });
      calendar = await server.mkcalendar(USER, 'series', { displayName: 'Series' });
      many = await server.mkcalendar(USER, 'many', { displayName: 'Many' });
      const put = async (cal: string, uid: string, lines: string[]): Promise<void> => {
        const res = await server.put(USER, `${cal}${uid}.ics`, vevent(uid, lines));
        assert.ok(res.status < 300, `${res.status} ${res.body}`);
      };
      await put(calendar, 'weekly', ['DTSTART:20270104T090000Z', 'DTEND:20270104T100000Z', 'RRULE:FREQ=WEEKLY', 'SUMMARY:Weekly']);
      await put(calendar, 'rdate', ['DTSTART:20270105T120000Z', 'DTEND:20270105T130000Z', 'RDATE:20270309T120000Z', 'SUMMARY:Rdate']);
      await put(calendar, 'early', ['DTSTART:20261130T070000Z', 'DTEND:20261130T080000Z', 'RRULE:FREQ=WEEKLY;UNTIL=20270401T000000Z', 'SUMMARY:Early']);
      await put(calendar, 'single', ['DTSTART:20270310T150000Z', 'DTEND:20270310T160000Z', 'SUMMARY:Single']);
      // Eight PUTs in flight at a time: seeding is most of this file's time.
      for (let batch = 0; batch < 105; batch += 8) {
        await Promise.all(
          Array.from({ length: Math.min(8, 105 - batch) }, (_, k) => {
            const i = batch + k;
            const day = `2026010${1 + (i % 5)}`;
            const minute = String(i % 60).padStart(2, '0');
            return put(many, `old-${i}`, [`DTSTART:${day}T10${minute}00Z`, `DTEND:${day}T11${minute}00Z`, 'RRULE:FREQ=DAILY;COUNT=2', `SUMMARY:Old ${i}`]);
          }),
        );
      }
    });
    after(async () => {
      await server?.stop();
    });

    test('a range holding later occurrences but no DTSTART returns them, and the masters with singleEvents=false', async () => {
      const ctx = contextFor(open);
      const events = await list(ctx, calendar, '2027-03-08T00:00:00Z', '2027-03-12T00:00:00Z');
      assert.deepEqual(events.map(summary), ['2027-03-08T07:00 Early', '2027-03-08T09:00 Weekly', '2027-03-09T12:00 Rdate', '2027-03-10T15:00 Single']);
      const masters = await list(ctx, calendar, '2027-03-08T00:00:00Z', '2027-03-12T00:00:00Z', false);
      assert.deepEqual(masters.map((e) => e.id).sort(), ['early', 'rdate', 'single', 'weekly']);
      // A range after the RDATE and the UNTIL keeps only the open-ended series.
      const later = await list(ctx, calendar, '2027-05-03T00:00:00Z', '2027-05-04T00:00:00Z');
      assert.deepEqual(later.map(summary), ['2027-05-03T09:00 Weekly']);
    });

    test('a page costs a time-range REPORT and a Depth 0 PROPFIND while the calendar is unchanged; new series come by multiget in batches of 100', async () => {
      const counted = countingFetch(open);
      const ctx = contextFor(counted.fetch);
      const provider = createCaldavProvider();
      // 105 series of long ago: none in the range, but the adapter cannot know without reading them.
      assert.deepEqual(await listWith(provider, ctx, many, '2027-03-01T00:00:00Z', '2027-03-08T00:00:00Z'), []);
      assert.deepEqual(reports(counted.requests), ['PROPFIND 0', 'REPORT RDATE', 'REPORT RRULE', 'REPORT multiget 100', 'REPORT multiget 5', 'REPORT time-range']);
      counted.requests.length = 0;
      assert.deepEqual(await listWith(provider, ctx, many, '2027-04-01T00:00:00Z', '2027-04-08T00:00:00Z'), []);
      assert.deepEqual(reports(counted.requests), ['PROPFIND 0', 'REPORT time-range']);
      // And the cached series still expand: a range with their occurrences.
      counted.requests.length = 0;
      const old = await listWith(provider, ctx, many, '2026-01-01T00:00:00Z', '2026-01-11T00:00:00Z');
      assert.equal(old.length, 210);
      assert.ok(!counted.requests.some((r) => r.startsWith('REPORT multiget')), counted.requests.join());
    });

    test('a series changed on the server is read again: the cache holds one version per ETag', async () => {
      const provider = createCaldavProvider();
      const ctx = contextFor(open);
      assert.deepEqual((await listWith(provider, ctx, calendar, '2027-06-07T00:00:00Z', '2027-06-08T00:00:00Z')).map(summary), ['2027-06-07T09:00 Weekly']);
      const href = `${calendar}weekly.ics`;
      const current = await server.get(USER, href);
      assert.equal((await server.put(USER, href, current.body.replace('SUMMARY:Weekly', 'SUMMARY:Renamed'))).status < 300, true);
      assert.deepEqual((await listWith(provider, ctx, calendar, '2027-06-07T00:00:00Z', '2027-06-08T00:00:00Z')).map(summary), ['2027-06-07T09:00 Renamed']);
      await server.put(USER, href, current.body);
    });

    test('a series another client adds is found on the next page: the series list is kept per calendar version', async () => {
      const provider = createCaldavProvider();
      const ctx = contextFor(open);
      const range = ['2027-06-14T00:00:00Z', '2027-06-15T00:00:00Z'] as const;
      assert.deepEqual((await listWith(provider, ctx, calendar, ...range)).map(summary), ['2027-06-14T09:00 Weekly']);
      const href = `${calendar}added.ics`;
      assert.ok((await server.put(USER, href, vevent('added', ['DTSTART:20270201T180000Z', 'DTEND:20270201T190000Z', 'RRULE:FREQ=WEEKLY', 'SUMMARY:Added']))).status < 300);
      assert.deepEqual((await listWith(provider, ctx, calendar, ...range)).map(summary), ['2027-06-14T09:00 Weekly', '2027-06-14T18:00 Added']);
      await server.request(USER, 'DELETE', href);
      assert.deepEqual((await listWith(provider, ctx, calendar, ...range)).map(summary), ['2027-06-14T09:00 Weekly']);
    });

    test('a server that refuses the prop-filter: every member is listed by PROPFIND instead', async () => {
      const proxy = await startDavProxy(server, (req) =>
        req.method === 'REPORT' && /prop-filter name="(RRULE|RDATE)"/.test(req.body)
          ? { answer: { status: 403, body: '<?xml version="1.0"?><D:error xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><C:supported-filter/></D:error>' } }
          : undefined,
      );
      try {
        const counted = countingFetch(open);
        const events = await list(contextFor(counted.fetch, proxy.url), via(proxy, calendar), '2027-03-08T00:00:00Z', '2027-03-12T00:00:00Z');
        assert.deepEqual(events.map(summary), ['2027-03-08T07:00 Early', '2027-03-08T09:00 Weekly', '2027-03-09T12:00 Rdate', '2027-03-10T15:00 Single']);
        assert.ok(counted.requests.includes('PROPFIND 1'), counted.requests.join());
      } finally {
        await proxy.close();
      }
    });

    test('a prop-filter answer that lacks a series the range shows is not trusted', async () => {
      const empty = '<?xml version="1.0"?><D:multistatus xmlns:D="DAV:"/>';
      const proxy = await startDavProxy(server, (req) =>
        req.method === 'REPORT' && /prop-filter name="(RRULE|RDATE)"/.test(req.body) ? { answer: { status: 207, body: empty } } : undefined,
      );
      try {
        const counted = countingFetch(open);
        // The range holds Weekly's DTSTART (every server returns it) and a later occurrence of Early.
        const events = await list(contextFor(counted.fetch, proxy.url), via(proxy, calendar), '2027-01-04T00:00:00Z', '2027-01-05T00:00:00Z');
        assert.deepEqual(events.map(summary), ['2027-01-04T07:00 Early', '2027-01-04T09:00 Weekly']);
        assert.ok(counted.requests.includes('PROPFIND 1'), counted.requests.join());
      } finally {
        await proxy.close();
      }
    });

    test('a server that ignores the prop-filter: each version of a non-series object is fetched once, then remembered', async () => {
      const proxy = await startDavProxy(server, (req) =>
        req.method === 'REPORT' && /prop-filter name="(RRULE|RDATE)"/.test(req.body)
          ? { forwardBody: req.body.replace(/<c:prop-filter name="(RRULE|RDATE)"\/>/, '') }
          : undefined,
      );
      try {
        const counted = countingFetch(open);
        const ctx = contextFor(counted.fetch, proxy.url);
        const provider = createCaldavProvider();
        const range = ['2027-05-03T00:00:00Z', '2027-05-04T00:00:00Z'] as const;
        assert.deepEqual((await listWith(provider, ctx, via(proxy, calendar), ...range)).map(summary), ['2027-05-03T09:00 Weekly']);
        assert.ok(counted.requests.some((r) => r.startsWith('REPORT multiget')), counted.requests.join());
        // Another client changes the single event: the calendar version changes, the series list is asked again.
        const href = `${calendar}single.ics`;
        const current = await server.get(USER, href);
        assert.ok((await server.put(USER, href, current.body.replace('SUMMARY:Single', 'SUMMARY:Single again'))).status < 300);
        counted.requests.length = 0;
        assert.deepEqual((await listWith(provider, ctx, via(proxy, calendar), ...range)).map(summary), ['2027-05-03T09:00 Weekly']);
        // Only the changed object is fetched again; the others are known not to be series.
        assert.deepEqual(reports(counted.requests), ['PROPFIND 0', 'REPORT RDATE', 'REPORT RRULE', 'REPORT multiget 1', 'REPORT time-range']);
        await server.put(USER, href, current.body);
      } finally {
        await proxy.close();
      }
    });

  });
}
