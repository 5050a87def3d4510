/** Hostile and malformed input on every OAuth endpoint: clear 4xx, never 500, nothing lost. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, decodeJwt, UnsecuredJWT } from 'jose';
import { dialects } from '../support/databases.js';
import { startServer, type TestServer } from '../support/server.js';
import { fullTokens, startAuthorize, tokenRequest } from '../support/oauth-flow.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

for (const { dialect, skip } of await dialects()) {
  describe(`OAuth bad input on ${dialect}`, { skip }, () => {
    let server: TestServer;
    let client: { clientId: string; clientSecret: string; redirectUri: string };
    let good: { access_token: string; refresh_token: string };

    before(async () => {
      server = await startServer({ dialect });
      client = await server.createClient({ redirectUris: ['https://app.example/callback', 'https://app.example/other?x=1'] });
      good = await fullTokens(server.url, client, { user_id: 'victim', redirect_uri: client.redirectUri });
    });
    after(async () => server?.close());

    const status = async (token: string) => (await fetch(`${server.url}/api/oauth/connection-status`, { headers: bearer(token) })).status;

    test('authorize: unknown or missing client_id → error page, JSON 401 for API clients, never a redirect', async () => {
      const html = await startAuthorize(server.url, { client_id: 'nope', user_id: 'u', redirect_uri: 'https://evil.example/' });
      assert.equal(html.res.status, 401);
      assert.equal(html.res.headers.get('location'), null);
      assert.match(html.res.headers.get('content-type') ?? '', /text\/html/);
      const json = await fetch(`${server.url}/api/oauth/authorize?client_id=nope&user_id=u`, { headers: { accept: 'application/json' }, redirect: 'manual' });
      assert.equal(json.status, 401);
      assert.equal(((await json.json()) as { error: string }).error, 'invalid_client');
      const missing = await startAuthorize(server.url, { user_id: 'u' });
      assert.equal(missing.res.status, 400);
    });

    test('authorize: open-redirect attempts on redirect_uri are refused on the page', async () => {
      for (const redirect_uri of [
        'https://evil.example/callback',
        'https://app.example/callback/../evil',
        'https://app.example/callback?x=1',
        'https://APP.example/callback',
        'https://app.example/callback#frag',
        'https://app.example.evil.example/callback',
        'https://app.example@evil.example/callback',
        'javascript:alert(1)',
        '//evil.example/callback',
        'https://app.example/callbacK',
      ]) {
        const { res } = await startAuthorize(server.url, { client_id: client.clientId, user_id: 'u', redirect_uri });
        assert.equal(res.status, 400, redirect_uri);
        assert.equal(res.headers.get('location'), null, redirect_uri);
      }
      // Several registered URIs: one must be named.
      const none = await startAuthorize(server.url, { client_id: client.clientId, user_id: 'u' });
      assert.equal(none.res.status, 400);
      // A registered URI with its own query keeps it.
      const ok = await startAuthorize(server.url, { client_id: client.clientId, user_id: 'u', redirect_uri: 'https://app.example/other?x=1', scope: 'bogus' });
      const loc = new URL(ok.res.headers.get('location')!);
      assert.equal(loc.searchParams.get('x'), '1');
      assert.equal(loc.searchParams.get('error'), 'invalid_scope');
    });

    test('authorize: bad parameters after a good redirect_uri go back as ?error=', async () => {
      const cases: [Record<string, string>, string][] = [
        [{ user_id: '' }, 'invalid_request'],
        [{ user_id: 'x'.repeat(300) }, 'invalid_request'],
        [{ user_id: 'u', response_type: 'token' }, 'unsupported_response_type'],
        [{ user_id: 'u', scope: 'admin' }, 'invalid_scope'],
        [{ user_id: 'u', code_challenge: 'short', code_challenge_method: 'S256' }, 'invalid_request'],
        [{ user_id: 'u', code_challenge_method: 'S256' }, 'invalid_request'],
        [{ user_id: 'u', providers: 'myspace,friendster' }, 'invalid_request'],
        [{ user_id: 'u', state: 's'.repeat(1500) }, 'invalid_request'],
      ];
      for (const [params, error] of cases) {
        const { res } = await startAuthorize(server.url, { client_id: client.clientId, redirect_uri: client.redirectUri, ...params });
        assert.equal(res.status, 302, JSON.stringify(params));
        assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), error, JSON.stringify(params));
      }
      const unicode = await startAuthorize(server.url, { client_id: client.clientId, redirect_uri: client.redirectUri, user_id: 'ユーザー👤', state: '∑' });
      assert.equal(unicode.res.status, 302);
      assert.equal(unicode.res.headers.get('location'), '/connect');
    });

    test('authorize: duplicated parameters are refused, not guessed', async () => {
      const res = await fetch(`${server.url}/api/oauth/authorize?client_id=${client.clientId}&client_id=other&user_id=u`, { redirect: 'manual' });
      assert.equal(res.status, 400);
      const res2 = await fetch(`${server.url}/api/oauth/authorize?client_id=${client.clientId}&redirect_uri=${encodeURIComponent(client.redirectUri)}&redirect_uri=https%3A%2F%2Fevil.example&user_id=u`, { redirect: 'manual' });
      assert.equal(res2.status, 400);
      assert.equal(res2.headers.get('location'), null);
    });

    test('token: missing, unsupported, duplicated and mistyped parameters', async () => {
      const creds = { client_id: client.clientId, client_secret: client.clientSecret };
      const cases: [Record<string, string> | string, number, string, string?][] = [
        [{ ...creds }, 400, 'invalid_request'],
        [{ ...creds, grant_type: 'password' }, 400, 'unsupported_grant_type'],
        [{ ...creds, grant_type: 'authorization_code' }, 400, 'invalid_request'],
        [{ ...creds, grant_type: 'refresh_token' }, 400, 'invalid_request'],
        [{ grant_type: 'authorization_code', code: 'x' }, 400, 'invalid_request'],
        [{ grant_type: 'authorization_code', code: 'x', client_id: client.clientId }, 400, 'invalid_client'],
        [{ grant_type: 'authorization_code', code: 'x', client_id: client.clientId, client_secret: 'wrong' }, 400, 'invalid_client'],
        [{ grant_type: 'authorization_code', code: 'x', client_id: 'ghost', client_secret: 'wrong' }, 400, 'invalid_client'],
        [{ ...creds, grant_type: 'authorization_code', code: 'no-such-code' }, 400, 'invalid_grant'],
        [{ ...creds, grant_type: 'authorization_code', code: 'é'.repeat(600) }, 400, 'invalid_grant'],
        [`grant_type=refresh_token&grant_type=authorization_code&client_id=${client.clientId}&client_secret=${client.clientSecret}`, 400, 'invalid_request'],
      ];
      for (const [body, code, error] of cases) {
        const res = await fetch(`${server.url}/api/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: typeof body === 'string' ? body : new URLSearchParams(body).toString(),
        });
        assert.equal(res.status, code, JSON.stringify(body));
        const json = (await res.json()) as { error: string; error_description: string };
        assert.equal(json.error, error, JSON.stringify(body));
        assert.ok(json.error_description.length > 0);
      }
      const jsonTyped = await fetch(`${server.url}/api/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...creds, grant_type: 'refresh_token', refresh_token: { $ne: null } }) });
      assert.equal(jsonTyped.status, 400);
      assert.equal(((await jsonTyped.json()) as { error: string }).error, 'invalid_request');
    });

    test('token: wrong content type, broken JSON, oversized body, bad Basic header', async () => {
      const plain = await fetch(`${server.url}/api/oauth/token`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'grant_type=refresh_token' });
      assert.ok(plain.status === 415 || plain.status === 400, String(plain.status));
      assert.equal(((await plain.json()) as { error: string }).error, 'invalid_request');
      const broken = await fetch(`${server.url}/api/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":' });
      assert.equal(broken.status, 400);
      const huge = await fetch(`${server.url}/api/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=refresh_token&refresh_token=${'a'.repeat(300_000)}` });
      assert.equal(huge.status, 413);
      const basic = await fetch(`${server.url}/api/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic !!!notbase64' }, body: 'grant_type=refresh_token&refresh_token=x' });
      assert.equal(basic.status, 401);
      assert.equal(((await basic.json()) as { error: string }).error, 'invalid_client');
      const wrongBasic = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: good.refresh_token }, { basic: [client.clientId, 'nope'] });
      assert.equal(wrongBasic.status, 401);
      assert.ok(wrongBasic.headers.get('www-authenticate'));
    });

    test('forged refresh tokens: alg none, another key, tampered claims, access token as refresh, another client', async () => {
      const claims = decodeJwt(good.refresh_token);
      const none = new UnsecuredJWT({ ...claims }).encode();
      const otherKey = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('another-key-another-key-another-key!!'));
      const [h, , s] = good.refresh_token.split('.');
      const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url')}.${s}`;
      const other = await server.createClient({ redirectUris: ['https://other.example/cb'] });
      const creds = { client_id: client.clientId, client_secret: client.clientSecret };
      for (const refresh_token of [none, otherKey, tampered, good.access_token, 'a.b.c', '']) {
        const res = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token, ...creds });
        assert.equal(res.status, 400);
      }
      const foreign = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: good.refresh_token, client_id: other.clientId, client_secret: other.clientSecret });
      assert.equal(foreign.status, 400);
      assert.equal(((await foreign.json()) as { error: string }).error, 'invalid_grant');
    });

    test('forged access tokens on the API: alg none, another key, expired, refresh token, malformed header', async () => {
      const claims = decodeJwt(good.access_token);
      const none = new UnsecuredJWT({ ...claims }).encode();
      const otherKey = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).sign(new TextEncoder().encode('another-key-another-key-another-key!!'));
      const [h, , s] = good.access_token.split('.');
      const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: 'read-write', sub: 'someone-else' })).toString('base64url')}.${s}`;
      const hs512 = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode('x'.repeat(64)));
      for (const token of [none, otherKey, tampered, hs512, good.refresh_token, 'x'.repeat(10_000), 'ÿé.ü.ß']) {
        const res = await fetch(`${server.url}/api/oauth/connection-status`, { headers: bearer(token) });
        assert.equal(res.status, 401, token.slice(0, 20));
        const body = (await res.json()) as { error: string; message: string };
        assert.equal(body.error, 'Unauthorized');
        assert.ok(body.message);
      }
      for (const header of ['', 'Bearer', 'Basic abc', `Bearer ${good.access_token} extra`, `bearer  ${good.access_token}x`]) {
        const res = await fetch(`${server.url}/api/oauth/connection-status`, { headers: header ? { authorization: header } : {} });
        assert.equal(res.status, 401, header.slice(0, 20));
      }
      // An authentic but expired token: re-signed would need the key, so age it by the clock instead.
      const { TokenSigner } = await import('../../src/oauth/token-signer.js');
      const { deriveKeys } = await import('../../src/crypto/keys.js');
      const { TEST_SECRET } = await import('../support/server.js');
      const signer = new TokenSigner(deriveKeys(TEST_SECRET).jwt, server.runtime.config.publicUrl);
      const expired = await signer.signAccess({ sub: 'victim', clientId: client.clientId, scope: 'read-write', familyId: String(claims.fid) }, Date.now() - 2 * 3600_000);
      const res = await fetch(`${server.url}/api/oauth/connection-status`, { headers: bearer(expired) });
      assert.equal(res.status, 401);
      assert.match(((await res.json()) as { message: string }).message, /expired/);
    });

    test('after all of that the victim’s tokens still work: nothing stored was lost or changed', async () => {
      assert.equal(await status(good.access_token), 200);
      const r = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: good.refresh_token, client_id: client.clientId, client_secret: client.clientSecret });
      assert.equal(r.status, 200);
    });

    test('no endpoint answers 500 to garbage', async () => {
      const probes: [string, RequestInit][] = [
        ['/api/oauth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'null' }],
        ['/api/oauth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '"string"' }],
        ['/api/oauth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1,2]' }],
        ['/api/oauth/token', { method: 'POST' }],
        ['/api/oauth/revoke', { method: 'POST' }],
        ['/api/oauth/revoke', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '\u0000' }],
        ['/api/oauth/disconnect', { method: 'POST', headers: bearer(good.access_token) }],
        ['/api/oauth/disconnect?provider=aol', { method: 'POST', headers: bearer(good.access_token) }],
        ['/api/oauth/disconnect?provider=caldav&provider=google', { method: 'POST', headers: bearer(good.access_token) }],
        ['/connect', { method: 'GET', headers: { cookie: 'oauth_req=forged.value' } }],
        ['/connect/continue', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: 'oauth_req=x' }, body: 'csrf=1' }],
        ['/api/nothing-here', { method: 'GET' }],
      ];
      for (const [path, init] of probes) {
        const res = await fetch(`${server.url}${path}`, { ...init, redirect: 'manual' });
        assert.ok(res.status >= 400 && res.status < 500, `${path} → ${res.status}`);
      }
    });

    test('connect forms refuse a missing or wrong CSRF token', async () => {
      const { cookie } = await startAuthorize(server.url, { client_id: client.clientId, user_id: 'u-csrf', redirect_uri: client.redirectUri });
      for (const body of ['', 'csrf=wrong', 'csrf=']) {
        const res = await fetch(`${server.url}/connect/continue`, { method: 'POST', redirect: 'manual', headers: { cookie: cookie!, 'content-type': 'application/x-www-form-urlencoded' }, body });
        assert.equal(res.status, 403, body);
        assert.equal(res.headers.get('location'), null);
      }
    });
  });
}
