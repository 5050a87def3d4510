/**
 * Scope upgrades with Google (emulator) through the real server: an application moves a
 * user from `read` to `read-write`, but the stored Google grant only has
 * calendar.readonly. connection-status judges the grant against the token's scope and
 * says permission is missing; the hub of a session that may show the account asks to
 * reconnect it with more access; reconnecting (in a pushed session, or in a plain one)
 * repairs it when the code is exchanged, and writes go through.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/google-emulator.js';
import { startServer, type TestServer } from '../support/server.js';
import { api, continueConnect, exchangeCode, hubOf, listedAccounts, openConnect, openPushedConnect } from '../support/connect-flow.js';
import { connectGoogle, googleEnv } from '../support/google-connect.js';
import { t, toLocale } from '../../src/connect/i18n/translator.js';
import { escapeHtml } from '../../src/connect/views/html.js';

const READONLY = 'https://www.googleapis.com/auth/calendar.readonly';
const EVENTS = 'https://www.googleapis.com/auth/calendar.events';
const EN = toLocale('en');

describe('Google scope upgrades', () => {
  let emulator: GoogleEmulator;
  let server: TestServer;
  let client: { clientId: string; clientSecret: string };

  before(async () => {
    emulator = await startGoogleEmulator();
    server = await startServer({ env: googleEnv(emulator, { GOOGLE_RETRY_MAX_ELAPSED_MS: '200' }) });
    client = await server.createClient();
  });
  after(async () => {
    await server?.close();
    await emulator?.close();
  });

  /** A user who connected `email` with a `read` authorization; returns that read token. */
  async function readUser(userId: string, email: string) {
    emulator.addUser(email);
    emulator.setConsent({ action: 'grant-all' }, email);
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: userId, scope: 'read' });
    assert.equal((await connectGoogle(server, s)).status, 303);
    const tokens = await exchangeCode(server.url, client, (await continueConnect(server.url, s)).get('code')!);
    assert.equal(tokens.scope, 'read');
    return api(server.url, tokens.access_token);
  }

  const google = async (a: ReturnType<typeof api>) => (await a.get('/api/oauth/connection-status')).body.connections.google as { id: string; calendarPermissionGranted: boolean; grantedScopes: string[] }[];
  const write = (a: ReturnType<typeof api>, email: string, title: string) =>
    a.post('/api/event', { provider: 'google', calendarId: email, title, start: '2029-04-02T09:00:00Z', end: '2029-04-02T10:00:00Z' });

  test('connection-status judges the grant against the token’s scope; a pushed session asks to reconnect with more access, which repairs it', async () => {
    const email = 'reader@example.com';
    const reader = await readUser('upgrader', email);
    assert.deepEqual((await google(reader)).map((g) => [g.id, g.calendarPermissionGranted]), [[email, true]]);
    assert.ok((await google(reader))[0]!.grantedScopes.includes(READONLY));

    // The application re-authorizes the user for read-write: nothing new is connected.
    const again = await openConnect(server.url, { client_id: client.clientId, user_id: 'upgrader', scope: 'read-write' });
    const writer = api(server.url, (await exchangeCode(server.url, client, (await continueConnect(server.url, again)).get('code')!)).access_token);
    assert.deepEqual((await google(writer)).map((g) => [g.id, g.calendarPermissionGranted]), [[email, false]], 'read-only grant, read-write token: permission is missing');
    assert.deepEqual((await google(reader)).map((g) => g.calendarPermissionGranted), [true], 'the read token is still served');
    assert.notEqual((await write(writer, email, 'Too early')).status, 200, 'the write cannot succeed with the stored grant');

    // A session that may show the account asks to reconnect it with more access.
    const s = await openPushedConnect(server.url, client, { user_id: 'upgrader', scope: 'read-write' });
    assert.deepEqual(listedAccounts(s.hub), [email]);
    assert.ok(s.hub.includes(escapeHtml(t(EN, 'account.moreAccessNeeded'))), 'the hub says this account needs more access');
    assert.match(s.hub, /class="account account--attention"[\s\S]*href="\/connect\/google"/, 'with a Reconnect link');

    emulator.setConsent({ action: 'grant-all' }, email);
    assert.equal((await connectGoogle(server, s)).status, 303);
    const repaired = await hubOf(server.url, s);
    assert.deepEqual(listedAccounts(repaired), [email], 'one account: the reconnect is shown in its place');
    assert.doesNotMatch(repaired, /account--attention/);
    assert.deepEqual((await google(writer)).map((g) => g.calendarPermissionGranted), [false], 'nothing changes before the exchange');

    const upgraded = api(server.url, (await exchangeCode(server.url, client, (await continueConnect(server.url, s)).get('code')!)).access_token);
    const status = await google(upgraded);
    assert.deepEqual(status.map((g) => [g.id, g.calendarPermissionGranted]), [[email, true]]);
    assert.ok(status[0]!.grantedScopes.includes(EVENTS));
    const created = await write(upgraded, email, 'Now allowed');
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(emulator.store.storedEvent(email, created.body.id)?.summary, 'Now allowed');
  });

  test('a plain session cannot show the account, but reconnecting it there repairs it too; withheld access is flagged on the page', async () => {
    const email = 'plain-reader@example.com';
    await readUser('plain-upgrader', email);
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'plain-upgrader', scope: 'read-write' });
    assert.deepEqual(listedAccounts(await hubOf(server.url, s)), [], 'a plain session shows nothing of the user’s accounts');

    // The user reconnects but unticks the events box on Google's consent screen (only the calendar list is left).
    emulator.setConsent({ action: 'grant', scopes: ['https://www.googleapis.com/auth/calendar.calendarlist.readonly'] }, email);
    assert.equal((await connectGoogle(server, s)).status, 303);
    const partial = await hubOf(server.url, s);
    assert.deepEqual(listedAccounts(partial), [email]);
    assert.match(partial, /account--attention/);
    assert.ok(partial.includes(escapeHtml(t(EN, 'account.permissionMissing'))), 'the reconnected account lacks calendar access, and the page says so');

    // Tries again and allows everything: the same account in the same session, updated.
    emulator.setConsent({ action: 'grant-all' }, email);
    assert.equal((await connectGoogle(server, s)).status, 303);
    const fixed = await hubOf(server.url, s);
    assert.deepEqual(listedAccounts(fixed), [email]);
    assert.doesNotMatch(fixed, /account--attention/);
    const writer = api(server.url, (await exchangeCode(server.url, client, (await continueConnect(server.url, s)).get('code')!)).access_token);
    assert.deepEqual((await google(writer)).map((g) => [g.id, g.calendarPermissionGranted]), [[email, true]]);
    assert.equal((await write(writer, email, 'Plain repair')).status, 200);
    const rows = await server.runtime.storage.db.selectFrom('accounts').innerJoin('end_users', 'end_users.id', 'accounts.user_id').select('accounts.id').where('end_users.external_id', '=', 'plain-upgrader').execute();
    assert.equal(rows.length, 1, 'repaired in place, no twin');
  });

  test('a token refresh of the old grant that finishes after the reconnect neither overwrites nor shadows the new grant', async () => {
    const email = 'racer@example.com';
    // The first grant's access token is already inside the refresh margin: the next call refreshes it.
    emulator.accounts.accessTokenTtlSec = 30;
    await readUser('racer', email);
    emulator.accounts.accessTokenTtlSec = 3600;
    const again = await openConnect(server.url, { client_id: client.clientId, user_id: 'racer', scope: 'read-write' });
    const writer = api(server.url, (await exchangeCode(server.url, client, (await continueConnect(server.url, again)).get('code')!)).access_token);

    // A request refreshes the old grant; Google's answer is held back…
    const hold = emulator.holdRequests({ count: 1, method: 'POST', path: '/token' });
    const inFlight = writer.events({ start: '2029-04-01T00:00:00Z', end: '2029-04-03T00:00:00Z' });
    await hold.untilWaiting(1);
    // … while the user reconnects with write access and the application exchanges the code.
    emulator.setConsent({ action: 'grant-all' }, email);
    const s = await openPushedConnect(server.url, client, { user_id: 'racer', scope: 'read-write' });
    assert.equal((await connectGoogle(server, s)).status, 303);
    const upgraded = api(server.url, (await exchangeCode(server.url, client, (await continueConnect(server.url, s)).get('code')!)).access_token);
    hold.release();
    assert.equal((await inFlight).status, 200);

    // The old grant's refreshed tokens were not written over the new ones …
    const [row] = await server.runtime.storage.db.selectFrom('accounts').innerJoin('end_users', 'end_users.id', 'accounts.user_id').select('accounts.id').where('end_users.external_id', '=', 'racer').execute();
    const stored = await server.runtime.services.accounts.readCredentials<{ grantedScopes: string[] }>(row!.id);
    assert.ok(stored.grantedScopes.includes(EVENTS), 'the stored grant is the new one');
    // … and are not used in place of the new grant by later requests in this process.
    const created = await write(upgraded, email, 'After the race');
    assert.equal(created.status, 200, JSON.stringify(created.body));
  });
});
