/**
 * GET /api/events served from the mirror, through the real server: the same answers as
 * a live read, no provider request, paging by keyset with every event exactly once,
 * the source named in a header, stale or unsynced calendars read live, and the
 * application's own writes visible on the next read.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServer, type TestServer } from '../support/server.js';
import { syncNow as syncNowFor } from '../support/sync-now.js';
import { dialects } from '../support/databases.js';
import { api, connectCaldav, finishConnect, openConnect } from '../support/connect-flow.js';
import { startCountingProxy, type CountingProxy } from '../support/counting-proxy.js';

type Api = ReturnType<typeof api>;
type Event = { id: string; start: string; title: string; calendarId: string };

function ics(uid: string, fields: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...fields, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

async function walk(a: Api & { url: string }, params: Record<string, string>, headers: Record<string, string> = {}): Promise<{ events: Event[]; pages: number; sources: string[] }> {
  const events: Event[] = [];
  const sources: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const res = await fetch(`${a.url}/api/events?${new URLSearchParams({ ...params, ...(token ? { nextPageToken: token } : {}) })}`, { headers: { authorization: `Bearer ${a.token}`, ...headers } });
    const body = (await res.json()) as { events: Event[]; nextPageToken?: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    sources.push(res.headers.get('almanac-source') ?? '');
    events.push(...body.events);
    token = body.nextPageToken;
    pages += 1;
    assert.ok(pages < 1000, 'paging terminates');
  } while (token);
  return { events, pages, sources };
}

function byStartThenId(a: Event, b: Event): number {
  return Date.parse(a.start) - Date.parse(b.start) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

for (const { dialect, skip } of await dialects()) describe(`reads from the mirror on ${dialect}`, { skip: RADICALE_SKIP || skip }, () => {
  let rad: RadicaleServer;
  let proxy: CountingProxy;
  let server: TestServer;
  let a: Api & { url: string };
  let accountRowId: string;
  let calendarId: string;
  const base = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
  const month = { start: new Date(base).toISOString(), end: new Date(base + 31 * 86_400_000).toISOString() };

  const syncNow = () => syncNowFor(server.runtime, accountRowId);


  before(async () => {
    rad = await startRadicale({ users: { alice: 'alice-pw' } });
    await rad.mkcalendar('alice', 'work', { displayName: 'Work' });
    await rad.mkcalendar('alice', 'home', { displayName: 'Home' });
    // 300 events over the month in two calendars, some sharing a start.
    for (let i = 0; i < 300; i++) {
      const start = base + Math.floor(i / 2) * 4 * 3_600_000;
      const cal = i % 3 === 0 ? 'home' : 'work';
      await rad.put('alice', `/alice/${cal}/e${i}.ics`, ics(`e${i}`, [`DTSTART:${stamp(start)}`, `DTEND:${stamp(start + 3_600_000)}`, `SUMMARY:Event ${i}`]));
    }
    await rad.put('alice', '/alice/work/daily.ics', ics('daily', [`DTSTART:${stamp(base + 7 * 3_600_000)}`, `DTEND:${stamp(base + 8 * 3_600_000)}`, 'RRULE:FREQ=DAILY;COUNT=40', 'SUMMARY:Daily']));
    proxy = await startCountingProxy(rad.port);
    server = await startServer({ dialect, sync: true });
    const client = await server.createClient();
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'reader' });
    assert.equal((await connectCaldav(server.url, s, { server_url: proxy.url, username: 'alice', password: 'alice-pw' })).status, 303);
    const tokens = await finishConnect(server.url, s, client);
    a = Object.assign(api(server.url, tokens.access_token), { url: server.url });
    accountRowId = (await server.runtime.storage.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
    calendarId = new URL('/alice/work/', proxy.url).toString();
    await syncNow();
  });

  after(async () => {
    await server?.close();
    await proxy?.close();
    await rad?.stop();
  });

  test('a month is served from the mirror with zero provider requests, and equals a live read', async () => {
    proxy.reset();
    const mirror = await walk(a, { ...month, pageSize: '1000' });
    assert.deepEqual([...new Set(mirror.sources)], ['mirror']);
    assert.equal(proxy.requests.length, 0, JSON.stringify(proxy.requests));
    const live = await walk(a, { ...month, pageSize: '1000' }, { 'cache-control': 'no-cache' });
    assert.deepEqual([...new Set(live.sources)], ['live']);
    assert.ok(proxy.requests.length > 0);
    assert.equal(mirror.events.length, 331, "300 singles and 31 days of the daily series");
    assert.deepEqual([...mirror.events].sort(byStartThenId), [...live.events].sort(byStartThenId));
    const starts = mirror.events.map((e) => Date.parse(e.start));
    assert.deepEqual(starts, [...starts].sort((x, y) => x - y), 'sorted by start');
  });

  test('paging the mirror returns every event exactly once, without provider requests', async () => {
    proxy.reset();
    const paged = await walk(a, { ...month, pageSize: '25' });
    assert.equal(proxy.requests.length, 0);
    assert.equal(paged.pages, Math.ceil(331 / 25));
    const ids = paged.events.map((e) => `${e.calendarId}|${e.id}`);
    assert.equal(new Set(ids).size, ids.length, 'no event twice');
    assert.equal(ids.length, 331);
    const one = await walk(a, { ...month, pageSize: '1000' });
    assert.deepEqual(paged.events, one.events, 'pages of 25 concatenate to the single page');
  });

  test('a stale mirror is not used in the default mode; the calendar is read live', async () => {
    await server.runtime.storage.db.updateTable('calendar_sync').set({ last_success_at: Date.now() - 3_600_000 }).execute();
    await server.runtime.storage.db.updateTable('sync_jobs').set({ calendars_listed_at: Date.now() - 3_600_000 }).execute();
    const res = await a.events({ ...month, pageSize: '10' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('almanac-source'), 'live');
    await syncNow();
    assert.equal((await a.events({ ...month, pageSize: '10' })).headers.get('almanac-source'), 'mirror');
  });

  test('the application reads its own writes at once: created, updated and deleted events', async () => {
    const start = new Date(base + 10 * 86_400_000 + 3_600_000).toISOString();
    const created = await a.post('/api/event', { provider: 'caldav', calendarId, title: 'Written through', start, end: new Date(Date.parse(start) + 1_800_000).toISOString() });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const seen = async () => (await walk(a, { ...month, pageSize: '1000' })).events.filter((e) => e.id === created.body.id);
    assert.deepEqual((await seen()).map((e) => e.title), ['Written through']);
    const updated = await a.put('/api/event', { provider: 'caldav', calendarId, eventId: created.body.id, title: 'Renamed' });
    assert.equal(updated.status, 200);
    assert.deepEqual((await seen()).map((e) => e.title), ['Renamed']);
    const removed = await a.del(`/api/event?${new URLSearchParams({ provider: 'caldav', calendarId, eventId: created.body.id })}`);
    assert.equal(removed.status, 200);
    assert.deepEqual(await seen(), []);
    // Once the sync caught up, the mirror answers again and agrees.
    await syncNow();
    const res = await a.events({ ...month, pageSize: '1000' });
    assert.equal(res.headers.get('almanac-source'), 'mirror');
    assert.equal(res.body.events.filter((e: Event) => e.id === created.body.id).length, 0);
  });

  test('a walk reads one state of the mirror: syncs landing mid-walk change nothing until the next walk', async () => {
    const params = { ...month, pageSize: '20' };
    const before = await walk(a, params);
    const seen: Event[] = [];
    let token: string | undefined;
    let pages = 0;
    let moved = '';
    do {
      const res = await fetch(`${a.url}/api/events?${new URLSearchParams({ ...params, ...(token ? { nextPageToken: token } : {}) })}`, { headers: { authorization: `Bearer ${a.token}` } });
      const body = (await res.json()) as { events: Event[]; nextPageToken?: string };
      assert.equal(res.headers.get('almanac-source'), 'mirror');
      seen.push(...body.events);
      token = body.nextPageToken;
      pages += 1;
      if (pages === 3) {
        // Changes on the server, synced before the next page: an event already returned moves to the
        // end of the month, one not yet returned is deleted, one is added.
        moved = seen[0]!.id;
        const late = base + 30 * 86_400_000;
        await rad.put('alice', `/alice/${seen[0]!.calendarId.includes('/home/') ? 'home' : 'work'}/${moved}.ics`, ics(moved, [`DTSTART:${stamp(late)}`, `DTEND:${stamp(late + 3_600_000)}`, `SUMMARY:Moved`]));
        await rad.request('alice', 'DELETE', '/alice/work/e299.ics');
        await rad.put('alice', '/alice/work/added-mid-walk.ics', ics('added-mid-walk', [`DTSTART:${stamp(base + 29 * 86_400_000)}`, `DTEND:${stamp(base + 29 * 86_400_000 + 3_600_000)}`, 'SUMMARY:Added mid-walk']));
        await syncNow();
      }
    } while (token);
    assert.deepEqual(seen, before.events, 'the walk returned the mirror as it was when it started, each event once');
    const after = await walk(a, params);
    assert.equal(after.events.filter((e) => e.id === moved).map((e) => e.title).join(), 'Moved');
    assert.ok(!after.events.some((e) => e.id === 'e299'));
    assert.ok(after.events.some((e) => e.id === 'added-mid-walk'));
    const keys = after.events.map((e) => `${e.calendarId}|${e.id}`);
    assert.equal(new Set(keys).size, keys.length);
  });

  test('read modes: live never uses the mirror; mirror uses it however old', async () => {
    const { config } = server.runtime;
    const original = config.sync.readMode;
    try {
      config.sync.readMode = 'live';
      assert.equal((await a.events({ ...month, pageSize: '10' })).headers.get('almanac-source'), 'live');
      config.sync.readMode = 'mirror';
      await server.runtime.storage.db.updateTable('calendar_sync').set({ last_success_at: Date.now() - 86_400_000 }).execute();
      await server.runtime.storage.db.updateTable('sync_jobs').set({ calendars_listed_at: Date.now() - 86_400_000 }).execute();
      proxy.reset();
      const res = await a.events({ ...month, pageSize: '10' });
      assert.equal(res.headers.get('almanac-source'), 'mirror');
      assert.ok(Number(res.headers.get('almanac-data-age')) >= 86_399);
      assert.equal(proxy.requests.length, 0);
    } finally {
      config.sync.readMode = original;
      await syncNow();
    }
  });

  test('a range outside the mirrored window is read live', async () => {
    const res = await a.events({ start: '2000-01-01T00:00:00Z', end: '2000-02-01T00:00:00Z' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('almanac-source'), 'live');
  });
});
