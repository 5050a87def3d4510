/**
 * Pushed authorization requests (RFC 9126) over a real socket, on SQLite and
 * PostgreSQL: the push with client authentication as at /token, the session it opens
 * (which may show and manage the user's existing accounts, unlike a plain one), the
 * request_uri's single use, expiry and binding to its client, every refusal of the
 * push, and clients that require pushed requests.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { encodeSession, SESSION_COOKIE } from '../../src/connect/connect-session.js';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServer, type TestServer } from '../support/server.js';
import { dialects } from '../support/databases.js';
import { postForm, startAuthorize, tokenRequest } from '../support/oauth-flow.js';
import { api, connectCaldav, continueConnect, hubOf, listedAccounts, openConnect, openPushedConnect, pushAuthorization } from '../support/connect-flow.js';

const REQUEST_URI = /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{40,}$/;

for (const { dialect, skip } of await dialects()) describe(`pushed authorization requests on ${dialect}`, { skip }, () => {
  let server: TestServer;
  let rad: RadicaleServer | undefined;
  type Client = { clientId: string; clientSecret: string; redirectUri: string };
  let client: Client;
  /** Two redirect URIs: every request has to name one. */
  let multi: Client;
  let other: Client;

  before(async () => {
    rad = RADICALE_SKIP ? undefined : await startRadicale({ users: { alice: 'alice-pw', bob: 'bob-pw' } });
    if (rad) {
      await rad.mkcalendar('alice', 'a', { displayName: 'A' });
      await rad.mkcalendar('bob', 'b', { displayName: 'B' });
    }
    server = await startServer({ dialect });
    client = await server.createClient();
    multi = await server.createClient({ redirectUris: ['https://app.example/callback', 'https://app.example/other'] });
    other = await server.createClient();
  });
  after(async () => {
    await server?.close();
    await rad?.stop();
  });

  const pushedCount = async () => (await server.runtime.storage.db.selectFrom('pushed_requests').select('request_hash').execute()).length;

  const pushRaw = (params: Record<string, string>, as = client) => pushAuthorization(server.url, as, { response_type: 'code', redirect_uri: as.redirectUri, ...params });
  async function push(params: Record<string, string>, as = client) {
    const res = await pushRaw(params, as);
    return { res, body: (await res.json()) as Record<string, unknown> };
  }

  test('201 with a one-time request_uri for HTTP Basic, body credentials and JSON bodies; nothing cacheable', async () => {
    const basic = await push({ user_id: 'u-basic' });
    assert.equal(basic.res.status, 201, JSON.stringify(basic.body));
    assert.match(String(basic.body.request_uri), REQUEST_URI);
    assert.equal(basic.body.expires_in, 60);
    assert.equal(basic.res.headers.get('cache-control'), 'no-store');

    const form = await fetch(`${server.url}/api/oauth/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: client.clientId, client_secret: client.clientSecret, user_id: 'u-body', redirect_uri: client.redirectUri }).toString(),
    });
    assert.equal(form.status, 201);
    const json = await fetch(`${server.url}/api/oauth/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: client.clientId, client_secret: client.clientSecret, user_id: 'u-json', redirect_uri: client.redirectUri }),
    });
    assert.equal(json.status, 201);
    const uris = [basic.body.request_uri, ((await form.json()) as { request_uri: string }).request_uri, ((await json.json()) as { request_uri: string }).request_uri];
    assert.equal(new Set(uris).size, 3, 'every push gets its own request_uri');
    // Stored as keyed hashes only.
    const rows = await server.runtime.storage.db.selectFrom('pushed_requests').select(['request_hash', 'params']).execute();
    for (const uri of uris) assert.ok(rows.every((r) => !r.request_hash.includes(String(uri).split(':').pop()!) && !r.params.includes(String(uri))));
  });

  test('a pushed session lists and manages the user’s existing accounts; the code carries the pushed parameters', { skip: RADICALE_SKIP }, async () => {
    assert.ok(rad);
    // The user connected alice earlier through a plain request.
    const plain = await openConnect(server.url, { client_id: multi.clientId, user_id: 'pat', redirect_uri: multi.redirectUri });
    assert.equal((await connectCaldav(server.url, plain, { server_url: rad.url, username: 'alice', password: 'alice-pw' })).status, 303);
    const plainCode = (await continueConnect(server.url, plain)).get('code')!;
    const exchanged = await tokenRequest(server.url, { grant_type: 'authorization_code', code: plainCode, redirect_uri: multi.redirectUri, client_id: multi.clientId, client_secret: multi.clientSecret });
    const first = api(server.url, ((await exchanged.json()) as { access_token: string }).access_token);
    assert.deepEqual(listedAccounts(await hubOf(server.url, await openConnect(server.url, { client_id: multi.clientId, user_id: 'pat', redirect_uri: multi.redirectUri }))), [], 'a plain session shows nothing');

    const verifier = randomBytes(32).toString('base64url');
    const s = await openPushedConnect(server.url, multi, {
      user_id: 'pat', scope: 'read', state: 'pushed-state', redirect_uri: 'https://app.example/other',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', lng: 'de',
    });
    assert.deepEqual(listedAccounts(s.hub), ['alice'], 'the pushed session lists the user’s account');
    assert.match(s.hub, /lang="de"/, 'the pushed lng applies');
    assert.doesNotMatch(s.hub, /class="notice notice--info hidden-accounts"/);

    assert.equal((await connectCaldav(server.url, s, { server_url: rad.url, username: 'bob', password: 'bob-pw' })).status, 303);
    assert.deepEqual(listedAccounts(await hubOf(server.url, s)), ['alice', 'bob']);
    // Disconnecting an account the user has, in a pushed session, removes it at once.
    const gone = await postForm(`${server.url}/connect/disconnect`, s.cookie, { csrf: s.csrf, provider: 'caldav', account: 'alice' });
    assert.equal(gone.status, 303);
    assert.match(gone.headers.get('location')!, /notice=disconnected/);
    assert.deepEqual((await first.get('/api/oauth/connection-status')).body.connections.caldav, []);
    assert.deepEqual(listedAccounts(await hubOf(server.url, s)), ['bob']);

    const q = await continueConnect(server.url, s);
    assert.equal(q.get('state'), 'pushed-state');
    const res = await tokenRequest(server.url, { grant_type: 'authorization_code', code: q.get('code')!, redirect_uri: 'https://app.example/other', code_verifier: verifier, client_id: multi.clientId, client_secret: multi.clientSecret });
    assert.equal(res.status, 200, await res.clone().text());
    const tokens = (await res.json()) as { access_token: string; scope: string };
    assert.equal(tokens.scope, 'read');
    assert.equal(decodeJwt(tokens.access_token).sub, 'pat');
    const status = await api(server.url, tokens.access_token).get('/api/oauth/connection-status');
    assert.deepEqual(status.body.connections.caldav.map((c: { id: string }) => c.id), ['bob']);
  });

  test('a request_uri works once, expires, and opens only for the client that pushed it', async () => {
    const { body } = await push({ user_id: 'once' });
    const requestUri = String(body.request_uri);
    const open = (clientId: string, accept?: string) =>
      fetch(`${server.url}/api/oauth/authorize?${new URLSearchParams({ client_id: clientId, request_uri: requestUri })}`, { redirect: 'manual', headers: accept ? { accept } : {} });

    const foreign = await open(other.clientId, 'application/json');
    assert.equal(foreign.status, 400);
    assert.deepEqual(await foreign.json(), { error: 'invalid_request', message: 'request_uri is unknown, or was pushed by another client' });
    const first = await open(client.clientId);
    assert.equal(first.status, 302, 'another client’s attempt did not use it up');
    assert.equal(first.headers.get('location'), '/connect');
    const again = await open(client.clientId);
    assert.equal(again.status, 400);
    assert.match(again.headers.get('content-type') ?? '', /text\/html/, 'a person sees a page');
    assert.equal(again.headers.get('set-cookie'), null, 'no session');
    const againJson = await open(client.clientId, 'application/json');
    assert.match(((await againJson.json()) as { message: string }).message, /already been used/);

    const late = await push({ user_id: 'late' });
    await server.runtime.storage.db.updateTable('pushed_requests').set({ expires_at: Date.now() - 1 }).execute();
    const expired = await fetch(`${server.url}/api/oauth/authorize?${new URLSearchParams({ client_id: client.clientId, request_uri: String(late.body.request_uri) })}`, { redirect: 'manual', headers: { accept: 'application/json' } });
    assert.equal(expired.status, 400);
    assert.match(((await expired.json()) as { message: string }).message, /expired/);
    const made = await fetch(`${server.url}/api/oauth/authorize?${new URLSearchParams({ client_id: client.clientId, request_uri: 'urn:ietf:params:oauth:request_uri:made-up' })}`, { redirect: 'manual' });
    assert.equal(made.status, 400);
    // Expired requests are swept.
    await server.runtime.services.housekeeping.sweep();
    assert.equal(await pushedCount(), 0);
  });

  test('a push takes what authorize takes from the official SDKs: scope=calendar, providers repeated or comma-separated', async () => {
    const res = await fetch(`${server.url}/api/oauth/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` },
      body: 'user_id=sdk-forms&scope=calendar&providers=caldav&providers=apple,google',
    });
    assert.equal(res.status, 201, await res.clone().text());
    const s = await fetch(`${server.url}/api/oauth/authorize?${new URLSearchParams({ client_id: client.clientId, request_uri: ((await res.json()) as { request_uri: string }).request_uri })}`, { redirect: 'manual' });
    const cookie = s.headers.getSetCookie().find((c) => c.startsWith('oauth_req='))!.split(';')[0]!;
    const hub = await (await fetch(`${server.url}/connect`, { headers: { cookie } })).text();
    assert.match(hub, /href="\/connect\/caldav"/);
    assert.match(hub, /href="\/connect\/icloud"/);
    const q = await continueConnect(server.url, { cookie, csrf: /name="csrf" value="([^"]+)"/.exec(hub)![1]! });
    const tokens = await tokenRequest(server.url, { grant_type: 'authorization_code', code: q.get('code')!, client_id: client.clientId, client_secret: client.clientSecret });
    assert.equal(((await tokens.json()) as { scope: string }).scope, 'read-write', 'calendar means read-write');
  });

  test('every refusal of a push is an RFC 6749 error body, and nothing is stored', async () => {
    const before = await pushedCount();
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    const raw = (body: string, headers: Record<string, string>) => fetch(`${server.url}/api/oauth/par`, { method: 'POST', headers, body });
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const ok = { user_id: 'u', redirect_uri: client.redirectUri };
    const cases: [string, () => Promise<Response>, number, string, RegExp?][] = [
      ['no client authentication', () => raw(new URLSearchParams(ok).toString(), form), 400, 'invalid_request', /client_id/],
      ['client_id without a secret', () => raw(new URLSearchParams({ ...ok, client_id: client.clientId }).toString(), form), 400, 'invalid_client'],
      ['wrong secret (Basic)', () => raw(new URLSearchParams(ok).toString(), { ...form, authorization: basic(client.clientId, 'wrong') }), 401, 'invalid_client'],
      ['wrong secret (body)', () => raw(new URLSearchParams({ ...ok, client_id: client.clientId, client_secret: 'wrong' }).toString(), form), 400, 'invalid_client'],
      ['unknown client (Basic)', () => raw(new URLSearchParams(ok).toString(), { ...form, authorization: basic('alm_nobody', 'x') }), 401, 'invalid_client'],
      ['malformed Basic header', () => raw(new URLSearchParams(ok).toString(), { ...form, authorization: 'Basic !!!' }), 401, 'invalid_client'],
      ['unknown scope', () => pushRaw({ user_id: 'u', scope: 'admin' }), 400, 'invalid_scope'],
      ['providers repeated too often', () => raw(`user_id=u&${'providers=caldav&'.repeat(21)}`, { ...form, authorization: basic(client.clientId, client.clientSecret) }), 400, 'invalid_request', /repeated more than/],
      ['unregistered redirect_uri', () => pushRaw({ user_id: 'u', redirect_uri: 'https://evil.example/cb' }), 400, 'invalid_request', /redirect_uri/],
      ['several redirect URIs and none chosen', () => pushAuthorization(server.url, multi, { user_id: 'u' }), 400, 'invalid_request', /redirect_uri is required/],
      ['missing user_id', () => pushRaw({}), 400, 'invalid_request', /user_id/],
      ['user_id too long', () => pushRaw({ user_id: 'x'.repeat(300) }), 400, 'invalid_request'],
      ['response_type=token', () => pushRaw({ user_id: 'u', response_type: 'token' }), 400, 'unsupported_response_type'],
      ['a request_uri inside the push', () => pushRaw({ user_id: 'u', request_uri: 'urn:ietf:params:oauth:request_uri:x' }), 400, 'invalid_request', /request_uri/],
      ['plain PKCE method', () => pushRaw({ user_id: 'u', code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }), 400, 'invalid_request'],
      ['unknown providers only', () => pushRaw({ user_id: 'u', providers: 'aol' }), 400, 'invalid_request'],
      ['a repeated parameter', () => raw(`user_id=a&user_id=b&redirect_uri=${encodeURIComponent(client.redirectUri)}`, { ...form, authorization: basic(client.clientId, client.clientSecret) }), 400, 'invalid_request', /repeated/],
      ['a JSON array body', () => raw(JSON.stringify([ok]), { 'content-type': 'application/json', authorization: basic(client.clientId, client.clientSecret) }), 400, 'invalid_request'],
      ['malformed JSON', () => raw('{"user_id":', { 'content-type': 'application/json', authorization: basic(client.clientId, client.clientSecret) }), 400, 'invalid_request'],
      ['an unsupported content type', () => raw('user_id=u', { 'content-type': 'text/plain', authorization: basic(client.clientId, client.clientSecret) }), 400, 'invalid_request'],
    ];
    for (const [name, call, status, error, description] of cases) {
      const res = await call();
      const body = (await res.json()) as { error: string; error_description: string };
      assert.equal(res.status, status, `${name}: ${JSON.stringify(body)}`);
      assert.equal(body.error, error, name);
      assert.ok(body.error_description, `${name} explains itself`);
      if (description) assert.match(body.error_description, description, name);
      if (status === 401) assert.match(res.headers.get('www-authenticate') ?? '', /^Basic/, name);
    }
    assert.equal(await pushedCount(), before);
  });

  test('a client that requires pushed requests: a plain authorize URL goes back with a clear error; a pushed one works', async () => {
    const strict = await server.createClient();
    await server.runtime.services.clients.update(strict.clientId, { requirePar: true });
    const { res, cookie } = await startAuthorize(server.url, { client_id: strict.clientId, user_id: 'victim', response_type: 'code', state: 'st' });
    assert.equal(res.status, 302);
    assert.equal(cookie, undefined, 'no session');
    const back = new URL(res.headers.get('location')!);
    assert.equal(`${back.origin}${back.pathname}`, strict.redirectUri);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    assert.match(back.searchParams.get('error_description')!, /requires pushed authorization requests.*\/api\/oauth\/par/);
    assert.equal(back.searchParams.get('state'), 'st');
    // An unregistered redirect URI is still never redirected to.
    const evil = await startAuthorize(server.url, { client_id: strict.clientId, user_id: 'victim', redirect_uri: 'https://evil.example/cb' });
    assert.equal(evil.res.status, 400);

    const s = await openPushedConnect(server.url, strict, { user_id: 'victim', redirect_uri: strict.redirectUri });
    const q = await continueConnect(server.url, s);
    assert.ok(q.get('code'));
    await server.runtime.services.clients.update(strict.clientId, { requirePar: false });
    assert.equal((await startAuthorize(server.url, { client_id: strict.clientId, user_id: 'victim' })).res.status, 302);
    assert.equal((await startAuthorize(server.url, { client_id: strict.clientId, user_id: 'victim' })).res.headers.get('location'), '/connect');
  });

  test('an expired pushed session cannot be restarted from the page: it offers the way back to the application', async () => {
    const value = encodeSession(server.runtime.keys.cookies, {
      sid: 'expired-pushed', clientId: client.clientId, userId: 'x', externalUserId: 'pat', scope: 'read-write',
      redirectUri: client.redirectUri, redirectUriExplicit: true, state: 'st', pushed: true, iat: Date.now() - 3 * 3600_000,
    });
    const page = await fetch(`${server.url}/connect`, { headers: { cookie: `${SESSION_COOKIE}=${value}` } });
    assert.equal(page.status, 401);
    const html = await page.text();
    assert.doesNotMatch(html, /\/api\/oauth\/authorize/, 'no restart link: a pushed request works once');
    assert.match(html, /href="https:\/\/app\.example\/callback\?error=access_denied&amp;error_description=[^"]*&amp;state=st"/);
  });
});
