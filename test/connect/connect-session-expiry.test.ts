/**
 * After 2 hours the browser drops oauth_req (Max-Age=7200, API.md); the longer-lived
 * restart cookie still lets the page explain what expired and start the flow again,
 * and it can never stand in for a live session.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../support/server.js';
import { csrfFrom, postForm, startAuthorize } from '../support/oauth-flow.js';

function cookiesOf(res: Response): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const eq = pair!.indexOf('=');
    out.set(pair!.slice(0, eq), c);
  }
  return out;
}

describe('connect session expiry', () => {
  let server: TestServer;
  let client: { clientId: string; redirectUri: string };
  before(async () => {
    server = await startServer();
    client = await server.createClient();
  });
  after(async () => server?.close());

  test('authorize sets both cookies; only the restart one outlives two hours', async () => {
    const { res } = await startAuthorize(server.url, { client_id: client.clientId, user_id: 'u', response_type: 'code' });
    const cookies = cookiesOf(res);
    assert.match(cookies.get('oauth_req')!, /Max-Age=7200/);
    assert.match(cookies.get('oauth_req_restart')!, /Max-Age=604800/);
    assert.match(cookies.get('oauth_req_restart')!, /Path=\/connect/);
    assert.match(cookies.get('oauth_req_restart')!, /HttpOnly/);
  });

  test('with oauth_req gone, the page says the request expired and offers a restart that works', async () => {
    const { res } = await startAuthorize(server.url, { client_id: client.clientId, user_id: 'late', response_type: 'code', state: 'st', lng: 'fr' });
    const restart = cookiesOf(res).get('oauth_req_restart')!.split(';')[0]!;
    const page = await fetch(`${server.url}/connect`, { headers: { cookie: restart } });
    assert.equal(page.status, 401);
    const html = await page.text();
    assert.match(html, /lang="fr"/);
    const href = /href="(\/api\/oauth\/authorize\?[^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
    assert.ok(href, 'a restart link');
    const again = await fetch(`${server.url}${href}`, { redirect: 'manual' });
    assert.equal(again.status, 302);
    assert.equal(again.headers.get('location'), '/connect');
    assert.equal(new URL(href, server.url).searchParams.get('state'), 'st');
  });

  test('the restart cookie is not a session: used as oauth_req it is refused', async () => {
    const { res } = await startAuthorize(server.url, { client_id: client.clientId, user_id: 'swap', response_type: 'code' });
    const value = cookiesOf(res).get('oauth_req_restart')!.split(';')[0]!.split('=')[1]!;
    const page = await fetch(`${server.url}/connect`, { headers: { cookie: `oauth_req=${value}` } });
    assert.equal(page.status, 400);
    const cont = await postForm(`${server.url}/connect/continue`, `oauth_req=${value}`, { csrf: 'x' });
    assert.equal(cont.status, 400);
    assert.equal(cont.headers.get('location'), null);
  });

  test('Continue clears both cookies', async () => {
    const { cookie, res } = await startAuthorize(server.url, { client_id: client.clientId, user_id: 'done', response_type: 'code' });
    const restart = cookiesOf(res).get('oauth_req_restart')!.split(';')[0]!;
    const jar = `${cookie}; ${restart}`;
    const csrf = csrfFrom(await (await fetch(`${server.url}/connect`, { headers: { cookie: jar } })).text());
    const done = await postForm(`${server.url}/connect/continue`, jar, { csrf });
    assert.equal(done.status, 302);
    const cleared = cookiesOf(done);
    for (const name of ['oauth_req', 'oauth_req_restart']) assert.match(cleared.get(name) ?? '', /Expires=Thu, 01 Jan 1970|Max-Age=0/, name);
  });
});
