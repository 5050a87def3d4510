/**
 * The sync engine with Google (the emulator): the mirror answers GET /api/events exactly
 * as a live read does, with no request to Google; changes made directly at Google arrive
 * with the next pass, read from the sync token; an expired token (410) makes a relisting
 * with nothing lost or doubled; an unchanged calendar costs one events.list per poll.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../support/server.js';
import { firstSyncDone, syncNow as syncNowFor } from '../support/sync-now.js';
import { dialects } from '../support/databases.js';
import { api, finishConnect, openConnect } from '../support/connect-flow.js';
import { connectGoogle, googleEnv } from '../support/google-connect.js';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/google-emulator.js';
import { basicUtcStamp } from '../emulators/google/emulator-time.js';

type Event = { id: string; start: string; title: string; calendarId: string; recurringEventId?: string };
type Api = ReturnType<typeof api> & { url: string };

const DAY = 86_400_000;
const HOUR = 3_600_000;

async function walk(a: Api, params: Record<string, string>, headers: Record<string, string> = {}): Promise<{ events: Event[]; sources: string[] }> {
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
    assert.ok(++pages < 100, 'paging terminates');
  } while (token);
  return { events, sources };
}

const byStartThenId = (a: Event, b: Event): number => Date.parse(a.start) - Date.parse(b.start) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const iso = (ms: number): string => new Date(ms).toISOString();

for (const { dialect, skip } of await dialects()) describe(`sync engine with Google on ${dialect}`, { skip }, () => {
  const email = 'grace@example.com';
  let emulator: GoogleEmulator;
  let server: TestServer;
  let a: Api;
  let accountRowId: string;
  let team: string;
  let seriesId: string;
  let singleId: string;
  // Mondays at 09:00 UTC from four weeks ago, so the series straddles today.
  const today = Math.floor(Date.now() / DAY) * DAY;
  const first = today - 28 * DAY + 9 * HOUR;
  const range = { start: iso(today - 35 * DAY), end: iso(today + 35 * DAY) };

  const syncNow = () => syncNowFor(server.runtime, accountRowId);
  const apiRequests = () => emulator.requests.filter((r) => r.path.startsWith('/calendar/v3/'));

  async function assertMirrorEqualsLive(): Promise<Event[]> {
    for (const singleEvents of ['true', 'false']) {
      const before = emulator.requests.length;
      const mirror = await walk(a, { ...range, singleEvents, pageSize: '1000' });
      assert.deepEqual([...new Set(mirror.sources)], ['mirror'], `singleEvents=${singleEvents} is read from the mirror`);
      assert.equal(emulator.requests.length, before, 'the mirror answers without asking Google');
      const live = await walk(a, { ...range, singleEvents, pageSize: '1000' }, { 'cache-control': 'no-cache' });
      assert.deepEqual([...new Set(live.sources)], ['live']);
      assert.deepEqual([...mirror.events].sort(byStartThenId), [...live.events].sort(byStartThenId), `singleEvents=${singleEvents}`);
    }
    return (await walk(a, { ...range, pageSize: '1000' })).events;
  }

  before(async () => {
    emulator = await startGoogleEmulator();
    emulator.addUser(email, { timeZone: 'Europe/Berlin' });
    team = emulator.addCalendar(email, { summary: 'Team', timeZone: 'America/New_York' }).id;
    const series = emulator.seedEvent(email, {
      summary: 'Weekly',
      start: { dateTime: iso(first), timeZone: 'UTC' },
      end: { dateTime: iso(first + HOUR), timeZone: 'UTC' },
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=10'],
    });
    seriesId = series.id;
    // The second occurrence moved by two hours, the third cancelled.
    emulator.seedEvent(email, {
      id: `${seriesId}_${basicUtcStamp(first + 7 * DAY)}`,
      recurringEventId: seriesId,
      originalStartTime: { dateTime: iso(first + 7 * DAY), timeZone: 'UTC' },
      summary: 'Weekly (moved)',
      start: { dateTime: iso(first + 7 * DAY + 2 * HOUR), timeZone: 'UTC' },
      end: { dateTime: iso(first + 7 * DAY + 3 * HOUR), timeZone: 'UTC' },
    });
    emulator.seedEvent(email, {
      id: `${seriesId}_${basicUtcStamp(first + 14 * DAY)}`,
      recurringEventId: seriesId,
      originalStartTime: { dateTime: iso(first + 14 * DAY), timeZone: 'UTC' },
      status: 'cancelled',
    });
    singleId = emulator.seedEvent(email, { summary: 'Review', start: { dateTime: iso(today + 2 * DAY + 13 * HOUR) }, end: { dateTime: iso(today + 2 * DAY + 14 * HOUR) } }).id;
    const day = new Date(today + 3 * DAY).toISOString().slice(0, 10);
    const next = new Date(today + 4 * DAY).toISOString().slice(0, 10);
    emulator.seedEvent(team, { summary: 'Offsite', start: { date: day }, end: { date: next } });
    // Long ago: outside the mirrored window.
    emulator.seedEvent(team, { summary: 'Ancient', start: { dateTime: '2001-01-01T10:00:00Z' }, end: { dateTime: '2001-01-01T11:00:00Z' } });

    server = await startServer({ dialect, sync: true, env: googleEnv(emulator) });
    const client = await server.createClient();
    emulator.setConsent({ action: 'grant-all' }, email);
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'google-sync' });
    assert.equal((await connectGoogle(server, s)).status, 303);
    a = Object.assign(api(server.url, (await finishConnect(server.url, s, client)).access_token), { url: server.url });
    accountRowId = (await server.runtime.storage.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
    await firstSyncDone(server.runtime, accountRowId);
    await syncNow();
  });

  after(async () => {
    await server?.close();
    await emulator?.close();
  });

  test('Google calendars are mirrored; the mirror answers as a live read does, without a request to Google', async () => {
    const events = await assertMirrorEqualsLive();
    assert.deepEqual(
      events.filter((e) => e.recurringEventId === seriesId).slice(0, 4).map((e) => [e.start, e.title]),
      [
        [iso(first), 'Weekly'],
        [iso(first + 7 * DAY + 2 * HOUR), 'Weekly (moved)'],
        [iso(first + 21 * DAY), 'Weekly'],
        [iso(first + 28 * DAY), 'Weekly'],
      ],
    );
    assert.ok(events.some((e) => e.title === 'Offsite' && e.calendarId === team));
    assert.ok(events.some((e) => e.id === singleId));
  });

  test('changes made directly at Google reach the mirror with the next pass, read from the sync token', async () => {
    emulator.store.patch(email, seriesId, { summary: 'Weekly (renamed)' }, { conferenceDataVersion: 0, actorEmail: email });
    emulator.store.delete(email, singleId, undefined);
    emulator.store.delete(email, `${seriesId}_${basicUtcStamp(first + 21 * DAY)}`, undefined);
    emulator.seedEvent(team, { summary: 'Added at Google', start: { dateTime: iso(today + 5 * DAY + 8 * HOUR) }, end: { dateTime: iso(today + 5 * DAY + 9 * HOUR) } });
    const from = emulator.requests.length;
    await syncNow();
    const lists = emulator.requests.slice(from).filter((r) => /\/events$/.test(r.path));
    assert.ok(lists.length >= 2 && lists.every((r) => r.query.syncToken), `incremental listings only: ${JSON.stringify(lists)}`);
    const events = await assertMirrorEqualsLive();
    const titles = events.map((e) => e.title);
    assert.ok(titles.includes('Weekly (renamed)'));
    assert.ok(titles.includes('Added at Google'));
    assert.ok(!events.some((e) => e.id === singleId), 'the deleted event is gone');
    assert.ok(!events.some((e) => e.start === iso(first + 21 * DAY)), 'the cancelled occurrence is gone');
    assert.ok(events.some((e) => e.start === iso(first + 28 * DAY) && e.title === 'Weekly (renamed)'), 'the rest of the series stays');
  });

  test('an unchanged account costs the calendar listing and one events.list per calendar', async () => {
    await syncNow();
    const from = emulator.requests.length;
    await syncNow();
    const made = emulator.requests.slice(from).filter((r) => r.path.startsWith('/calendar/v3/'));
    assert.deepEqual(
      made.map((r) => decodeURIComponent(r.path)).sort(),
      [`/calendar/v3/calendars/${email}/events`, `/calendar/v3/calendars/${team}/events`, '/calendar/v3/users/me/calendarList'].sort(),
    );
  });

  test('a sync token Google no longer accepts (410) makes a relisting; nothing is lost or doubled', async () => {
    emulator.store.expireSyncTokens();
    emulator.seedEvent(email, { summary: 'After expiry', start: { dateTime: iso(today + 6 * DAY + 8 * HOUR) }, end: { dateTime: iso(today + 6 * DAY + 9 * HOUR) } });
    const from = emulator.requests.length;
    await syncNow();
    const made = emulator.requests.slice(from).filter((r) => /\/events$/.test(r.path));
    assert.ok(made.some((r) => r.status === 410), 'the old token was refused');
    assert.ok(made.some((r) => r.status === 200 && !r.query.syncToken), 'the calendar was listed again from scratch');
    const events = await assertMirrorEqualsLive();
    assert.equal(events.filter((e) => e.title === 'After expiry').length, 1);
    const ids = events.map((e) => `${e.calendarId}|${e.id}`);
    assert.equal(new Set(ids).size, ids.length, 'no event twice');
    assert.ok(apiRequests().length > 0);
  });
});

describe('Google requests and the configured provider timeout', () => {
  let emulator: GoogleEmulator;
  let server: TestServer;

  before(async () => {
    emulator = await startGoogleEmulator();
    emulator.addUser('slow@example.com');
    server = await startServer({ env: { ...googleEnv(emulator), ALMANAC_PROVIDER_TIMEOUT_MS: '1000' } });
  });

  after(async () => {
    await server?.close();
    await emulator?.close();
  });

  test('a Google request that hangs is abandoned after ALMANAC_PROVIDER_TIMEOUT_MS', async () => {
    const client = await server.createClient();
    emulator.setConsent({ action: 'grant-all' }, 'slow@example.com');
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'slow' });
    assert.equal((await connectGoogle(server, s)).status, 303);
    const a = api(server.url, (await finishConnect(server.url, s, client)).access_token);
    const hold = emulator.holdRequests({ count: 1000 });
    try {
      const started = Date.now();
      const res = await fetch(`${server.url}/api/events?${new URLSearchParams({ start: iso(Date.now()), end: iso(Date.now() + DAY) })}`, {
        headers: { authorization: `Bearer ${a.token}`, 'cache-control': 'no-cache' },
      });
      const elapsed = Date.now() - started;
      assert.ok(res.status >= 500, `an error answer (${res.status})`);
      assert.ok(elapsed < 6_000, `answered after ${elapsed} ms, not held until Google answers`);
      assert.ok(hold.waiting() >= 1, 'the request did reach Google and hang there');
    } finally {
      hold.release();
    }
  });
});
