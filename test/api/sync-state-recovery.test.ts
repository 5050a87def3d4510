/**
 * syncState follows the provider: a CalDAV server that refuses the stored password
 * marks the account reauth_required, and the first successful call after it recovers
 * (the password was fixed on the server's side) marks it ok again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, connectCaldav, finishConnect, openConnect } from '../support/connect-flow.js';
import { dialects } from '../support/databases.js';
import { basic, multistatus, props, send207, startFakeDav, type FakeDav } from '../support/fake-dav.js';
import { startServer, type TestServer } from '../support/server.js';

for (const { dialect, skip } of await dialects()) describe(`syncState recovery on ${dialect}`, { skip }, () => {
  let server: TestServer;
  let dav: FakeDav;
  let a: ReturnType<typeof api>;
  let refusing = false;

  before(async () => {
    dav = await startFakeDav((req, res) => {
      if (refusing || req.authorization !== basic('u', 'pw')) return void res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end();
      const path = new URL(req.path, 'http://x').pathname;
      if (path === '/home/' && req.body.includes('displayname')) {
        return send207(res, multistatus([{ href: '/home/', props: props.collection }, { href: '/home/work/', props: props.calendar('Work') }]));
      }
      send207(res, multistatus([{ href: path, props: props.principal('/home/') + props.home('/home/') + props.collection }]));
    });
    server = await startServer({ dialect });
    const client = await server.createClient();
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'flaky' });
    assert.equal((await connectCaldav(server.url, s, { server_url: dav.url, username: 'u', password: 'pw' })).status, 303);
    a = api(server.url, (await finishConnect(server.url, s, client)).access_token);
  });
  after(async () => {
    await server?.close();
    await dav?.close();
  });

  const syncState = async (): Promise<string> => (await a.get('/api/oauth/connection-status')).body.connections.caldav[0].syncState;

  test('reauth_required while the server refuses, ok again once a call succeeds', async () => {
    assert.equal(await syncState(), 'ok');
    refusing = true;
    assert.equal((await a.get('/api/calendars')).status, 502);
    assert.equal(await syncState(), 'reauth_required');
    refusing = false;
    const res = await a.get('/api/calendars');
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 1);
    assert.equal(await syncState(), 'ok');
  });

  test('stored credentials of the wrong shape ask for a reconnect (502 reauth_required), never a 500', async () => {
    const [row] = await server.runtime.storage.db.selectFrom('accounts').select('id').execute();
    const good = await server.runtime.services.accounts.readCredentials<Record<string, unknown>>(row!.id);
    try {
      for (const damaged of [{ ...good, password: 42 }, { serverUrl: dav.url }, ['not', 'an', 'object'], 'text']) {
        await server.runtime.services.accounts.writeCredentials(row!.id, damaged);
        const res = await a.get('/api/calendars');
        assert.equal(res.status, 502, JSON.stringify(damaged));
        assert.equal(res.body.error, 'reauth_required');
        assert.match(res.body.message, /unreadable/);
        assert.doesNotMatch(JSON.stringify(res.body), /pw/);
      }
    } finally {
      await server.runtime.services.accounts.writeCredentials(row!.id, good);
    }
    assert.equal((await a.get('/api/calendars')).status, 200);
  });
});
