/**
 * A live walk over a CalDAV calendar reads the calendar once: later pages are cut from
 * the first page's listing (the walk's snapshot), so walking a range in pages costs what
 * one read costs, not one read per page. A page token whose snapshot is gone (another
 * instance, evicted) still works: the calendar is read again and the walk goes on from
 * its position.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startCountingProxy, type CountingProxy } from '../support/counting-proxy.js';
import { createCaldavProvider } from '../../src/providers/caldav/index.js';
import { createGuardedFetch } from '../../src/http/guarded-fetch.js';
import type { CalendarEvent } from '../../src/domain/calendar.js';
import type { BasicCredentials, ProviderContext } from '../../src/providers/types.js';

function ics(uid: string, start: string): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', `DTSTART:${start}`, 'DURATION:PT1H', `SUMMARY:${uid}`, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

describe('live CalDAV walks', { skip: RADICALE_SKIP }, () => {
  let rad: RadicaleServer;
  let proxy: CountingProxy;
  let calendarId: string;
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const range = { start: new Date('2027-05-01T00:00:00Z'), end: new Date('2027-06-01T00:00:00Z') };

  before(async () => {
    rad = await startRadicale({ users: { alice: 'alice-pw' } });
    await rad.mkcalendar('alice', 'walk');
    for (let i = 0; i < 120; i++) await rad.put('alice', `/alice/walk/e${i}.ics`, ics(`e${String(i).padStart(3, '0')}`, `202705${String(1 + (i % 28)).padStart(2, '0')}T${String(8 + (i % 9)).padStart(2, '0')}0000Z`));
    proxy = await startCountingProxy(rad.port);
    calendarId = new URL('/alice/walk/', proxy.url).toString();
  });
  after(async () => {
    await proxy?.close();
    await rad?.stop();
  });

  const ctx = (): ProviderContext<BasicCredentials> => ({
    credentials: { kind: 'basic', serverUrl: proxy.url, username: 'alice', password: 'alice-pw', calendarHomeUrl: new URL('/alice/', proxy.url).toString() },
    fetch: createGuardedFetch({ allowPrivateNetworks: true }),
    log: quiet,
  });

  async function walk(adapter: ReturnType<typeof createCaldavProvider>, pageSize: number, onPage?: (n: number) => void): Promise<CalendarEvent[]> {
    const out: CalendarEvent[] = [];
    let pageToken: string | undefined;
    let n = 0;
    do {
      const page = await adapter.listEvents(ctx(), { calendarId, ...range, singleEvents: true, pageSize, ...(pageToken ? { pageToken } : {}) });
      out.push(...page.events);
      pageToken = page.nextPageToken;
      onPage?.(++n);
    } while (pageToken);
    return out;
  }

  test('pages after the first cost no request, and the walk returns each event once, in order', async () => {
    const adapter = createCaldavProvider();
    const whole = await walk(adapter, 1000);
    proxy.reset();
    let afterFirst = 0;
    const paged = await walk(adapter, 10, (n) => {
      if (n === 1) afterFirst = proxy.requests.length;
    });
    assert.equal(paged.length, 120);
    assert.deepEqual(paged, whole);
    assert.ok(afterFirst > 0);
    assert.equal(proxy.requests.length, afterFirst, `12 pages read the calendar once: ${JSON.stringify(proxy.requests)}`);
  });

  test('a token whose snapshot is gone (another instance) reads the calendar again and goes on from its position', async () => {
    const first = createCaldavProvider();
    const page1 = await first.listEvents(ctx(), { calendarId, ...range, singleEvents: true, pageSize: 50 });
    const elsewhere = createCaldavProvider();
    const rest: CalendarEvent[] = [];
    let pageToken = page1.nextPageToken;
    while (pageToken) {
      const page = await elsewhere.listEvents(ctx(), { calendarId, ...range, singleEvents: true, pageSize: 50, pageToken });
      rest.push(...page.events);
      pageToken = page.nextPageToken;
    }
    assert.deepEqual([...page1.events, ...rest], await walk(createCaldavProvider(), 1000));
  });

  test('a walk sees the calendar as it was at its first page', async () => {
    const adapter = createCaldavProvider();
    const page1 = await adapter.listEvents(ctx(), { calendarId, ...range, singleEvents: true, pageSize: 60 });
    await rad.put('alice', '/alice/walk/late.ics', ics('zzz-late', '20270530T120000Z'));
    const page2 = await adapter.listEvents(ctx(), { calendarId, ...range, singleEvents: true, pageSize: 60, pageToken: page1.nextPageToken! });
    assert.equal(page1.events.length + page2.events.length, 120);
    assert.equal(page2.nextPageToken, undefined);
    assert.ok((await walk(adapter, 1000)).some((e) => e.id === 'zzz-late'), 'a new walk sees the new event');
  });
});
