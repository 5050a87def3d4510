/**
 * Microsoft end to end, on SQLite and PostgreSQL: with the emulators standing in for
 * Microsoft and Google, a user connects a Microsoft, a Google and a CalDAV account on the
 * connect pages; the application sees one merged calendar list and one merged event list,
 * writes through to Microsoft (checked in the emulator's own store), and every way the
 * Microsoft sign-in can end (partial consent, denial, administrator consent required, a
 * forged state, a dead refresh token) ends as API.md says.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/google-emulator.js';
import { startMicrosoftEmulator, type MicrosoftEmulator } from '../emulators/microsoft/microsoft-emulator.js';
import { dialects } from '../support/databases.js';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServer, type TestServer } from '../support/server.js';
import { api, connectCaldav, finishConnect, openConnect } from '../support/connect-flow.js';
import { connectGoogle, googleEnv } from '../support/google-connect.js';
import { connectMicrosoft, microsoftAuthorizeLink, microsoftEnv } from '../support/microsoft-connect.js';

type Api = ReturnType<typeof api>;

for (const { dialect, skip } of await dialects()) {
  describe(`Microsoft through the server on ${dialect}`, { skip: skip || RADICALE_SKIP }, () => {
    let ms: MicrosoftEmulator;
    let google: GoogleEmulator;
    let rad: RadicaleServer;
    let server: TestServer;
    let client: { clientId: string; clientSecret: string };
    let a: Api;
    let caldavCal: string;
    let team: string;
    const email = 'adele@contoso.onmicrosoft.com';

    before(async () => {
      ms = await startMicrosoftEmulator();
      google = await startGoogleEmulator();
      rad = await startRadicale({ users: { ada: 'pw' } });
      caldavCal = await rad.mkcalendar('ada', 'personal', { displayName: 'Personal' });
      const { defaultCalendar } = ms.addUser(email);
      team = ms.addCalendar(email, { name: 'Team', canEdit: false, color: 'lightGreen', owner: { name: 'Megan', address: 'megan@contoso.onmicrosoft.com' } }).id;
      for (let i = 0; i < 4; i++) {
        ms.seedEvent(defaultCalendar.id, { subject: `M ${i}`, start: { dateTime: `2027-05-10T0${6 + i}:30:00`, timeZone: 'UTC' }, end: { dateTime: `2027-05-10T0${6 + i}:45:00`, timeZone: 'UTC' } });
      }
      ms.seedEvent(team, { subject: 'M team', start: { dateTime: '2027-05-10T14:00:00', timeZone: 'W. Europe Standard Time' }, end: { dateTime: '2027-05-10T15:00:00', timeZone: 'W. Europe Standard Time' } });
      google.addUser('ada@example.com', { timeZone: 'Europe/Paris' });
      google.seedEvent('ada@example.com', { summary: 'G morning', start: { dateTime: '2027-05-10T08:00:00Z' }, end: { dateTime: '2027-05-10T09:00:00Z' } });
      // Small Graph pages: the merged list must walk Graph's next links.
      ms.knobs.maxPageSize = 2;
      server = await startServer({ dialect, env: { ...microsoftEnv(ms), ...googleEnv(google) } });
      client = await server.createClient();
      const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'mixed' });
      const hub = await (await fetch(`${server.url}/connect`, { headers: { cookie: s.cookie } })).text();
      assert.match(hub, /href="\/connect\/microsoft"/, 'Microsoft is offered once configured');
      ms.setConsent({ action: 'grant-all' }, email);
      const cb = await connectMicrosoft(server, s);
      assert.equal(cb.status, 303, await cb.text());
      assert.match(cb.headers.get('location')!, /notice=connected/);
      google.setConsent({ action: 'grant-all' }, 'ada@example.com');
      assert.equal((await connectGoogle(server, s)).status, 303);
      assert.equal((await connectCaldav(server.url, s, { server_url: rad.url, username: 'ada', password: 'pw' })).status, 303);
      a = api(server.url, (await finishConnect(server.url, s, client)).access_token);
      const caldav = await a.post('/api/event', { provider: 'caldav', calendarId: caldavCal, title: 'C mid', start: '2027-05-10T10:00:00Z', end: '2027-05-10T11:00:00Z' });
      assert.equal(caldav.status, 200, JSON.stringify(caldav.body));
    });
    after(async () => {
      await server?.close();
      await rad?.stop();
      await google?.close();
      await ms?.close();
    });

    test('providers=microsoft offers only Microsoft on the hub', async () => {
      const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'only-ms', providers: 'microsoft' });
      const hub = await (await fetch(`${server.url}/connect`, { headers: { cookie: s.cookie } })).text();
      assert.match(hub, /href="\/connect\/microsoft"/);
      assert.doesNotMatch(hub, /href="\/connect\/google"/);
    });

    test('the redirect step asks Microsoft for PKCE, offline access and the calendar permission of the scope', async () => {
      for (const [scope, permission] of [['read-write', 'Calendars.ReadWrite'], ['read', 'Calendars.Read'], ['free-busy', 'Calendars.ReadBasic']] as const) {
        const s = await openConnect(server.url, { client_id: client.clientId, user_id: `scopes-${scope}`, scope });
        const link = new URL(await microsoftAuthorizeLink(server, s));
        assert.equal(link.pathname, '/common/oauth2/v2.0/authorize');
        assert.deepEqual(link.searchParams.get('scope')!.split(' ').sort(), ['email', 'offline_access', 'openid', 'profile', permission].sort());
        assert.equal(link.searchParams.get('code_challenge_method'), 'S256');
        assert.ok(link.searchParams.get('code_challenge'));
        assert.match(link.searchParams.get('redirect_uri')!, /\/connect\/microsoft\/callback$/);
      }
    });

    test('connection-status: the Microsoft account with its granted scopes; tokens stored encrypted', async () => {
      const res = await a.get('/api/oauth/connection-status');
      const m = res.body.connections.microsoft;
      assert.equal(m.length, 1);
      assert.equal(m[0].id, email);
      assert.equal(m[0].display, 'adele', 'the name from the ID token');
      assert.equal(m[0].calendarPermissionGranted, true);
      assert.ok(m[0].grantedScopes.includes('Calendars.ReadWrite'));
      const rows = await server.runtime.storage.db.selectFrom('accounts').select(['credentials']).where('provider', '=', 'microsoft').execute();
      assert.equal(rows.length, 1);
      assert.match(rows[0]!.credentials, /^v1\./);
      for (const line of server.logs) assert.doesNotMatch(line, /EwA|M\.C5/, 'no token in the logs');
    });

    test('calendars: colour from the enum, a calendar the account may not edit is readOnly', async () => {
      const cals = await a.get('/api/calendars');
      assert.equal(cals.status, 200);
      const mine = cals.body.filter((c: { provider: string }) => c.provider === 'microsoft');
      assert.deepEqual(mine.map((c: { title: string }) => c.title).sort(), ['Calendar', 'Team']);
      const t = mine.find((c: { title: string }) => c.title === 'Team');
      assert.equal(t.readOnly, true);
      assert.match(t.color, /^#[0-9A-F]{6}$/);
      assert.equal(t.original.owner.address, 'megan@contoso.onmicrosoft.com');
    });

    test('one merged event list of three providers, paged: every event exactly once, in order', async () => {
      const all = await a.events({ start: '2027-05-10T00:00:00Z', end: '2027-05-11T00:00:00Z' });
      assert.equal(all.status, 200, JSON.stringify(all.body));
      const expected = ['microsoft:M 0', 'microsoft:M 1', 'google:G morning', 'microsoft:M 2', 'microsoft:M 3', 'caldav:C mid', 'microsoft:M team'];
      assert.deepEqual(all.body.events.map((e: { provider: string; title: string }) => `${e.provider}:${e.title}`), expected);
      const seen: string[] = [];
      let pageToken: string | undefined;
      for (let i = 0; i < 20; i++) {
        const page = await a.events({ start: '2027-05-10T00:00:00Z', end: '2027-05-11T00:00:00Z', pageSize: '2', ...(pageToken ? { nextPageToken: pageToken } : {}) });
        assert.equal(page.status, 200, JSON.stringify(page.body));
        seen.push(...page.body.events.map((e: { provider: string; title: string }) => `${e.provider}:${e.title}`));
        pageToken = page.body.nextPageToken;
        if (!pageToken) break;
      }
      assert.deepEqual(seen, expected);
      const requested = ms.requests.filter((r) => r.path.endsWith('/calendarView'));
      assert.ok(requested.every((r) => /outlook\.timezone="UTC"/.test(r.prefer ?? '')), 'times asked for in UTC');
    });

    test('create, update and delete through the API, checked in the emulator’s store', async () => {
      const calendarId = ms.store.calendarsOf(email).find((c) => c.isDefaultCalendar)!.id;
      const created = await a.post('/api/event', {
        provider: 'microsoft',
        calendarId,
        title: 'Planning',
        description: 'Agenda',
        location: 'Room 1',
        start: '2027-06-01T08:00:00Z',
        end: '2027-06-01T09:00:00Z',
        timeZone: 'Europe/Berlin',
        attendees: ['grace@example.com'],
        availability: 'free',
        privacy: 'private',
        custom: { ticket: 42, tags: ['a'] },
        conferenceData: { provider: 'microsoft-teams', autoGenerate: true },
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const stored = ms.store.events.get(created.body.id)!;
      assert.equal(stored.subject, 'Planning');
      assert.deepEqual(stored.start, { dateTime: '2027-06-01T10:00:00', timeZone: 'W. Europe Standard Time' });
      assert.equal(stored.showAs, 'free');
      assert.equal(stored.sensitivity, 'private');
      assert.equal(stored.isOnlineMeeting, true);
      assert.equal(created.body.conferenceData.provider, 'microsoft-teams');
      assert.deepEqual(created.body.attendees.map((x: { email: string; organizer?: boolean }) => [x.email, x.organizer === true]), [[email, true], ['grace@example.com', false]]);
      const listed = await a.events({ start: '2027-06-01T00:00:00Z', end: '2027-06-02T00:00:00Z', calendarIds: JSON.stringify({ microsoft: [calendarId] }) });
      assert.deepEqual(listed.body.events[0].custom, { ticket: 42, tags: ['a'] }, 'custom round-trips through the extended property');
      assert.equal(listed.body.events[0].privacy, 'private');

      const updated = await a.put('/api/event', { provider: 'microsoft', calendarId, eventId: created.body.id, title: 'Planning v2' });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.equal(ms.store.events.get(created.body.id)!.subject, 'Planning v2');
      assert.ok(ms.requests.some((r) => r.method === 'PATCH' && r.ifMatch), 'the write is conditional');

      const allDay = await a.post('/api/event', { provider: 'microsoft', calendarId, title: 'Holiday', start: '2027-06-03', end: '2027-06-04', allDay: true });
      assert.equal(allDay.status, 200, JSON.stringify(allDay.body));
      assert.equal(allDay.body.start, '2027-06-03T00:00:00.000Z');
      assert.equal(allDay.body.end, '2027-06-04T00:00:00.000Z');
      assert.equal(ms.store.events.get(allDay.body.id)!.isAllDay, true);

      const deleted = await a.del('/api/event', { provider: 'microsoft', calendarId, eventId: created.body.id });
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
      assert.equal(ms.store.events.has(created.body.id), false);
    });

    test('what Graph cannot do is a 400 that says why: an occurrence moved past its neighbour, a foreign meeting link, a rule Graph cannot store', async () => {
      const calendarId = ms.store.calendarsOf(email).find((c) => c.isDefaultCalendar)!.id;
      const series = await a.post('/api/event', { provider: 'microsoft', calendarId, title: 'Daily', start: '2027-07-05T09:00:00Z', end: '2027-07-05T09:30:00Z', recurrence: { frequency: 'DAILY', count: 5 } });
      assert.equal(series.status, 200, JSON.stringify(series.body));
      const listed = await a.events({ start: '2027-07-05T00:00:00Z', end: '2027-07-10T00:00:00Z', calendarIds: JSON.stringify({ microsoft: [calendarId], google: ['none'], caldav: ['none'] }) });
      const second = listed.body.events[1];
      const moved = await a.put('/api/event', { provider: 'microsoft', calendarId, eventId: second.id, recurringEventId: series.body.id, updateMode: 'this', start: '2027-07-08T09:00:00Z', end: '2027-07-08T09:30:00Z' });
      assert.equal(moved.status, 400, JSON.stringify(moved.body));
      assert.match(moved.body.message, /neighbouring occurrence/);
      const link = await a.post('/api/event', { provider: 'microsoft', calendarId, title: 'Zoom', start: '2027-07-05T12:00:00Z', end: '2027-07-05T13:00:00Z', conference: 'https://zoom.us/j/1' });
      assert.equal(link.status, 400, JSON.stringify(link.body));
      assert.match(link.body.message, /Teams/);
      const rule = await a.post('/api/event', { provider: 'microsoft', calendarId, title: 'Odd', start: '2027-07-05T12:00:00Z', end: '2027-07-05T13:00:00Z', recurrence: { frequency: 'MONTHLY', byMonthDay: [1, 15] } });
      assert.equal(rule.status, 400, JSON.stringify(rule.body));
      assert.match(rule.body.message, /one day of the month/);
    });

    test('writes to a calendar the account may only read are 403 calendar_read_only', async () => {
      const res = await a.post('/api/event', { provider: 'microsoft', calendarId: team, title: 'No', start: '2027-06-01T08:00:00Z', end: '2027-06-01T09:00:00Z' });
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.body.error, 'calendar_read_only');
    });

    test('throttling: 429 with Retry-After is waited out within the budget, then surfaced as 429 with Retry-After', async () => {
      ms.injectFault({ status: 429, retryAfter: '0', path: '/calendarView', times: 1 });
      const ok = await a.events({ start: '2027-05-10T00:00:00Z', end: '2027-05-11T00:00:00Z', calendarIds: JSON.stringify({ microsoft: [team], google: ['none'], caldav: ['none'] }) });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.errors, undefined, 'one 429 is waited out');
      assert.deepEqual(ok.body.events.map((e: { title: string }) => e.title), ['M team']);
      const calendarId = ms.store.calendarsOf(email).find((c) => c.isDefaultCalendar)!.id;
      ms.injectFault({ status: 429, retryAfter: '1', method: 'POST', path: '/events', times: Infinity });
      const started = Date.now();
      const res = await a.post('/api/event', { provider: 'microsoft', calendarId, title: 'x', start: '2027-06-11T14:00:00Z', end: '2027-06-11T15:00:00Z' });
      const took = Date.now() - started;
      ms.clearFaults();
      assert.equal(res.status, 429, JSON.stringify(res.body));
      assert.ok(Number(res.headers.get('retry-after')) >= 1, 'Retry-After passed on');
      assert.ok(took < 5000, `bounded: ${took} ms`);
    });

    test('partial consent: kept with calendarPermissionGranted false, and the hub says so', async () => {
      ms.setConsent({ action: 'grant', scopes: ['openid', 'email', 'profile', 'offline_access'] }, 'partial@contoso.onmicrosoft.com');
      const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'partial' });
      const cb = await connectMicrosoft(server, s);
      assert.equal(cb.status, 303, await cb.text());
      const hub = await (await fetch(`${server.url}/connect`, { headers: { cookie: s.cookie } })).text();
      assert.match(hub, /partial@contoso\.onmicrosoft\.com/);
      assert.match(hub, /account--attention/);
      const b = api(server.url, (await finishConnect(server.url, s, client)).access_token);
      const status = await b.get('/api/oauth/connection-status');
      assert.equal(status.body.connections.microsoft[0].calendarPermissionGranted, false);
    });

    test('denied consent, administrator consent required and a forged state end on clear pages, nothing stored', async () => {
      const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'refused' });
      ms.setConsent({ action: 'deny' }, 'denier@contoso.onmicrosoft.com');
      const denied = await connectMicrosoft(server, s);
      assert.equal(denied.status, 400);
      assert.match(await denied.text(), /<h1/);
      for (const code of [65001, 90094] as const) {
        ms.setConsent({ action: 'admin-required', code }, 'worker@contoso.onmicrosoft.com');
        const admin = await connectMicrosoft(server, s);
        assert.equal(admin.status, 403, `AADSTS${code}`);
        assert.match(await admin.text(), /administrator/i);
      }
      const forged = await fetch(`${server.url}/connect/microsoft/callback?code=abc&state=forged.state`, { headers: { cookie: s.cookie } });
      assert.equal(forged.status, 400);
      // A Google state is not a Microsoft state.
      const googleStep = await (await fetch(`${server.url}/connect/google`, { headers: { cookie: s.cookie } })).text();
      const googleState = /state=([^&"]+)/.exec(googleStep)![1]!;
      const crossed = await fetch(`${server.url}/connect/microsoft/callback?code=abc&state=${googleState}`, { headers: { cookie: s.cookie } });
      assert.equal(crossed.status, 400);
      const rows = await server.runtime.storage.db.selectFrom('accounts').innerJoin('end_users', 'end_users.id', 'accounts.user_id').select('accounts.id').where('end_users.external_id', '=', 'refused').execute();
      assert.equal(rows.length, 0);
    });

    for (const code of [700082, 50173, 70000] as const) {
      test(`a refresh answered invalid_grant AADSTS${code} marks the account reauth_required; the others keep answering`, async () => {
        const who = `gone${code}@contoso.onmicrosoft.com`;
        const { defaultCalendar } = ms.addUser(who);
        ms.seedEvent(defaultCalendar.id, { subject: 'Gone', start: { dateTime: '2027-05-10T08:00:00', timeZone: 'UTC' }, end: { dateTime: '2027-05-10T09:00:00', timeZone: 'UTC' } });
        const s = await openConnect(server.url, { client_id: client.clientId, user_id: `revoked-${code}` });
        ms.setConsent({ action: 'grant-all' }, who);
        assert.equal((await connectMicrosoft(server, s)).status, 303);
        assert.equal((await connectCaldav(server.url, s, { server_url: rad.url, username: 'ada', password: 'pw' })).status, 303);
        const c = api(server.url, (await finishConnect(server.url, s, client)).access_token);
        ms.identity.expireAccessTokens(who);
        ms.identity.killRefreshTokens(who, code);
        const res = await c.events({ start: '2027-05-10T00:00:00Z', end: '2027-05-11T00:00:00Z' });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(res.body.events.map((e: { title: string }) => e.title), ['C mid']);
        assert.equal(res.body.errors[0].provider, 'microsoft');
        assert.equal(res.body.errors[0].code, 'AUTH_REVOKED');
        const status = await c.get('/api/oauth/connection-status');
        assert.equal(status.body.connections.microsoft[0].syncState, 'reauth_required');
      });
    }

    test('an expired access token is refreshed and the rotated refresh token is stored', async () => {
      const who = 'rotate@contoso.onmicrosoft.com';
      const { defaultCalendar } = ms.addUser(who);
      ms.seedEvent(defaultCalendar.id, { subject: 'Still here', start: { dateTime: '2027-05-10T08:00:00', timeZone: 'UTC' }, end: { dateTime: '2027-05-10T09:00:00', timeZone: 'UTC' } });
      const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'rotate' });
      ms.setConsent({ action: 'grant-all' }, who);
      assert.equal((await connectMicrosoft(server, s)).status, 303);
      const c = api(server.url, (await finishConnect(server.url, s, client)).access_token);
      // Only the newest refresh token works from here on: losing it would lose the account.
      ms.identity.strictRotation = true;
      try {
        for (let round = 0; round < 3; round++) {
          ms.identity.expireAccessTokens(who);
          const res = await c.events({ start: '2027-05-10T00:00:00Z', end: '2027-05-11T00:00:00Z' });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          assert.deepEqual(res.body.events.map((e: { title: string }) => e.title), ['Still here'], `round ${round}: ${JSON.stringify(res.body)}`);
        }
      } finally {
        ms.identity.strictRotation = false;
      }
      const status = await c.get('/api/oauth/connection-status');
      assert.equal(status.body.connections.microsoft[0].syncState, 'ok');
    });

    test('disconnect forgets the grant (Graph has no revocation endpoint): nothing is sent to Microsoft', async () => {
      const who = 'leaving@contoso.onmicrosoft.com';
      const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'leaving' });
      ms.setConsent({ action: 'grant-all' }, who);
      assert.equal((await connectMicrosoft(server, s)).status, 303);
      const c = api(server.url, (await finishConnect(server.url, s, client)).access_token);
      const before = ms.requests.length;
      const res = await c.post('/api/oauth/disconnect?provider=microsoft', {});
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(ms.requests.length, before);
      assert.deepEqual((await c.get('/api/oauth/connection-status')).body.connections.microsoft, []);
    });
  });
}
