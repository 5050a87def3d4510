/**
 * The CalDAV and iCloud forms over HTTP: every refusal comes back on the same form with
 * a clear message, the username kept and the password not, and nothing is stored.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServer, type TestServer } from '../support/server.js';
import { connectCaldav, openConnect } from '../support/connect-flow.js';
import { csrfFrom, postForm } from '../support/oauth-flow.js';

describe('CalDAV connect form', { skip: RADICALE_SKIP }, () => {
  let rad: RadicaleServer;
  let server: TestServer;
  let strict: TestServer;
  let plain: Server;
  let plainUrl: string;
  let client: { clientId: string };

  before(async () => {
    rad = await startRadicale({ users: { zoe: 'right' } });
    await rad.mkcalendar('zoe', 'cal', { displayName: 'Cal' });
    server = await startServer();
    // The default: private and loopback addresses refused.
    strict = await startServer({ env: { ALMANAC_ALLOW_PRIVATE_NETWORKS: 'false' } });
    client = await server.createClient();
    plain = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>just a web site</h1>'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    plainUrl = `http://127.0.0.1:${(plain.address() as { port: number }).port}/`;
  });
  after(async () => {
    await server?.close();
    await strict?.close();
    await rad?.stop();
    plain?.close();
  });

  const accountsOf = async (s: TestServer) => (await s.runtime.storage.db.selectFrom('accounts').select('id').execute()).length;

  async function refused(target: TestServer, clientId: string, form: { server_url: string; username: string; password: string }): Promise<string> {
    const s = await openConnect(target.url, { client_id: clientId, user_id: 'form-user' });
    const before = await accountsOf(target);
    const res = await connectCaldav(target.url, s, form);
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, /role="alert"/, 'an error summary is announced');
    assert.match(html, new RegExp(`value="${form.username}"`), 'the username is kept');
    assert.doesNotMatch(html, new RegExp(`value="${form.password}"`), 'the password is not echoed');
    assert.match(html, /name="server_url"/, 'the same form');
    assert.equal(await accountsOf(target), before, 'nothing stored');
    return html;
  }

  test('wrong password', async () => {
    const html = await refused(server, client.clientId, { server_url: rad.url, username: 'zoe', password: 'wrong-one' });
    assert.match(html, /password/i);
  });

  test('unreachable server', async () => {
    const html = await refused(server, client.clientId, { server_url: 'http://127.0.0.1:9/', username: 'zoe', password: 'right' });
    assert.match(html, /reach|connect/i);
  });

  test('a web server that is not CalDAV', async () => {
    const html = await refused(server, client.clientId, { server_url: plainUrl, username: 'zoe', password: 'right' });
    assert.match(html, /CalDAV/);
  });

  test('a private address when private networks are not allowed (SSRF)', async () => {
    const c = await strict.createClient();
    for (const url of [rad.url, 'http://localhost:5232/', 'http://169.254.169.254/latest/', 'http://[::1]:5232/', 'http://10.0.0.1/']) {
      const html = await refused(strict, c.clientId, { server_url: url, username: 'zoe', password: 'right' });
      assert.match(html, /can&#39;t be used|public address/i, url);
    }
  });

  test('missing fields and a garbage URL', async () => {
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'form-user' });
    const page = await fetch(`${server.url}/connect/caldav`, { headers: { cookie: s.cookie } });
    const csrf = csrfFrom(await page.text());
    const empty = await postForm(`${server.url}/connect/caldav`, s.cookie, { csrf, server_url: '', username: '', password: '' });
    assert.equal(empty.status, 400);
    const html = await empty.text();
    for (const field of ['server_url', 'username', 'password']) assert.match(html, new RegExp(`name="${field}"[^>]*aria-invalid="true"`), field);
    const garbage = await postForm(`${server.url}/connect/caldav`, s.cookie, { csrf, server_url: 'ht!tp://x y', username: 'zoe', password: 'right' });
    assert.equal(garbage.status, 400);
    const noCsrf = await postForm(`${server.url}/connect/caldav`, s.cookie, { server_url: rad.url, username: 'zoe', password: 'right' });
    assert.equal(noCsrf.status, 403);
  });

  test('iCloud form: bad Apple ID format and missing password stay on the form', async () => {
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'form-user' });
    const page = await fetch(`${server.url}/connect/icloud`, { headers: { cookie: s.cookie } });
    const body = await page.text();
    assert.match(body, /appleid\.apple\.com/, 'help on creating an app-specific password');
    const res = await postForm(`${server.url}/connect/icloud`, s.cookie, { csrf: csrfFrom(body), apple_id: 'not-an-email', password: '' });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /value="not-an-email"/);
  });

  test('the right credentials connect and come back to the hub', async () => {
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'form-user' });
    const res = await connectCaldav(server.url, s, { server_url: rad.url, username: 'zoe', password: 'right' });
    assert.equal(res.status, 303);
    const hub = await (await fetch(`${server.url}${res.headers.get('location')}`, { headers: { cookie: s.cookie } })).text();
    assert.match(hub, /zoe/);
  });
});

describe('CalDAV connect form rate limit', () => {
  test('password attempts per IP are limited to a tenth of the per-IP budget, with a page and Retry-After', async () => {
    const server = await startServer({ env: { ALMANAC_RATE_LIMIT_PER_IP: '20' } });
    try {
      const client = await server.createClient();
      const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'guesser' });
      const page = await fetch(`${server.url}/connect/caldav`, { headers: { cookie: s.cookie } });
      const csrf = csrfFrom(await page.text());
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 3; i++) {
        last = await postForm(`${server.url}/connect/caldav`, s.cookie, { csrf, server_url: '', username: 'x', password: `guess-${i}` });
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [400, 400, 429]);
      assert.ok(Number(last!.headers.get('retry-after')) >= 1);
      assert.match(last!.headers.get('content-type') ?? '', /text\/html/);
      assert.match(await last!.text(), /<h1/);
    } finally {
      await server.close();
    }
  });
});
