/**
 * The two ways to take over a user's calendars through the connect pages, end to end
 * over HTTP against two Radicale servers (the victim's and the attacker's, each with a
 * user called `alice`), on SQLite and PostgreSQL:
 *
 * 1. Someone who knows a client_id and a victim's user_id opens a plain authorize
 *    request for the victim: they must not see, disconnect or replace the victim's
 *    accounts, nor fill the victim's account slots.
 * 2. The reverse: a victim opens a genuine link made for mallory's user_id and connects
 *    their own calendar: nothing reaches mallory's tokens unless the application
 *    exchanges the code of that very session, and an abandoned session leaves nothing.
 *
 * Plus what keeps a plain-authorize application working: repairing an account after
 * reauth_required, re-authorizing with nothing new; and the hardening around it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServer, type TestServer } from '../support/server.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/databases.js';
import { postForm } from '../support/oauth-flow.js';
import { api, connectCaldav, continueConnect, exchangeCode, hubOf, listedAccounts, openConnect, type ConnectSessionHandle } from '../support/connect-flow.js';

type Api = ReturnType<typeof api>;
const MONTH = { start: '2030-02-01T00:00:00Z', end: '2030-03-01T00:00:00Z' };

function ics(uid: string, summary: string, start: string): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20300101T000000Z', `DTSTART:${start}`, 'DURATION:PT1H', `SUMMARY:${summary}`, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

for (const { dialect, skip } of await dialects()) describe(`connect pages cannot be hijacked (${dialect})`, { skip: RADICALE_SKIP || skip }, () => {
  let victimRad: RadicaleServer;
  let attackerRad: RadicaleServer;
  let server: TestServer;
  let db: TestDatabase;
  let client: { clientId: string; clientSecret: string };
  let victimCalendar: string;
  let attackerCalendar: string;

  /** A user of the application who connected one CalDAV account through the normal flow. */
  async function userWith(userId: string, rad: RadicaleServer, username: string, password: string, scope = 'read-write'): Promise<Api> {
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: userId, scope });
    assert.equal((await connectCaldav(server.url, s, { server_url: rad.url, username, password })).status, 303);
    const q = await continueConnect(server.url, s);
    return api(server.url, (await exchangeCode(server.url, client, q.get('code')!)).access_token);
  }

  const caldavIds = async (a: Api): Promise<string[]> => {
    const res = await a.get('/api/oauth/connection-status');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.connections.caldav.map((c: { id: string }) => c.id).sort();
  };
  const calendarIds = async (a: Api): Promise<string[]> => {
    const res = await a.get('/api/calendars');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.map((c: { id: string }) => c.id).sort();
  };
  /** Every account row of one application user, pending or not, with its decrypted server. */
  async function rowsOf(externalId: string) {
    const rows = await server.runtime.storage.db
      .selectFrom('accounts')
      .innerJoin('end_users', 'end_users.id', 'accounts.user_id')
      .select(['accounts.id', 'accounts.account_id'])
      .where('end_users.external_id', '=', externalId)
      .where('end_users.client_id', '=', client.clientId)
      .execute();
    return Promise.all(rows.map(async (r) => ({ ...r, serverUrl: (await server.runtime.services.accounts.readCredentials<{ serverUrl: string }>(r.id)).serverUrl })));
  }
  const allRows = async () => server.runtime.storage.db.selectFrom('accounts').select(['id']).execute();

  before(async () => {
    [victimRad, attackerRad] = await Promise.all([
      startRadicale({ users: { alice: 'alice-pw', bob: 'bob-pw' } }),
      startRadicale({ users: { alice: 'evil-pw', mallory: 'mallory-pw', extra: 'extra-pw' } }),
    ]);
    victimCalendar = await victimRad.mkcalendar('alice', 'private', { displayName: 'Private' });
    await victimRad.put('alice', `${victimCalendar}secret.ics`, ics('secret-1', 'Secret meeting', '20300210T090000Z'));
    attackerCalendar = await attackerRad.mkcalendar('alice', 'trap', { displayName: 'Private' });
    await attackerRad.mkcalendar('mallory', 'own', { displayName: 'Mallory' });
    db = await createTestDatabase(dialect);
    server = await startServer({ db, env: { ALMANAC_MAX_ACCOUNTS_PER_USER: '3' } });
    client = await server.createClient();
  });
  after(async () => {
    await server?.close();
    await db?.drop();
    await victimRad?.stop();
    await attackerRad?.stop();
  });

  test('attack 1: a plain session for the victim shows none of the victim’s accounts and cannot disconnect them', async () => {
    const victim = await userWith('victim-1', victimRad, 'alice', 'alice-pw');
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'victim-1' });
    const hub = await hubOf(server.url, s);
    assert.deepEqual(listedAccounts(hub), [], 'no account is listed');
    assert.ok(!hub.includes('alice'), 'the victim’s account id appears nowhere on the page');
    assert.match(hub, /action="\/connect\/continue"/, 'Continue is still offered (re-authorizing needs nothing new)');

    const res = await postForm(`${server.url}/connect/disconnect`, s.cookie, { csrf: s.csrf, provider: 'caldav', account: 'alice' });
    // Answered like an account already gone (back to the hub, no notice): the session learns nothing.
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/connect');
    const everything = await postForm(`${server.url}/connect/disconnect`, s.cookie, { csrf: s.csrf, provider: 'caldav', account: '' });
    assert.equal(everything.status, 400);
    assert.deepEqual(await caldavIds(victim), ['alice']);
    assert.deepEqual(await calendarIds(victim), [victimCalendar]);
  });

  test('attack 1: the attacker’s server with the victim’s username never replaces the victim’s server and password', async () => {
    const victim = await userWith('victim-2', victimRad, 'alice', 'alice-pw');
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'victim-2' });
    assert.equal((await connectCaldav(server.url, s, { server_url: attackerRad.url, username: 'alice', password: 'evil-pw' })).status, 303);
    assert.deepEqual(listedAccounts(await hubOf(server.url, s)), ['alice'], 'the attacker sees the account they added');

    const untouched = async () => {
      assert.deepEqual(await caldavIds(victim), ['alice']);
      assert.deepEqual(await calendarIds(victim), [victimCalendar]);
      const events = await victim.events(MONTH);
      assert.deepEqual(events.body.events.map((e: { title: string }) => e.title), ['Secret meeting']);
    };
    await untouched();
    // The attacker finishes; the code lands on the application's redirect URI in the attacker's browser.
    const code = (await continueConnect(server.url, s)).get('code')!;
    await untouched();

    // Even an application that exchanges that code (it should have refused its state) gets a second account, not a swap.
    await exchangeCode(server.url, client, code);
    const ids = await caldavIds(victim);
    assert.equal(ids.length, 2, JSON.stringify(ids));
    assert.ok(ids.includes('alice'), 'the victim’s account keeps its id');
    const other = ids.find((id) => id !== 'alice')!;
    assert.ok(other.includes(`127.0.0.1:${attackerRad.port}`), `the second alice is named after its server: ${other}`);
    const rows = await rowsOf('victim-2');
    assert.equal(rows.find((r) => r.account_id === 'alice')?.serverUrl, victimRad.url, 'the victim’s stored server is unchanged');
    const created = await victim.post('/api/event', { provider: 'caldav', calendarId: victimCalendar, title: 'Written by the app', start: '2030-02-11T09:00:00Z', end: '2030-02-11T10:00:00Z' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.match((await victimRad.get('alice', created.body.original.href)).body, /SUMMARY:Written by the app/, 'the victim’s events still go to the victim’s server');
    assert.deepEqual((await calendarIds(victim)).sort(), [attackerCalendar, victimCalendar].sort());
  });

  test('attack 1: a plain session cannot fill the victim’s account slots', async () => {
    const victim = await userWith('victim-3', victimRad, 'alice', 'alice-pw');
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'victim-3' });
    for (const [username, password] of [['alice', 'evil-pw'], ['mallory', 'mallory-pw']] as const) {
      assert.equal((await connectCaldav(server.url, s, { server_url: attackerRad.url, username, password })).status, 303);
    }
    const status = await victim.get('/api/oauth/connection-status');
    assert.equal(status.body.limitReached, false, 'pending accounts do not count against the user');
    assert.deepEqual(await caldavIds(victim), ['alice']);
    // The victim, in a session of their own, can still connect as many accounts as the limit allows.
    const own = await openConnect(server.url, { client_id: client.clientId, user_id: 'victim-3' });
    assert.equal((await connectCaldav(server.url, own, { server_url: victimRad.url, username: 'bob', password: 'bob-pw' })).status, 303);
    assert.equal((await connectCaldav(server.url, own, { server_url: attackerRad.url, username: 'extra', password: 'extra-pw' })).status, 303);
    await exchangeCode(server.url, client, (await continueConnect(server.url, own)).get('code')!);
    assert.equal((await caldavIds(victim)).length, 3);
    assert.equal((await victim.get('/api/oauth/connection-status')).body.limitReached, true);
  });

  const pendingRows = async () => server.runtime.storage.db.selectFrom('accounts').select(['id']).where('pending_session', 'is not', null).execute();
  const AFTER_SESSION_AND_CODE = 3 * 3600_000;

  test('attack 2: a victim connecting on mallory’s link attaches nothing until mallory’s code is exchanged; an abandoned session leaves nothing', async () => {
    const mallory = await userWith('mallory', attackerRad, 'mallory', 'mallory-pw');
    // The victim opens the genuine link made for user_id=mallory and connects their own calendar…
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'mallory' });
    assert.equal((await connectCaldav(server.url, s, { server_url: victimRad.url, username: 'alice', password: 'alice-pw' })).status, 303);
    // … and never presses Continue. Mallory's existing token sees nothing of it.
    assert.deepEqual(await caldavIds(mallory), ['mallory']);
    assert.ok(!(await calendarIds(mallory)).includes(victimCalendar));
    assert.ok(!(await mallory.events(MONTH)).body.events.some((e: { title: string }) => e.title === 'Secret meeting'));
    const victimsRow = async () => (await rowsOf('mallory')).filter((r) => r.serverUrl === victimRad.url);
    assert.equal((await victimsRow()).length, 1, 'stored (sealed) while the session may still finish');

    // An hour later the session could still be finished: the sweep keeps it.
    await server.runtime.services.housekeeping.sweep(Date.now() + 3600_000);
    assert.equal((await victimsRow()).length, 1);
    // Once neither the session nor a code of it can be used, its credentials are deleted.
    await server.runtime.services.housekeeping.sweep(Date.now() + AFTER_SESSION_AND_CODE);
    assert.deepEqual(await victimsRow(), [], 'no credentials of the abandoned session remain');
    assert.deepEqual(await pendingRows(), []);
    assert.deepEqual(await caldavIds(mallory), ['mallory']);
  });

  test('attack 2: Continue without the application exchanging the code, and Cancel, attach nothing either', async () => {
    const mallory = api(server.url, (await exchangeCode(server.url, client, (await continueConnect(server.url, await openConnect(server.url, { client_id: client.clientId, user_id: 'mallory' }))).get('code')!)).access_token);
    const victimsRow = async () => (await rowsOf('mallory')).filter((r) => r.serverUrl === victimRad.url);
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'mallory', state: 'mallorys-state' });
    assert.equal((await connectCaldav(server.url, s, { server_url: victimRad.url, username: 'alice', password: 'alice-pw' })).status, 303);
    const q = await continueConnect(server.url, s);
    assert.ok(q.get('code'));
    // The application sees a state its own session did not issue and never exchanges the code.
    assert.deepEqual(await caldavIds(mallory), ['mallory']);
    await server.runtime.services.housekeeping.sweep(Date.now() + AFTER_SESSION_AND_CODE);
    assert.deepEqual(await victimsRow(), []);

    const cancelled = await openConnect(server.url, { client_id: client.clientId, user_id: 'mallory' });
    assert.equal((await connectCaldav(server.url, cancelled, { server_url: victimRad.url, username: 'alice', password: 'alice-pw' })).status, 303);
    assert.equal((await victimsRow()).length, 1);
    const res = await postForm(`${server.url}/connect/cancel`, cancelled.cookie, { csrf: cancelled.csrf });
    assert.equal(res.status, 302);
    assert.match(res.headers.get('location')!, /error=access_denied/);
    assert.deepEqual(await victimsRow(), [], 'Cancel forgets what the session connected at once');
    assert.deepEqual(await caldavIds(mallory), ['mallory']);
  });

  test('a plain session repairs an account after reauth_required: the new password replaces the old one when the code is exchanged', async () => {
    const user = await userWith('repair', victimRad, 'alice', 'alice-pw');
    const [row] = await rowsOf('repair');
    const creds = await server.runtime.services.accounts.readCredentials<Record<string, unknown>>(row!.id);
    await server.runtime.services.accounts.writeCredentials(row!.id, { ...creds, password: 'changed-elsewhere' });
    // The server refuses the stored password: the account is marked for the user to repair.
    assert.equal((await user.events(MONTH)).status, 502);
    const states = async () => (await user.get('/api/oauth/connection-status')).body.connections.caldav.map((c: { id: string; syncState: string }) => `${c.id}:${c.syncState}`);
    assert.deepEqual(await states(), ['alice:reauth_required']);

    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'repair' });
    assert.equal((await connectCaldav(server.url, s, { server_url: victimRad.url, username: 'alice', password: 'alice-pw' })).status, 303);
    assert.deepEqual(await states(), ['alice:reauth_required'], 'nothing changes before the exchange');
    const fresh = api(server.url, (await exchangeCode(server.url, client, (await continueConnect(server.url, s)).get('code')!)).access_token);
    assert.deepEqual(await states(), ['alice:ok']);
    const rows = await rowsOf('repair');
    assert.deepEqual(rows.map((r) => r.id), [row!.id], 'the same account, repaired in place');
    assert.equal((await fresh.events(MONTH)).body.events[0]?.title, 'Secret meeting');
  });

  test('re-authorizing for another scope needs nothing new: Continue on an empty hub, the accounts stay', async () => {
    const reader = await userWith('rescope', victimRad, 'alice', 'alice-pw', 'read');
    assert.equal((await reader.post('/api/event', { provider: 'caldav', calendarId: victimCalendar, title: 'x', start: '2030-02-12T09:00:00Z', end: '2030-02-12T10:00:00Z' })).status, 401);
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'rescope', scope: 'read-write' });
    const writer = api(server.url, (await exchangeCode(server.url, client, (await continueConnect(server.url, s)).get('code')!)).access_token);
    assert.deepEqual(await caldavIds(writer), ['alice']);
    const created = await writer.post('/api/event', { provider: 'caldav', calendarId: victimCalendar, title: 'Now allowed', start: '2030-02-12T09:00:00Z', end: '2030-02-12T10:00:00Z' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
  });

  test('disconnect through the API needs the read-write scope', async () => {
    const writer = await userWith('scoped', victimRad, 'alice', 'alice-pw');
    for (const scope of ['free-busy', 'read']) {
      const s: ConnectSessionHandle = await openConnect(server.url, { client_id: client.clientId, user_id: 'scoped', scope });
      const limited = api(server.url, (await exchangeCode(server.url, client, (await continueConnect(server.url, s)).get('code')!)).access_token);
      for (const path of ['/api/oauth/disconnect', '/api/disconnect']) {
        const res = await limited.post(`${path}?provider=caldav`, {});
        assert.equal(res.status, 401, `${scope} ${path}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.message, 'Write access denied for current scope');
      }
      assert.deepEqual(await caldavIds(writer), ['alice'], `${scope} removed nothing`);
    }
    const res = await writer.post('/api/oauth/disconnect?provider=caldav&account=alice', {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(await caldavIds(writer), []);
  });

  test('account ids with control characters are refused on the form and in the API', async () => {
    const before = (await allRows()).length;
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'crlf' });
    const res = await connectCaldav(server.url, s, { server_url: victimRad.url, username: 'alice\r\nX-Injected: 1', password: 'alice-pw' });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /role="alert"/);
    const url = await connectCaldav(server.url, s, { server_url: `${victimRad.url}\n`.replace('127', '1\t27'), username: 'alice', password: 'alice-pw' });
    assert.equal(url.status, 400, 'a server address with control characters is not silently cleaned up');
    assert.equal((await allRows()).length, before);
    const writer = await userWith('crlf', victimRad, 'alice', 'alice-pw');
    const bad = await writer.post(`/api/oauth/disconnect?provider=caldav&account=${encodeURIComponent('alice\r\n')}`, {});
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.deepEqual(await caldavIds(writer), ['alice']);
  });

  test('the hub only shows notices for what this session did', async () => {
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'notices' });
    const forged = await fetch(`${server.url}/connect?${new URLSearchParams({ notice: 'connected', account: 'Your bank account was linked, call +1 555 0100' })}`, { headers: { cookie: s.cookie } });
    assert.equal(forged.status, 200);
    const forgedHtml = await forged.text();
    assert.ok(!forgedHtml.includes('call +1 555 0100'), 'arbitrary text from the URL is not shown');
    assert.doesNotMatch(forgedHtml, /notice--success/);

    const connected = await connectCaldav(server.url, s, { server_url: victimRad.url, username: 'alice', password: 'alice-pw' });
    const location = connected.headers.get('location')!;
    const shown = await (await fetch(`${server.url}${location}`, { headers: { cookie: s.cookie } })).text();
    assert.match(shown, /notice--success[^>]*role="status"[\s\S]*alice/);
    // The same notice link in another session is not this session's doing.
    const other = await openConnect(server.url, { client_id: client.clientId, user_id: 'notices' });
    const replayed = await (await fetch(`${server.url}${location}`, { headers: { cookie: other.cookie } })).text();
    assert.doesNotMatch(replayed, /notice--success/);
  });

  test('one session across two instances on one database: connect on one, Continue and exchange on the other', { skip: dialect === 'postgres' ? false : 'several instances need PostgreSQL' }, async () => {
    const second = await startServer({ db, env: { ALMANAC_MAX_ACCOUNTS_PER_USER: '3' } });
    try {
      const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'two-instances' });
      assert.equal((await connectCaldav(second.url, s, { server_url: victimRad.url, username: 'alice', password: 'alice-pw' })).status, 303);
      assert.deepEqual(listedAccounts(await hubOf(server.url, s)), ['alice']);
      const code = (await continueConnect(server.url, s)).get('code')!;
      const tokens = await exchangeCode(second.url, client, code);
      assert.deepEqual(await caldavIds(api(server.url, tokens.access_token)), ['alice']);
    } finally {
      await second.close();
    }
  });
});
