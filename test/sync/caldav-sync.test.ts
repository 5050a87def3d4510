/**
 * The sync engine against a real Radicale: the mirror holds exactly what a live read
 * returns, changes made directly on the server reach it, an unchanged calendar costs one
 * request per poll, servers without sync-collection and refused sync tokens are handled,
 * and nothing of an event's contents is stored in clear.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServer, type TestServer } from '../support/server.js';
import { syncNow as syncNowFor } from '../support/sync-now.js';
import { dialects } from '../support/databases.js';
import { connectCaldav, finishConnect, openConnect } from '../support/connect-flow.js';
import { startCountingProxy, type CountingProxy } from '../support/counting-proxy.js';
import { createCaldavProvider } from '../../src/providers/caldav/index.js';
import type { CalendarEvent } from '../../src/domain/calendar.js';
import type { BasicCredentials, ProviderContext } from '../../src/providers/types.js';
import { desiredWindow } from '../../src/sync/sync-window.js';

const SECRET_TITLE = 'Quarterly-review-9f3a7c';

function ics(uid: string, lines: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...lines.map((l) => l.replace('$UID', uid)), 'END:VCALENDAR', ''].join('\r\n');
}

function vevent(uid: string, fields: string[]): string[] {
  return ['BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...fields, 'END:VEVENT'];
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Every event a live read returns for a range, all pages. */
async function liveEvents(credentials: BasicCredentials, calendarId: string, start: Date, end: Date, singleEvents = true): Promise<CalendarEvent[]> {
  const adapter = createCaldavProvider();
  const ctx: ProviderContext<BasicCredentials> = { credentials, fetch: globalThis.fetch, log: quiet };
  const out: CalendarEvent[] = [];
  let pageToken: string | undefined;
  do {
    const page = await adapter.listEvents(ctx, { calendarId, start, end, singleEvents, pageSize: 1000, ...(pageToken ? { pageToken } : {}) });
    out.push(...page.events);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}

function byStartThenId(a: CalendarEvent, b: CalendarEvent): number {
  return Date.parse(a.start) - Date.parse(b.start) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

for (const { dialect, skip } of await dialects()) describe(`sync engine with CalDAV on ${dialect}`, { skip: RADICALE_SKIP || skip }, () => {
  let rad: RadicaleServer;
  let proxy: CountingProxy;
  let server: TestServer;
  /** Collection paths on Radicale, and the calendar ids Almanac gives them (reached through the proxy). */
  let work: string;
  let home: string;
  let workId: string;
  let homeId: string;
  let accountRowId: string;

  const db = () => server.runtime.storage.db;
  const credentials = (): BasicCredentials => ({ kind: 'basic', serverUrl: proxy.url, username: 'alice', password: 'alice-pw' });

  async function calendarRows(): Promise<{ id: string; provider_calendar_id: string }[]> {
    return db().selectFrom('calendars').select(['id', 'provider_calendar_id']).where('account_id', '=', accountRowId).execute();
  }

  const syncNow = () => syncNowFor(server.runtime, accountRowId);


  async function mirrored(calendarUrl: string, start: Date, end: Date, view: 'instances' | 'masters' = 'instances'): Promise<CalendarEvent[]> {
    const row = (await calendarRows()).find((r) => r.provider_calendar_id === calendarUrl);
    assert.ok(row, `calendar ${calendarUrl} is mirrored`);
    const state = await server.runtime.services.calendarSync.get(row.id);
    const { entries } = await server.runtime.services.mirror.page({
      calendarIds: [row.id],
      view,
      start: start.getTime(),
      end: end.getTime(),
      maxDurationMs: state!.maxDurationMs,
      limit: 100_000,
    });
    return entries.map((e) => e.event);
  }

  async function assertMirrorMatchesLive(calendarUrl: string, start: Date, end: Date): Promise<void> {
    for (const view of ['instances', 'masters'] as const) {
      const live = (await liveEvents(credentials(), calendarUrl, start, end, view === 'instances')).sort(byStartThenId);
      const mirror = (await mirrored(calendarUrl, start, end, view)).sort(byStartThenId);
      assert.deepEqual(mirror, live, `${view} of ${calendarUrl} in ${start.toISOString()}..${end.toISOString()}`);
    }
  }

  before(async () => {
    rad = await startRadicale({ users: { alice: 'alice-pw' } });
    work = new URL(await rad.mkcalendar('alice', 'work', { displayName: 'Work' })).pathname;
    home = new URL(await rad.mkcalendar('alice', 'home', { displayName: 'Home' })).pathname;
    const now = new Date();
    const y = now.getUTCFullYear();
    // A weekly series with a moved and a cancelled occurrence and an EXDATE, from January on.
    await rad.put('alice', `${work}weekly.ics`, ics('weekly', [
      ...vevent('weekly', [`DTSTART:${y}0105T090000Z`, `DTEND:${y}0105T100000Z`, 'RRULE:FREQ=WEEKLY', `EXDATE:${y}0112T090000Z`, 'SUMMARY:Weekly sync']),
      ...vevent('weekly', [`RECURRENCE-ID:${y}0119T090000Z`, `DTSTART:${y}0119T140000Z`, `DTEND:${y}0119T150000Z`, 'SUMMARY:Weekly sync (moved)']),
      ...vevent('weekly', [`RECURRENCE-ID:${y}0126T090000Z`, `DTSTART:${y}0126T090000Z`, `DTEND:${y}0126T100000Z`, 'STATUS:CANCELLED', 'SUMMARY:Weekly sync']),
    ]));
    await rad.put('alice', `${work}review.ics`, ics('review', vevent('review', [`DTSTART:${y}0310T130000Z`, `DTEND:${y}0310T140000Z`, `SUMMARY:${SECRET_TITLE}`, 'DESCRIPTION:Budget figures'])));
    await rad.put('alice', `${home}holiday.ics`, ics('holiday', vevent('holiday', [`DTSTART;VALUE=DATE:${y}0801`, `DTEND;VALUE=DATE:${y}0815`, 'SUMMARY:Holiday'])));
    // Long ago, outside the window: mirrored as a unit without events.
    await rad.put('alice', `${home}old.ics`, ics('old', vevent('old', ['DTSTART:20000101T090000Z', 'DTEND:20000101T100000Z', 'SUMMARY:Old'])));

    proxy = await startCountingProxy(rad.port);
    workId = new URL(work, proxy.url).toString();
    homeId = new URL(home, proxy.url).toString();
    server = await startServer({ dialect, sync: true });
    const client = await server.createClient();
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'sync-user' });
    const res = await connectCaldav(server.url, s, { server_url: proxy.url, username: 'alice', password: 'alice-pw' });
    assert.equal(res.status, 303, await res.text());
    await finishConnect(server.url, s, client);
    const account = await db().selectFrom('accounts').select('id').executeTakeFirstOrThrow();
    accountRowId = account.id;
    await syncNow();
  });

  after(async () => {
    await server?.close();
    await proxy?.close();
    await rad?.stop();
  });

  test('the first pass mirrors every calendar; the mirror answers exactly as a live read', async () => {
    const rows = await calendarRows();
    assert.equal(rows.length, 2);
    for (const row of rows) {
      const state = await server.runtime.services.calendarSync.get(row.id);
      assert.equal(state?.status, 'ready');
      assert.ok(state?.window);
    }
    const window = desiredWindow(Date.now(), server.runtime.config.sync);
    const y = new Date().getUTCFullYear();
    for (const calendar of [workId, homeId]) {
      await assertMirrorMatchesLive(calendar, new Date(window.start), new Date(window.end));
      await assertMirrorMatchesLive(calendar, new Date(Date.UTC(y, 0, 1)), new Date(Date.UTC(y, 1, 1)));
      await assertMirrorMatchesLive(calendar, new Date(Date.UTC(y, 2, 10, 13, 30)), new Date(Date.UTC(y, 2, 10, 13, 45)));
    }
    const january = await mirrored(workId, new Date(Date.UTC(y, 0, 1)), new Date(Date.UTC(y, 1, 1)));
    assert.deepEqual(
      january.map((e) => [e.start, e.title]),
      [
        [`${y}-01-05T09:00:00.000Z`, 'Weekly sync'],
        [`${y}-01-19T14:00:00.000Z`, 'Weekly sync (moved)'],
      ],
    );
  });

  test('a change made directly on the server reaches the mirror on the next pass', async () => {
    const y = new Date().getUTCFullYear();
    await rad.put('alice', `/alice/work/added.ics`, ics('added', vevent('added', [`DTSTART:${y}0311T080000Z`, `DTEND:${y}0311T083000Z`, 'SUMMARY:Added on the server'])));
    const review = await rad.get('alice', '/alice/work/review.ics');
    await rad.put('alice', '/alice/work/review.ics', review.body.replace(SECRET_TITLE, `${SECRET_TITLE} (moved)`).replace(`${y}0310T13`, `${y}0312T13`).replace(`${y}0310T14`, `${y}0312T14`));
    await rad.request('alice', 'DELETE', '/alice/home/holiday.ics');
    await syncNow();
    const march = await mirrored(workId, new Date(Date.UTC(y, 2, 1)), new Date(Date.UTC(y, 3, 1)));
    const titles = march.map((e) => e.title);
    assert.ok(titles.includes('Added on the server'));
    assert.ok(titles.includes(`${SECRET_TITLE} (moved)`));
    assert.equal(march.find((e) => e.title.startsWith(SECRET_TITLE))?.start, `${y}-03-12T13:00:00.000Z`);
    assert.deepEqual(await mirrored(homeId, new Date(Date.UTC(y, 7, 1)), new Date(Date.UTC(y, 8, 1))), []);
    const window = desiredWindow(Date.now(), server.runtime.config.sync);
    for (const calendar of [workId, homeId]) await assertMirrorMatchesLive(calendar, new Date(window.start), new Date(window.end));
  });

  test('an unchanged account costs one request per poll (the calendar listing)', async () => {
    await syncNow();
    proxy.reset();
    await syncNow();
    assert.deepEqual(proxy.requests.map((r) => r.method), ['PROPFIND'], JSON.stringify(proxy.requests));
  });

  test('a sync token the server no longer accepts makes a relisting, and nothing is lost or doubled', async () => {
    const rows = await calendarRows();
    await db().updateTable('calendar_sync').set({ cursor: JSON.stringify({ v: 1, mode: 'sync', token: 'http://radicale.org/ns/sync/0000000000000000000000000000000000000000' }), change_marker: 'stale' }).where('calendar_id', 'in', rows.map((r) => r.id)).execute();
    const y = new Date().getUTCFullYear();
    await rad.put('alice', `/alice/home/after-reset.ics`, ics('after-reset', vevent('after-reset', [`DTSTART:${y}0601T080000Z`, `DTEND:${y}0601T083000Z`, 'SUMMARY:After reset'])));
    await syncNow();
    const window = desiredWindow(Date.now(), server.runtime.config.sync);
    for (const calendar of [workId, homeId]) await assertMirrorMatchesLive(calendar, new Date(window.start), new Date(window.end));
  });

  test('a server without sync-collection is followed by ETag listings', async () => {
    const rows = await calendarRows();
    // Forget the sync mode: the next pass lists from scratch, and the proxy refuses sync-collection.
    await db().updateTable('calendar_sync').set({ cursor: null, change_marker: null }).where('calendar_id', 'in', rows.map((r) => r.id)).execute();
    proxy.refuse = (method, body) => (method === 'REPORT' && body.includes('sync-collection') ? 501 : undefined);
    try {
      const y = new Date().getUTCFullYear();
      await rad.put('alice', `/alice/work/etag-mode.ics`, ics('etag-mode', vevent('etag-mode', [`DTSTART:${y}0401T080000Z`, `DTEND:${y}0401T083000Z`, 'SUMMARY:Seen by ETag listing'])));
      await syncNow();
      await rad.request('alice', 'DELETE', '/alice/work/added.ics');
      await syncNow();
      const april = await mirrored(workId, new Date(Date.UTC(y, 3, 1)), new Date(Date.UTC(y, 4, 1)));
      assert.ok(april.some((e) => e.title === 'Seen by ETag listing'));
      const march = await mirrored(workId, new Date(Date.UTC(y, 2, 1)), new Date(Date.UTC(y, 3, 1)));
      assert.ok(!march.some((e) => e.title === 'Added on the server'), 'a member gone from the listing is swept');
      for (const calendar of [workId, homeId]) await assertMirrorMatchesLive(calendar, new Date(Date.UTC(y, 0, 1)), new Date(Date.UTC(y + 1, 0, 1)));
    } finally {
      proxy.refuse = undefined;
    }
  });

  test('superseded versions stay for walks in progress and are purged later, leaving the current mirror intact', async () => {
    const window = desiredWindow(Date.now(), server.runtime.config.sync);
    const superseded = () => db().selectFrom('mirror_events').select((eb) => eb.fn.countAll<number>().as('n')).where('deleted_seq', 'is not', null).executeTakeFirstOrThrow();
    assert.ok(Number((await superseded()).n) > 0, 'earlier tests changed events: their old versions are kept');
    await server.runtime.services.mirror.purgeSuperseded(Date.now() + 1);
    assert.equal(Number((await superseded()).n), 0);
    for (const calendar of [workId, homeId]) await assertMirrorMatchesLive(calendar, new Date(window.start), new Date(window.end));
  });

  test('event contents are encrypted at rest: the database never holds a title in clear', async () => {
    if (dialect === 'sqlite') {
      const dir = server.db.env.ALMANAC_DATA_DIR!;
      for (const file of readdirSync(dir).filter((f) => f.startsWith('almanac.sqlite'))) {
        const bytes = readFileSync(join(dir, file));
        assert.equal(bytes.includes(Buffer.from(SECRET_TITLE)), false, `${file} holds the title in clear`);
        assert.equal(bytes.includes(Buffer.from('Budget figures')), false, `${file} holds the description in clear`);
      }
    } else {
      for (const table of ['mirror_events', 'mirror_units', 'calendars', 'calendar_sync']) {
        const rows = await sql<{ row: string }>`select t::text as row from ${sql.table(table)} t`.execute(db());
        assert.ok(rows.rows.length > 0 || table !== 'mirror_events');
        for (const { row } of rows.rows) assert.equal(row.includes(SECRET_TITLE), false, `${table} holds the title in clear`);
      }
    }
  });
});
