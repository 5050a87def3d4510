/**
 * Google push channels through the real server and the emulator: with an https public
 * URL every synced calendar gets an events.watch channel (token stored hashed); a change
 * at Google notifies the server, which syncs at once and serves the change from the
 * mirror without waiting for the poll; a notification with a wrong token or an unknown
 * channel is refused and changes nothing; channels are renewed before they expire and
 * stopped when their calendar goes and on disconnect; a notification received by an API-only instance is synced by the
 * worker of another instance.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../support/server.js';
import { firstSyncDone, syncNow as syncNowFor } from '../support/sync-now.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/databases.js';
import { api, finishConnect, openConnect } from '../support/connect-flow.js';
import { connectGoogle, googleEnv } from '../support/google-connect.js';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/google-emulator.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const PUBLIC_URL = 'https://almanac.example';
const email = 'hopper@example.com';

type Event = { id: string; title: string };

interface Setup {
  emulator: GoogleEmulator;
  server: TestServer;
  a: ReturnType<typeof api>;
  accountRowId: string;
  team: string;
}

const today = Math.floor(Date.now() / DAY) * DAY;
const range = { start: new Date(today - 7 * DAY).toISOString(), end: new Date(today + 30 * DAY).toISOString() };
const iso = (ms: number): string => new Date(ms).toISOString();

async function connect(emulator: GoogleEmulator, server: TestServer): Promise<{ a: ReturnType<typeof api>; accountRowId: string }> {
  const client = await server.createClient();
  emulator.setConsent({ action: 'grant-all' }, email);
  const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'push-user' });
  assert.equal((await connectGoogle(server, s)).status, 303);
  const a = api(server.url, (await finishConnect(server.url, s, client)).access_token);
  const accountRowId = (await server.runtime.storage.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
  return { a, accountRowId };
}

async function setUp(dialect: 'sqlite' | 'postgres', options: { maxTtlMs?: number; env?: Record<string, string> } = {}): Promise<Setup> {
  const emulator = await startGoogleEmulator();
  emulator.addUser(email, { timeZone: 'Europe/Berlin' });
  const team = emulator.addCalendar(email, { summary: 'Team' }).id;
  emulator.seedEvent(email, { summary: 'Existing', start: { dateTime: iso(today + DAY + 9 * HOUR) }, end: { dateTime: iso(today + DAY + 10 * HOUR) } });
  if (options.maxTtlMs) emulator.channels.knobs.maxTtlMs = options.maxTtlMs;
  const server = await startServer({ dialect, sync: true, env: { ...googleEnv(emulator), ALMANAC_PUBLIC_URL: PUBLIC_URL, ...options.env } });
  // Google calls the https address; here the server listens on plain http behind it.
  emulator.channels.knobs.deliverVia = server.url;
  const { a, accountRowId } = await connect(emulator, server);
  await firstSyncDone(server.runtime, accountRowId);
  await syncNowFor(server.runtime, accountRowId);
  return { emulator, server, a, accountRowId, team };
}

async function channelRows(server: TestServer) {
  return server.runtime.storage.db.selectFrom('push_channels').selectAll().orderBy('id').execute();
}

/** Waits until GET /api/events, read from the mirror, holds an event with this title. */
async function untilMirrored(a: ReturnType<typeof api>, title: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await a.events({ ...range, pageSize: '500' });
    const body = res.body as { events: Event[] };
    if (res.headers.get('almanac-source') === 'mirror' && body.events.some((e) => e.title === title)) return;
    assert.ok(Date.now() < deadline, `"${title}" reached the mirror in time (source ${res.headers.get('almanac-source')})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until every notification so far has been followed by a completed sync (none left pending). */
async function caughtUp(server: TestServer, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const behind = await server.runtime.storage.db
      .selectFrom('calendar_sync')
      .select('calendar_id')
      .whereRef('synced_generation', '<', 'write_generation')
      .execute();
    const running = await server.runtime.storage.db.selectFrom('sync_jobs').select('account_id').where('lease_owner', 'is not', null).execute();
    if (behind.length === 0 && running.length === 0) return;
    assert.ok(Date.now() < deadline, 'the notified sync completed in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

function notify(server: TestServer, headers: Record<string, string>): Promise<Response> {
  return fetch(`${server.url}/webhooks/google`, { method: 'POST', headers });
}

for (const { dialect, skip } of await dialects()) describe(`Google push channels on ${dialect}`, { skip }, () => {
  let s: Setup;

  before(async () => {
    s = await setUp(dialect);
  });

  after(async () => {
    await s?.server.close();
    await s?.emulator.close();
  });

  test('with an https public URL every calendar gets a channel; the token is stored only hashed; polling slows down', async () => {
    const active = s.emulator.channels.active();
    assert.deepEqual(active.map((c) => c.calendarId).sort(), [email, s.team].sort());
    for (const c of active) assert.equal(c.address, `${PUBLIC_URL}/webhooks/google`);
    const rows = await channelRows(s.server);
    assert.deepEqual(rows.map((r) => r.id).sort(), active.map((c) => c.id).sort());
    for (const row of rows) {
      const channel = active.find((c) => c.id === row.id)!;
      assert.ok(channel.token && channel.token.length >= 32, 'a long random token');
      assert.ok(!JSON.stringify(row).includes(channel.token), 'the token is not stored in clear');
      assert.equal(row.resource_id, channel.resourceId);
      assert.equal(Number(row.expires_at), channel.expiration);
    }
    await s.emulator.channels.settled();
    const syncs = s.emulator.channels.deliveries.filter((d) => d.state === 'sync');
    assert.equal(syncs.length, 2);
    assert.ok(syncs.every((d) => d.status === 200), JSON.stringify(syncs));
    const job = await s.server.runtime.storage.db.selectFrom('sync_jobs').selectAll().where('account_id', '=', s.accountRowId).executeTakeFirstOrThrow();
    const pushedPollMs = s.server.runtime.config.sync.pushedPollMs;
    assert.ok(Number(job.next_run_at) - Date.now() > 0.8 * pushedPollMs, 'the next poll waits for the slower pushed interval');
  });

  test('a second sync keeps channels far from expiry', async () => {
    const before = (await channelRows(s.server)).map((r) => r.id);
    await syncNowFor(s.server.runtime, s.accountRowId);
    assert.deepEqual((await channelRows(s.server)).map((r) => r.id), before);
    assert.equal(s.emulator.channels.active().length, 2);
  });

  test('a change at Google is notified; the server syncs at once and the mirror has it without waiting for the poll', async () => {
    const job = await s.server.runtime.storage.db.selectFrom('sync_jobs').selectAll().where('account_id', '=', s.accountRowId).executeTakeFirstOrThrow();
    assert.ok(Number(job.next_run_at) > Date.now() + 60_000, 'no poll is due soon');
    const from = s.emulator.channels.deliveries.length;
    s.emulator.seedEvent(s.team, { summary: 'Pushed change', start: { dateTime: iso(today + 2 * DAY + 9 * HOUR) }, end: { dateTime: iso(today + 2 * DAY + 10 * HOUR) } });
    await untilMirrored(s.a, 'Pushed change');
    await s.emulator.channels.settled();
    const sent = s.emulator.channels.deliveries.slice(from);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.state, 'exists');
    assert.equal(sent[0]!.status, 200);
    const team = await s.server.runtime.storage.db.selectFrom('calendars').select('id').where('provider_calendar_id', '=', s.team).executeTakeFirstOrThrow();
    const state = await s.server.runtime.services.calendarSync.get(team.id);
    assert.ok(state?.pushedAt, 'the calendar is marked pushed');
    assert.ok(state.pushUntil && state.pushUntil > Date.now());
  });

  test('between the slower polls a pushed account is still read from the mirror, calendar list included', async () => {
    const db = s.server.runtime.storage.db;
    const fiveMinutesAgo = Date.now() - 5 * 60_000;
    await db.updateTable('sync_jobs').set({ calendars_listed_at: fiveMinutesAgo }).execute();
    await db.updateTable('calendar_sync').set({ last_success_at: fiveMinutesAgo }).execute();
    const from = s.emulator.requests.length;
    const res = await s.a.events({ ...range, pageSize: '500' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('almanac-source'), 'mirror');
    const calendars = await s.a.get('/api/calendars');
    assert.equal(calendars.status, 200);
    assert.deepEqual(s.emulator.requests.slice(from), [], 'no request to Google');
  });

  test('a notification with a wrong token, for an unknown channel, or without headers is refused and changes nothing', async () => {
    const [row] = await channelRows(s.server);
    const channel = s.emulator.channels.active().find((c) => c.id === row!.id)!;
    const db = s.server.runtime.storage.db;
    const snapshot = async () => ({
      sync: await db.selectFrom('calendar_sync').select(['calendar_id', 'pushed_at', 'write_generation']).orderBy('calendar_id').execute(),
      job: await db.selectFrom('sync_jobs').select(['next_run_at', 'rerun']).execute(),
    });
    const before = await snapshot();
    const headers = (over: Record<string, string>) => ({
      'x-goog-channel-id': channel.id,
      'x-goog-channel-token': channel.token!,
      'x-goog-resource-id': channel.resourceId,
      'x-goog-resource-state': 'exists',
      'x-goog-message-number': '99',
      ...over,
    });
    for (const bad of [
      headers({ 'x-goog-channel-token': 'not-the-token' }),
      headers({ 'x-goog-channel-token': `${channel.token!.slice(0, -1)}x` }),
      headers({ 'x-goog-channel-id': 'no-such-channel' }),
      headers({ 'x-goog-resource-id': 'another-resource' }),
      { ...headers({}), 'x-goog-channel-token': '' },
    ]) {
      const res = await notify(s.server, bad);
      assert.equal(res.status, 401, JSON.stringify(bad));
      assert.equal(((await res.json()) as { error: string }).error, 'notification_rejected');
    }
    // A channel past its expiry is no longer accepted, even with its token.
    const expiresAt = (await db.selectFrom('push_channels').select('expires_at').where('id', '=', channel.id).executeTakeFirstOrThrow()).expires_at;
    await db.updateTable('push_channels').set({ expires_at: Date.now() - 1000 }).where('id', '=', channel.id).execute();
    try {
      assert.equal((await notify(s.server, headers({}))).status, 401, 'expired channel');
    } finally {
      await db.updateTable('push_channels').set({ expires_at: expiresAt }).where('id', '=', channel.id).execute();
    }
    const missing = await notify(s.server, { 'x-goog-channel-token': channel.token! });
    assert.equal(missing.status, 400);
    assert.deepEqual(await snapshot(), before, 'nothing was marked or scheduled');
    assert.ok(!s.server.logs.join('').includes(channel.token!), 'the token is never logged');
    // The genuine article is accepted.
    assert.equal((await notify(s.server, headers({}))).status, 200);
    assert.notDeepEqual(await snapshot(), before);
    await caughtUp(s.server);
  });

  test('a calendar gone from the account has its channel stopped at Google and forgotten', async () => {
    const user = s.emulator.addUser(email);
    const at = user.calendarList.findIndex((e) => e.calendarId === s.team);
    const [entry] = user.calendarList.splice(at, 1);
    try {
      await syncNowFor(s.server.runtime, s.accountRowId);
      assert.deepEqual(s.emulator.channels.active().map((c) => c.calendarId), [email]);
      assert.deepEqual((await channelRows(s.server)).map((r) => r.id), s.emulator.channels.active().map((c) => c.id));
    } finally {
      user.calendarList.push(entry!);
    }
    await syncNowFor(s.server.runtime, s.accountRowId);
    assert.equal(s.emulator.channels.active().length, 2, 'back in the list, it is watched again');
  });

  test('a calendar Google cannot watch is asked once, not again on every run; the others keep their channels', async () => {
    const holidays = s.emulator.addCalendar(email, { summary: 'Holidays' }).id;
    s.emulator.channels.knobs.unwatchable.add(holidays);
    const watches = () => s.emulator.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/events/watch') && decodeURIComponent(r.path).includes(`/calendars/${holidays}/`));
    try {
      await syncNowFor(s.server.runtime, s.accountRowId);
      assert.equal(watches().length, 1, 'asked once');
      assert.equal(watches()[0]!.status, 400);
      await syncNowFor(s.server.runtime, s.accountRowId);
      await syncNowFor(s.server.runtime, s.accountRowId);
      assert.equal(watches().length, 1, 'a lasting refusal is not asked again on the next runs');
      assert.deepEqual(s.emulator.channels.active().map((c) => c.calendarId).sort(), [email, s.team].sort());
      const synced = await s.server.runtime.storage.db.selectFrom('calendars').select('payload').execute();
      assert.equal(synced.length, 3, 'the unwatchable calendar is still synced, by polling');
    } finally {
      s.emulator.channels.knobs.unwatchable.delete(holidays);
      const user = s.emulator.addUser(email);
      user.calendarList.splice(user.calendarList.findIndex((e) => e.calendarId === holidays), 1);
    }
    await syncNowFor(s.server.runtime, s.accountRowId);
    assert.equal(s.emulator.channels.active().length, 2);
  });

  test('a notification for an account waiting for its user to reconnect is acknowledged but syncs nothing sooner', async () => {
    const db = s.server.runtime.storage.db;
    await db.updateTable('accounts').set({ sync_state: 'reauth_required' }).where('id', '=', s.accountRowId).execute();
    try {
      const before = await db.selectFrom('sync_jobs').select(['next_run_at', 'claimed_at']).where('account_id', '=', s.accountRowId).executeTakeFirstOrThrow();
      assert.ok(Number(before.next_run_at) > Date.now() + 60_000, 'the job waits');
      const from = s.emulator.channels.deliveries.length;
      s.emulator.seedEvent(s.team, { summary: 'While revoked', start: { dateTime: iso(today + 3 * DAY + 9 * HOUR) }, end: { dateTime: iso(today + 3 * DAY + 10 * HOUR) } });
      await s.emulator.channels.settled();
      const sent = s.emulator.channels.deliveries.slice(from);
      assert.deepEqual(sent.map((d) => d.status), [200], 'acknowledged, so Google does not retry');
      await new Promise((r) => setTimeout(r, 300));
      const after = await db.selectFrom('sync_jobs').select(['next_run_at', 'claimed_at']).where('account_id', '=', s.accountRowId).executeTakeFirstOrThrow();
      assert.equal(Number(after.next_run_at), Number(before.next_run_at), 'the job keeps its schedule');
      assert.equal(after.claimed_at, before.claimed_at, 'no sync ran');
    } finally {
      await db.updateTable('accounts').set({ sync_state: 'ok' }).where('id', '=', s.accountRowId).execute();
    }
    await syncNowFor(s.server.runtime, s.accountRowId);
    await untilMirrored(s.a, 'While revoked');
  });

  test('disconnecting the account stops its channels at Google and forgets them', async () => {
    const ids = (await channelRows(s.server)).map((r) => r.id);
    assert.equal(ids.length, 2);
    const res = await s.a.post('/api/oauth/disconnect', { provider: 'google' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(s.emulator.channels.active().length, 0, 'no channel is left open at Google');
    assert.ok(s.emulator.requests.some((r) => r.path === '/calendar/v3/channels/stop' && r.status === 204));
    assert.deepEqual(await channelRows(s.server), []);
  });
});

for (const { dialect, skip } of await dialects()) describe(`Google push channel renewal on ${dialect}`, { skip }, () => {
  let s: Setup;

  before(async () => {
    // Google grants 20 minutes: less than the server's renewal margin, so every run renews.
    s = await setUp(dialect, { maxTtlMs: 20 * 60_000 });
  });

  after(async () => {
    await s?.server.close();
    await s?.emulator.close();
  });

  test('a channel close to expiry is replaced: the successor is opened first, then the old one stopped', async () => {
    const old = (await channelRows(s.server)).map((r) => r.id);
    assert.equal(old.length, 2);
    const pushedPollMs = s.server.runtime.config.sync.pushedPollMs;
    const job = await s.server.runtime.storage.db.selectFrom('sync_jobs').selectAll().where('account_id', '=', s.accountRowId).executeTakeFirstOrThrow();
    assert.ok(Number(job.next_run_at) - Date.now() > 0.8 * pushedPollMs, 'a channel still open counts as pushed');
    const watchesBefore = s.emulator.requests.filter((r) => r.path.endsWith('/events/watch')).length;
    const from = s.emulator.requests.length;
    await syncNowFor(s.server.runtime, s.accountRowId);
    const renewed = (await channelRows(s.server)).map((r) => r.id);
    assert.equal(renewed.length, 2);
    assert.deepEqual(renewed.filter((id) => old.includes(id)), [], 'both channels were replaced');
    const active = s.emulator.channels.active().map((c) => c.id).sort();
    assert.deepEqual(active, [...renewed].sort(), 'the old channels were stopped at Google');
    const watches = s.emulator.requests.filter((r) => r.path.endsWith('/events/watch')).length;
    assert.equal(watches - watchesBefore, 2, 'one new channel per calendar');
    const order = s.emulator.requests
      .slice(from)
      .filter((r) => r.path.endsWith('/events/watch') || r.path.endsWith('/channels/stop'))
      .map((r) => (r.path.endsWith('/watch') ? 'watch' : 'stop'));
    assert.deepEqual(order, ['watch', 'stop', 'watch', 'stop'], 'each successor is open before its predecessor stops');
    // The successor works: a change is notified and reaches the mirror.
    s.emulator.seedEvent(email, { summary: 'After renewal', start: { dateTime: iso(today + 3 * DAY + 9 * HOUR) }, end: { dateTime: iso(today + 3 * DAY + 10 * HOUR) } });
    await untilMirrored(s.a, 'After renewal');
  });
});

describe('Google push without an https public URL, or switched off', () => {
  for (const [name, env] of [
    ['http public URL', { ALMANAC_PUBLIC_URL: 'http://almanac.example' }],
    ['ALMANAC_PUSH=off', { ALMANAC_PUSH: 'off' }],
  ] as const) {
    test(`${name}: no channel is opened and the account is polled at the normal interval`, async () => {
      const s = await setUp('sqlite', { env });
      try {
        assert.equal(s.emulator.channels.channels.size, 0);
        assert.deepEqual(await channelRows(s.server), []);
        const job = await s.server.runtime.storage.db.selectFrom('sync_jobs').selectAll().where('account_id', '=', s.accountRowId).executeTakeFirstOrThrow();
        assert.ok(Number(job.next_run_at) - Date.now() <= 1.1 * s.server.runtime.config.sync.pollMs.google);
        // Without push the same five-minute-old data is too old: read live.
        const db = s.server.runtime.storage.db;
        await db.updateTable('sync_jobs').set({ calendars_listed_at: Date.now() - 5 * 60_000 }).execute();
        await db.updateTable('calendar_sync').set({ last_success_at: Date.now() - 5 * 60_000 }).execute();
        assert.equal((await s.a.events({ ...range, pageSize: '500' })).headers.get('almanac-source'), 'live');
      } finally {
        await s.server.close();
        await s.emulator.close();
      }
    });
  }
});

const postgresSkip = (await dialects()).find((d) => d.dialect === 'postgres')!.skip;

describe('a notification reaching an API-only instance (PostgreSQL)', { skip: postgresSkip }, () => {
  let db: TestDatabase;
  let emulator: GoogleEmulator;
  let apiServer: TestServer;
  let worker: TestServer;

  before(async () => {
    db = await createTestDatabase('postgres');
    emulator = await startGoogleEmulator();
    emulator.addUser(email);
    const env = { ...googleEnv(emulator), ALMANAC_PUBLIC_URL: PUBLIC_URL };
    apiServer = await startServer({ db, sync: true, env: { ...env, ALMANAC_ROLE: 'api' } });
    worker = await startServer({ db, sync: true, env: { ...env, ALMANAC_ROLE: 'worker' } });
    // Google's notifications land on the API instance; the worker syncs.
    emulator.channels.knobs.deliverVia = apiServer.url;
  });

  after(async () => {
    await apiServer?.close();
    await worker?.close();
    await emulator?.close();
    await db?.drop();
  });

  test('is synced by the worker of another instance', async () => {
    const { a, accountRowId } = await connect(emulator, apiServer);
    await firstSyncDone(worker.runtime, accountRowId);
    await syncNowFor(worker.runtime, accountRowId);
    assert.equal(emulator.channels.active().length, 1);
    emulator.seedEvent(email, { summary: 'Seen by the worker', start: { dateTime: iso(today + 4 * DAY + 9 * HOUR) }, end: { dateTime: iso(today + 4 * DAY + 10 * HOUR) } });
    await untilMirrored(a, 'Seen by the worker');
  });
});
