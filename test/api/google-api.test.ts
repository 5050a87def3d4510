/**
 * Issue 5 end to end: with the emulator standing in for Google, a user connects a Google
 * account and a CalDAV account on the connect pages, and the application sees one merged
 * calendar and writes through to Google — all through the real server.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/google-emulator.js';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServer, type TestServer } from '../support/server.js';
import { api, connectCaldav, finishConnect, openConnect } from '../support/connect-flow.js';
import { connectGoogle, googleEnv } from '../support/google-connect.js';

type Api = ReturnType<typeof api>;

describe('Google through the server', { skip: RADICALE_SKIP }, () => {
  let emulator: GoogleEmulator;
  let rad: RadicaleServer;
  let server: TestServer;
  let client: { clientId: string; clientSecret: string };
  let a: Api;
  let caldavCal: string;
  const email = 'ada@example.com';

  before(async () => {
    emulator = await startGoogleEmulator();
    rad = await startRadicale({ users: { ada: 'pw' } });
    caldavCal = await rad.mkcalendar('ada', 'personal', { displayName: 'Personal' });
    emulator.addUser(email, { timeZone: 'Europe/Paris' });
    emulator.addCalendar(email, { id: 'team@group.calendar.google.com', summary: 'Team', accessRole: 'reader', timeZone: 'America/New_York' });
    emulator.seedEvent(email, { summary: 'G morning', start: { dateTime: '2027-05-10T08:00:00Z' }, end: { dateTime: '2027-05-10T09:00:00Z' } });
    emulator.seedEvent('team@group.calendar.google.com', { summary: 'G team', start: { dateTime: '2027-05-10T12:00:00Z' }, end: { dateTime: '2027-05-10T13:00:00Z' } });
    server = await startServer({ env: googleEnv(emulator) });
    client = await server.createClient();
    emulator.setConsent({ action: 'grant-all' }, email);
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'mixed' });
    const hub = await (await fetch(`${server.url}/connect`, { headers: { cookie: s.cookie } })).text();
    assert.match(hub, /href="\/connect\/google"/, 'Google is offered once configured');
    const cb = await connectGoogle(server, s);
    assert.equal(cb.status, 303, await cb.text());
    assert.match(cb.headers.get('location')!, /notice=connected/);
    assert.equal((await connectCaldav(server.url, s, { server_url: rad.url, username: 'ada', password: 'pw' })).status, 303);
    a = api(server.url, (await finishConnect(server.url, s, client)).access_token);
    const caldav = await a.post('/api/event', { provider: 'caldav', calendarId: caldavCal, title: 'C mid', start: '2027-05-10T10:00:00Z', end: '2027-05-10T11:00:00Z' });
    assert.equal(caldav.status, 200, JSON.stringify(caldav.body));
  });
  after(async () => {
    await server?.close();
    await rad?.stop();
    await emulator?.close();
  });

  test('connection-status: the Google account with its granted scopes, tokens stored encrypted', async () => {
    const res = await a.get('/api/oauth/connection-status');
    const g = res.body.connections.google;
    assert.equal(g.length, 1);
    assert.equal(g[0].id, email);
    assert.equal(g[0].calendarPermissionGranted, true);
    assert.ok(g[0].grantedScopes.some((s: string) => s.includes('calendar')));
    const rows = await server.runtime.storage.db.selectFrom('accounts').select(['credentials', 'provider']).execute();
    for (const r of rows) assert.match(r.credentials, /^v1\./);
  });

  test('one merged calendar list and one merged, ordered event list', async () => {
    const cals = await a.get('/api/calendars');
    assert.equal(cals.status, 200);
    const titles = cals.body.map((c: { provider: string; title: string }) => `${c.provider}:${c.title}`).sort();
    assert.deepEqual(titles, ['caldav:Personal', `google:${email}`, 'google:Team'].sort());
    const team = cals.body.find((c: { title: string }) => c.title === 'Team');
    assert.equal(team.original.accessRole, 'reader');
    assert.equal(team.timeZone, 'America/New_York');
    const ev = await a.events({ start: '2027-05-10T00:00:00Z', end: '2027-05-11T00:00:00Z' });
    assert.equal(ev.status, 200);
    assert.deepEqual(ev.body.events.map((e: { provider: string; title: string }) => `${e.provider}:${e.title}`), ['google:G morning', 'caldav:C mid', 'google:G team']);
    const small = await a.events({ start: '2027-05-10T00:00:00Z', end: '2027-05-11T00:00:00Z', pageSize: '1' });
    assert.equal(small.body.events.length, 1);
    assert.ok(small.body.nextPageToken);
  });

  test('create, update and delete on Google through the API, checked in Google’s store', async () => {
    const created = await a.post('/api/event', {
      provider: 'google', calendarId: email, title: 'Review', start: '2027-05-11T14:00:00Z', end: '2027-05-11T15:00:00Z',
      custom: { ticket: 'A-1' }, attendees: ['bob@example.com'], conferenceData: { provider: 'google-meet', autoGenerate: true },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.event.title, 'Review');
    assert.ok(created.body.conference, 'a Meet link was generated');
    let stored = emulator.store.storedEvent(email, created.body.id)!;
    assert.equal(stored.summary, 'Review');
    assert.deepEqual(stored.attendees?.map((x) => x.email), ['bob@example.com']);
    assert.equal(JSON.parse(String(stored.extendedProperties?.private?.ticket)), 'A-1');

    const updated = await a.put('/api/event', { provider: 'google', calendarId: email, eventId: created.body.id, location: 'Room 7' });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    stored = emulator.store.storedEvent(email, created.body.id)!;
    assert.equal(stored.location, 'Room 7');
    assert.equal(stored.summary, 'Review', 'patch semantics: untouched fields kept');

    const del = await a.del(`/api/event?${new URLSearchParams({ provider: 'google', calendarId: email, eventId: created.body.id })}`);
    assert.equal(del.status, 200);
    const after = emulator.store.storedEvent(email, created.body.id);
    assert.ok(!after || after.status === 'cancelled');
  });

  test('a reader calendar refuses writes with a clear answer; unknown Google calendar is 404', async () => {
    const res = await a.post('/api/event', { provider: 'google', calendarId: 'nope@group.calendar.google.com', title: 'x', start: '2027-05-11T14:00:00Z', end: '2027-05-11T15:00:00Z' });
    assert.equal(res.status, 404);
  });

  test('a calendar of another provider, or of none connected: messages name the providers as people do', async () => {
    const event = { title: 'x', start: '2027-05-11T14:00:00Z', end: '2027-05-11T15:00:00Z' };
    const mismatch = await a.post('/api/event', { ...event, provider: 'google', calendarId: caldavCal });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.body.message, `Calendar ${caldavCal} belongs to the user’s CalDAV account, not to their Google accounts`);
    const unknown = await a.post('/api/event', { ...event, provider: 'google', calendarId: 'nope@group.calendar.google.com' });
    assert.equal(unknown.body.message, 'Calendar nope@group.calendar.google.com was not found in the connected Google accounts');
    const none = await a.post('/api/event', { ...event, provider: 'apple', calendarId: 'https://caldav.icloud.com/1/calendars/home/' });
    assert.equal(none.status, 404);
    assert.equal(none.body.message, 'No iCloud account is connected for this user');
  });

  test('a series of 5,000 instances in range walks page by page, each instance once', async () => {
    emulator.seedEvent(email, {
      id: 'bigseries01',
      summary: 'Every hour',
      start: { dateTime: '2028-01-01T00:00:00Z', timeZone: 'UTC' },
      end: { dateTime: '2028-01-01T00:30:00Z', timeZone: 'UTC' },
      recurrence: ['RRULE:FREQ=DAILY;COUNT=5000'],
    });
    const ids = new Set<string>();
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await a.events({ start: '2028-01-01T00:00:00Z', end: '2041-12-31T00:00:00Z', pageSize: '1000', calendarIds: JSON.stringify({ google: [email], caldav: ['none'] }), ...(token ? { nextPageToken: token } : {}) });
      assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 300));
      for (const e of res.body.events) {
        assert.ok(!ids.has(e.id), `repeated ${e.id}`);
        ids.add(e.id);
      }
      token = res.body.nextPageToken;
      pages++;
    } while (token && pages < 20);
    assert.equal(ids.size, 5000);
    assert.equal(pages, 5);
  });

  test('rate limits are retried, then surfaced as 429 with Retry-After within a bounded time', async () => {
    emulator.injectFault({ status: 403, reason: 'rateLimitExceeded', times: 1, path: '/events' });
    const once = await a.events({ start: '2027-05-10T00:00:00Z', end: '2027-05-11T00:00:00Z', calendarIds: JSON.stringify({ google: [email] }) });
    assert.equal(once.status, 200, 'a single 403 rateLimitExceeded is retried');
    assert.equal(once.body.errors, undefined);
    emulator.injectFault({ status: 429, retryAfter: '1', times: Infinity, method: 'POST', path: '/events' });
    const started = Date.now();
    const res = await a.post('/api/event', { provider: 'google', calendarId: email, title: 'x', start: '2027-05-11T14:00:00Z', end: '2027-05-11T15:00:00Z' });
    const took = Date.now() - started;
    emulator.clearFaults();
    assert.equal(res.status, 429, JSON.stringify(res.body));
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    assert.match(res.body.message, /rate/i);
    assert.ok(took < 5000, `bounded: ${took} ms`);
  });

  test('partial consent: the account is listed with calendarPermissionGranted false and the page says so', async () => {
    emulator.setConsent({ action: 'grant', scopes: ['openid', 'email'] }, 'partial@example.com');
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'partial' });
    const cb = await connectGoogle(server, s);
    assert.equal(cb.status, 303);
    const hub = await (await fetch(`${server.url}/connect`, { headers: { cookie: s.cookie } })).text();
    assert.match(hub, /partial@example\.com/);
    assert.match(hub, /account--attention/);
    const b = api(server.url, (await finishConnect(server.url, s, client)).access_token);
    const status = await b.get('/api/oauth/connection-status');
    assert.equal(status.body.connections.google[0].calendarPermissionGranted, false);
  });

  test('denied consent and a forged state end on clear pages, nothing stored', async () => {
    emulator.setConsent({ action: 'deny' }, 'denier@example.com');
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'denier' });
    const denied = await connectGoogle(server, s);
    assert.equal(denied.status, 400);
    assert.match(await denied.text(), /<h1/);
    const forged = await fetch(`${server.url}/connect/google/callback?code=abc&state=forged.state`, { headers: { cookie: s.cookie } });
    assert.equal(forged.status, 400);
    const other = await openConnect(server.url, { client_id: client.clientId, user_id: 'other' });
    // A state issued to another session is refused too.
    const step = await (await fetch(`${server.url}/connect/google`, { headers: { cookie: other.cookie } })).text();
    const state = /state=([^&"]+)/.exec(step)![1]!;
    const crossed = await fetch(`${server.url}/connect/google/callback?code=abc&state=${state}`, { headers: { cookie: s.cookie } });
    assert.equal(crossed.status, 400);
    const failedExchange = await fetch(`${server.url}/connect/google/callback?code=not-a-code&state=${state}`, { headers: { cookie: other.cookie } });
    assert.equal(failedExchange.status, 502);
    const rows = await server.runtime.storage.db.selectFrom('accounts').innerJoin('end_users', 'end_users.id', 'accounts.user_id').select('accounts.id').where('end_users.external_id', 'in', ['denier', 'other']).execute();
    assert.equal(rows.length, 0);
  });

  test('a revoked grant marks the account reauth_required; the CalDAV account keeps answering', async () => {
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'revoked' });
    emulator.setConsent({ action: 'grant-all' }, 'gone@example.com');
    emulator.addUser('gone@example.com');
    emulator.seedEvent('gone@example.com', { summary: 'Gone', start: { dateTime: '2027-05-10T08:00:00Z' }, end: { dateTime: '2027-05-10T09:00:00Z' } });
    assert.equal((await connectGoogle(server, s)).status, 303);
    assert.equal((await connectCaldav(server.url, s, { server_url: rad.url, username: 'ada', password: 'pw' })).status, 303);
    const c = api(server.url, (await finishConnect(server.url, s, client)).access_token);
    emulator.accounts.revokeAllFor('gone@example.com');
    const res = await c.events({ start: '2027-05-10T00:00:00Z', end: '2027-05-11T00:00:00Z' });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.events.map((e: { title: string }) => e.title), ['C mid']);
    assert.equal(res.body.errors[0].provider, 'google');
    assert.equal(res.body.errors[0].code, 'AUTH_REVOKED');
    const status = await c.get('/api/oauth/connection-status');
    assert.equal(status.body.connections.google[0].syncState, 'reauth_required');
  });

  test('disconnect revokes the token at Google', async () => {
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'leaving' });
    emulator.setConsent({ action: 'grant-all' }, 'leaving@example.com');
    assert.equal((await connectGoogle(server, s)).status, 303);
    const c = api(server.url, (await finishConnect(server.url, s, client)).access_token);
    const before = emulator.requests.filter((r) => r.path === '/revoke').length;
    const res = await c.post('/api/oauth/disconnect?provider=google', {});
    assert.equal(res.status, 200);
    assert.equal(emulator.requests.filter((r) => r.path === '/revoke' && r.status === 200).length, before + 1);
    assert.deepEqual((await c.get('/api/oauth/connection-status')).body.connections.google, []);
  });
});
