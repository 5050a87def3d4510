/**
 * Google writes through the real server, against the emulator: conditional writes with
 * If-Match, calendars shared read-only, recurrence rules sent to one occurrence, one
 * token refresh for concurrent requests, and the exact wording of provider failures.
 * On SQLite and PostgreSQL: accounts, sealed credentials and refreshed tokens live there.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/google-emulator.js';
import { api, finishConnect, openConnect } from '../support/connect-flow.js';
import { dialects } from '../support/databases.js';
import { connectGoogle, googleEnv } from '../support/google-connect.js';
import { startServer, type TestServer } from '../support/server.js';

type Api = ReturnType<typeof api>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** A JSON call with extra headers (If-Match), as an application would send it. */
async function send(server: TestServer, token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const ONE_OCCURRENCE = 'One occurrence cannot take a recurrence rule; use updateMode "following" or "all" to change the series';
const refreshes = (emulator: GoogleEmulator): number => emulator.stats.tokenRequests.refresh_token ?? 0;

for (const { dialect, skip } of await dialects()) describe(`Google writes through the server on ${dialect}`, { skip }, () => {
  let emulator: GoogleEmulator;
  let server: TestServer;
  let client: { clientId: string; clientSecret: string };
  let a: Api;
  const email = 'ada@example.com';
  const shared = 'team@group.calendar.google.com';

  /** Connects `who` for a new application user; returns that user's API client. */
  async function connectUser(who: string, userId: string): Promise<Api> {
    emulator.setConsent({ action: 'grant-all' }, who);
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: userId });
    const cb = await connectGoogle(server, s);
    assert.equal(cb.status, 303, await cb.text());
    return api(server.url, (await finishConnect(server.url, s, client)).access_token);
  }

  before(async () => {
    emulator = await startGoogleEmulator();
    emulator.addUser(email, { timeZone: 'Europe/Paris' });
    emulator.addCalendar(email, { id: shared, summary: 'Team', accessRole: 'reader', timeZone: 'America/New_York' });
    server = await startServer({ dialect, env: googleEnv(emulator) });
    client = await server.createClient();
    a = await connectUser(email, 'ada');
  });
  after(async () => {
    await server?.close();
    await emulator?.close();
  });

  const create = async (fields: Record<string, unknown> = {}): Promise<Json> => {
    const res = await a.post('/api/event', { provider: 'google', calendarId: email, title: 'Plan', start: '2027-06-01T09:00:00Z', end: '2027-06-01T10:00:00Z', ...fields });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.event;
  };

  describe('If-Match', () => {
    test('a stale ETag on PUT and DELETE is 409, sent to Google as its own precondition, and nothing changes', async () => {
      const event = await create();
      const first = event.original.etag as string;
      const edited = await send(server, a.token, 'PUT', '/api/event', { provider: 'google', calendarId: email, eventId: event.id, title: 'Plan v2' }, { 'if-match': first });
      assert.equal(edited.status, 200, JSON.stringify(edited.body));
      const second = edited.body.event.original.etag as string;
      assert.notEqual(second, first);

      emulator.requests.length = 0;
      const stale = await send(server, a.token, 'PUT', '/api/event', { provider: 'google', calendarId: email, eventId: event.id, title: 'Overwritten' }, { 'if-match': first });
      assert.equal(stale.status, 409, JSON.stringify(stale.body));
      assert.equal(stale.body.error, 'conflict');
      assert.equal(stale.body.message, 'The event changed at Google since it was read (conditionNotMet); fetch the event again and retry');
      const patch = emulator.requests.find((r) => r.method === 'PATCH');
      assert.equal(patch?.ifMatch, first, 'the application’s ETag goes to Google in If-Match');
      assert.equal(patch?.status, 412);

      const query = new URLSearchParams({ provider: 'google', calendarId: email, eventId: event.id });
      const staleDelete = await send(server, a.token, 'DELETE', `/api/event?${query}`, undefined, { 'if-match': first });
      assert.equal(staleDelete.status, 409, JSON.stringify(staleDelete.body));
      assert.equal(staleDelete.body.message, 'The event changed at Google since it was read (conditionNotMet); fetch the event again and retry');
      const stored = emulator.store.storedEvent(email, event.id)!;
      assert.equal(stored.summary, 'Plan v2');
      assert.equal(stored.status, 'confirmed');

      const current = await send(server, a.token, 'DELETE', `/api/event?${query}`, undefined, { 'if-match': second });
      assert.equal(current.status, 200, JSON.stringify(current.body));
      assert.equal(emulator.store.storedEvent(email, event.id)!.status, 'cancelled');
    });

    test('without If-Match the adapter still makes its write conditional on the ETag it read', async () => {
      const event = await create({ title: 'Guarded' });
      emulator.requests.length = 0;
      const res = await a.put('/api/event', { provider: 'google', calendarId: email, eventId: event.id, location: 'Room 1' });
      assert.equal(res.status, 200);
      const patch = emulator.requests.find((r) => r.method === 'PATCH')!;
      assert.equal(patch.ifMatch, event.original.etag);
    });

    test('a stale ETag of an occurrence is 409 for a whole-series edit too, and the series is untouched', async () => {
      const series = await create({ title: 'Daily', recurrence: { frequency: 'DAILY', count: 5 }, start: '2027-07-01T09:00:00Z', end: '2027-07-01T09:30:00Z' });
      const listed = await a.events({ start: '2027-07-01T00:00:00Z', end: '2027-07-06T00:00:00Z', calendarIds: JSON.stringify({ google: [email] }) });
      const occurrence = listed.body.events[2];
      const seen = occurrence.original.etag as string;
      const moved = await a.put('/api/event', { provider: 'google', calendarId: email, eventId: occurrence.id, recurringEventId: series.id, updateMode: 'this', title: 'Daily (moved)' });
      assert.equal(moved.status, 200, JSON.stringify(moved.body));
      const res = await send(
        server,
        a.token,
        'PUT',
        '/api/event',
        { provider: 'google', calendarId: email, eventId: occurrence.id, recurringEventId: series.id, updateMode: 'all', title: 'Everyone' },
        { 'if-match': seen },
      );
      assert.equal(res.status, 409, JSON.stringify(res.body));
      assert.equal(emulator.store.storedEvent(email, series.id)!.summary, 'Daily');
    });
  });

  describe('recurrence on one occurrence', () => {
    test('updateMode=this with a recurrence on an occurrence is 400 and nothing is written, with or without recurringEventId', async () => {
      const series = await create({ title: 'Weekly sync', recurrence: { frequency: 'DAILY', count: 4 }, start: '2027-08-02T09:00:00Z', end: '2027-08-02T09:30:00Z' });
      const listed = await a.events({ start: '2027-08-02T00:00:00Z', end: '2027-08-06T00:00:00Z', calendarIds: JSON.stringify({ google: [email] }) });
      const occurrence = listed.body.events[1];
      const before = JSON.stringify(emulator.store.stored(email));
      emulator.requests.length = 0;

      const named = await a.put('/api/event', { provider: 'google', calendarId: email, eventId: occurrence.id, recurringEventId: series.id, updateMode: 'this', recurrence: { frequency: 'WEEKLY' } });
      assert.equal(named.status, 400, JSON.stringify(named.body));
      assert.equal(named.body.message, ONE_OCCURRENCE);
      assert.deepEqual(named.body.details, [{ field: 'recurrence', message: 'cannot be set on one occurrence (updateMode "this"); use "following" or "all" to change the series' }]);

      const unnamed = await a.put('/api/event', { provider: 'google', calendarId: email, eventId: occurrence.id, updateMode: 'this', recurrence: { frequency: 'WEEKLY' }, title: 'x' });
      assert.equal(unnamed.status, 400, JSON.stringify(unnamed.body));
      assert.equal(unnamed.body.message, ONE_OCCURRENCE);

      assert.deepEqual(emulator.requests.filter((r) => r.method !== 'GET'), [], 'no write reached Google');
      assert.equal(JSON.stringify(emulator.store.stored(email)), before);
    });

    test('updateMode=this with a recurrence on a single event makes it recurring', async () => {
      const single = await create({ title: 'Once', start: '2027-09-01T09:00:00Z', end: '2027-09-01T10:00:00Z' });
      const res = await a.put('/api/event', { provider: 'google', calendarId: email, eventId: single.id, updateMode: 'this', recurrence: { frequency: 'DAILY', count: 3 } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(emulator.store.storedEvent(email, single.id)!.recurrence, ['RRULE:FREQ=DAILY;COUNT=3']);
    });
  });

  describe('calendars shared read-only', () => {
    test('calendars say readOnly from Google’s access role', async () => {
      const res = await a.get('/api/calendars');
      assert.equal(res.status, 200);
      const byId = new Map(res.body.map((c: Json) => [c.id, c]));
      assert.equal((byId.get(email) as Json).readOnly, false);
      assert.equal((byId.get(shared) as Json).readOnly, true);
    });

    test('creating, changing or deleting on a reader calendar is 403 calendar_read_only, and nothing changes', async () => {
      const seeded = emulator.seedEvent(shared, { summary: 'Team offsite', start: { dateTime: '2027-06-02T12:00:00Z' }, end: { dateTime: '2027-06-02T13:00:00Z' } });
      const message = 'Google allows this account only to read this calendar (requiredAccessLevel)';
      const created = await a.post('/api/event', { provider: 'google', calendarId: shared, title: 'Mine', start: '2027-06-02T09:00:00Z', end: '2027-06-02T10:00:00Z' });
      assert.equal(created.status, 403, JSON.stringify(created.body));
      assert.deepEqual(created.body, { error: 'calendar_read_only', message });
      const updated = await a.put('/api/event', { provider: 'google', calendarId: shared, eventId: seeded.id, title: 'Renamed' });
      assert.equal(updated.status, 403);
      assert.deepEqual(updated.body, { error: 'calendar_read_only', message });
      const deleted = await a.del(`/api/event?${new URLSearchParams({ provider: 'google', calendarId: shared, eventId: seeded.id })}`);
      assert.equal(deleted.status, 403);
      assert.deepEqual(deleted.body, { error: 'calendar_read_only', message });
      assert.deepEqual(emulator.store.stored(shared).map((e) => [e.summary, e.status]), [['Team offsite', 'confirmed']]);
    });

    test('a change only the organizer may make (forbiddenForNonOrganizer) is 403 too, not a reconnect', async () => {
      const event = await create({ title: 'Invited' });
      emulator.injectFault({ status: 403, reason: 'forbiddenForNonOrganizer', message: 'Shared properties can only be changed by the organizer of the event.', method: 'PATCH' });
      const res = await a.put('/api/event', { provider: 'google', calendarId: email, eventId: event.id, title: 'Mine now' });
      emulator.clearFaults();
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.deepEqual(res.body, { error: 'calendar_read_only', message: 'Google lets only the organizer change this event (forbiddenForNonOrganizer)' });
    });
  });

  describe('one token refresh per account', () => {
    async function accountRow(userId: string): Promise<string> {
      const row = await server.runtime.storage.db
        .selectFrom('accounts')
        .innerJoin('end_users', 'end_users.id', 'accounts.user_id')
        .select('accounts.id')
        .where('end_users.external_id', '=', userId)
        .executeTakeFirstOrThrow();
      return row.id;
    }

    test('eight concurrent requests after the stored access token expired refresh once', async () => {
      const b = await connectUser('expiring@example.com', 'expiring');
      const id = await accountRow('expiring');
      const stored = await server.runtime.services.accounts.readCredentials<Record<string, unknown>>(id);
      await server.runtime.services.accounts.writeCredentials(id, { ...stored, expiresAt: Date.now() - 1000 });
      emulator.accounts.expireAccessTokensFor('expiring@example.com');
      const before = refreshes(emulator);
      const results = await Promise.all(Array.from({ length: 8 }, () => b.get('/api/calendars')));
      assert.deepEqual(results.map((r) => r.status), Array(8).fill(200));
      assert.equal(refreshes(emulator) - before, 1);
      const after = await server.runtime.services.accounts.readCredentials<Record<string, unknown>>(id);
      assert.notEqual(after.accessToken, stored.accessToken, 'the new token was stored');
      assert.deepEqual(after.grantedScopes, stored.grantedScopes, 'what else was stored is kept');
    });

    test('requests whose 401 arrives after another request already refreshed reuse its token', async () => {
      const b = await connectUser('rejected@example.com', 'rejected');
      // Google stops accepting the token before the expiry Almanac stored for it.
      emulator.accounts.expireAccessTokensFor('rejected@example.com');
      const before = refreshes(emulator);
      // Three requests reach Google and wait there; the fourth gets its 401 and refreshes first.
      const hold = emulator.holdRequests({ count: 3, path: '/calendarList' });
      const requests = Array.from({ length: 4 }, () => b.get('/api/calendars'));
      await hold.untilWaiting(3);
      const first = await Promise.race(requests);
      assert.equal(first.status, 200);
      assert.equal(refreshes(emulator) - before, 1);
      hold.release();
      const results = await Promise.all(requests);
      assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200]);
      assert.equal(refreshes(emulator) - before, 1, 'the late 401s reuse the token the first refresh stored');
    });
  });

  describe('failure messages', () => {
    test('a revoked Google grant reads as one clear sentence on GET and DELETE alike', async () => {
      const b = await connectUser('gone@example.com', 'gone');
      emulator.accounts.revokeAllFor('gone@example.com');
      const expected = { error: 'reauth_required', message: 'Google no longer accepts this account’s authorization (invalid_grant); the Google account needs to be reconnected' };
      const calendars = await b.get('/api/calendars');
      assert.equal(calendars.status, 502);
      assert.deepEqual(calendars.body, expected);
      const deleted = await b.del(`/api/event?${new URLSearchParams({ provider: 'google', calendarId: 'gone@example.com', eventId: 'abcdefgh12' })}`);
      assert.equal(deleted.status, 502);
      assert.deepEqual(deleted.body, expected);
    });
  });
});
