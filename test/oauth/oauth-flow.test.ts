/**
 * The OAuth authorization server over a real socket, on SQLite and PostgreSQL:
 * authorize → connect → code → token → refresh (rotation, reuse detection) → revoke.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { dialects } from '../support/databases.js';
import { startServer, type TestServer } from '../support/server.js';
import { authorizeAndContinue, fullTokens, startAuthorize, tokenRequest } from '../support/oauth-flow.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

for (const { dialect, skip } of await dialects()) {
  describe(`OAuth flow on ${dialect}`, { skip }, () => {
    let server: TestServer;
    let client: { clientId: string; clientSecret: string; redirectUri: string };

    before(async () => {
      server = await startServer({ dialect });
      client = await server.createClient();
    });
    after(async () => server?.close());

    test('authorize → connect → continue returns code and state to the redirect URI', async () => {
      const q = await authorizeAndContinue(server.url, { client_id: client.clientId, user_id: 'u-1', state: 'xyz 123 ✓' });
      assert.equal(q.get('state'), 'xyz 123 ✓');
      assert.match(q.get('code') ?? '', /^[A-Za-z0-9_-]{40,}$/);
    });

    test('authorize sets a signed HttpOnly SameSite=Lax oauth_req cookie and redirects to the connect page', async () => {
      const { res } = await startAuthorize(server.url, { client_id: client.clientId, user_id: 'u-1', response_type: 'code' });
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('location'), '/connect');
      const set = res.headers.getSetCookie().find((c) => c.startsWith('oauth_req='))!;
      assert.match(set, /HttpOnly/i);
      assert.match(set, /SameSite=Lax/i);
      assert.match(set, /Max-Age=7200/);
      assert.match(set, /Path=\//);
    });

    test('code exchange with a form body and body credentials; JWT claims as API.md says', async () => {
      const tokens = await fullTokens(server.url, client);
      assert.equal(tokens.token_type, 'Bearer');
      assert.equal(tokens.expires_in, 3600);
      const claims = decodeJwt(tokens.access_token);
      assert.equal(claims.sub, 'user-1');
      assert.equal(claims.aud, client.clientId);
      assert.equal(claims.projectId, client.clientId);
      assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 3600);
      const refresh = decodeJwt(tokens.refresh_token);
      assert.equal(refresh.type, 'refresh');
      assert.ok(typeof refresh.jti === 'string');
      assert.equal(refresh.exp, undefined);
      assert.equal(decodeProtectedHeader(tokens.access_token).alg, 'HS256');
    });

    test('code exchange with a JSON body and with HTTP Basic; CLIENT_ID header tolerated', async () => {
      const q1 = await authorizeAndContinue(server.url, { client_id: client.clientId, user_id: 'u-json' });
      const r1 = await tokenRequest(server.url, { grant_type: 'authorization_code', code: q1.get('code')!, client_id: client.clientId, client_secret: client.clientSecret }, { json: true });
      assert.equal(r1.status, 200);
      const q2 = await authorizeAndContinue(server.url, { client_id: client.clientId, user_id: 'u-basic' });
      const r2 = await fetch(`${server.url}/api/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`, CLIENT_ID: client.clientId },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: q2.get('code')! }).toString(),
      });
      assert.equal(r2.status, 200);
    });

    test('a code works once; a replay is refused and revokes what the first exchange issued', async () => {
      const q = await authorizeAndContinue(server.url, { client_id: client.clientId, user_id: 'u-replay' });
      const body = { grant_type: 'authorization_code', code: q.get('code')!, client_id: client.clientId, client_secret: client.clientSecret };
      const first = await tokenRequest(server.url, body);
      assert.equal(first.status, 200);
      const { access_token, refresh_token } = (await first.json()) as { access_token: string; refresh_token: string };
      assert.equal((await fetch(`${server.url}/api/oauth/connection-status`, { headers: bearer(access_token) })).status, 200);
      const replay = await tokenRequest(server.url, body);
      assert.equal(replay.status, 400);
      assert.equal(((await replay.json()) as { error: string }).error, 'invalid_grant');
      assert.equal((await fetch(`${server.url}/api/oauth/connection-status`, { headers: bearer(access_token) })).status, 401);
      const r = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token, client_id: client.clientId, client_secret: client.clientSecret });
      assert.equal(r.status, 400);
    });

    test('a code is bound to its client, redirect URI and expiry', async () => {
      const other = await server.createClient({ redirectUris: ['https://other.example/cb'] });
      const q = await authorizeAndContinue(server.url, { client_id: client.clientId, user_id: 'u-bind', redirect_uri: client.redirectUri });
      const stolen = await tokenRequest(server.url, { grant_type: 'authorization_code', code: q.get('code')!, redirect_uri: client.redirectUri, client_id: other.clientId, client_secret: other.clientSecret });
      assert.equal(stolen.status, 400);
      assert.equal(((await stolen.json()) as { error: string }).error, 'invalid_grant');

      const q2 = await authorizeAndContinue(server.url, { client_id: client.clientId, user_id: 'u-bind', redirect_uri: client.redirectUri });
      const noRedirect = await tokenRequest(server.url, { grant_type: 'authorization_code', code: q2.get('code')!, client_id: client.clientId, client_secret: client.clientSecret });
      assert.equal(noRedirect.status, 400, 'redirect_uri sent on authorize must be repeated');

      const q3 = await authorizeAndContinue(server.url, { client_id: client.clientId, user_id: 'u-bind' });
      await server.runtime.storage.db.updateTable('auth_codes').set({ expires_at: Date.now() - 1 }).where('used_at', 'is', null).execute();
      const expired = await tokenRequest(server.url, { grant_type: 'authorization_code', code: q3.get('code')!, client_id: client.clientId, client_secret: client.clientSecret });
      assert.equal(expired.status, 400);
      assert.match(((await expired.json()) as { error_description: string }).error_description, /expired/);
    });

    test('PKCE S256: the verifier is required and must match', async () => {
      const verifier = randomBytes(32).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      const params = { client_id: client.clientId, user_id: 'u-pkce', code_challenge: challenge, code_challenge_method: 'S256' };
      const base = { grant_type: 'authorization_code', client_id: client.clientId, client_secret: client.clientSecret };
      const missing = await tokenRequest(server.url, { ...base, code: (await authorizeAndContinue(server.url, params)).get('code')! });
      assert.equal(missing.status, 400);
      const wrong = await tokenRequest(server.url, { ...base, code: (await authorizeAndContinue(server.url, params)).get('code')!, code_verifier: randomBytes(32).toString('base64url') });
      assert.equal(wrong.status, 400);
      const right = await tokenRequest(server.url, { ...base, code: (await authorizeAndContinue(server.url, params)).get('code')!, code_verifier: verifier });
      assert.equal(right.status, 200);
      const plain = await startAuthorize(server.url, { ...params, code_challenge_method: 'plain', redirect_uri: client.redirectUri });
      assert.equal(plain.res.status, 302);
      assert.equal(new URL(plain.res.headers.get('location')!).searchParams.get('error'), 'invalid_request');
    });

    test('refresh rotates: new pair, same scope; a token rotated twice is refused and revokes its family', async () => {
      const tokens = await fullTokens(server.url, client, { scope: 'read', user_id: 'u-rot' });
      const creds = { client_id: client.clientId, client_secret: client.clientSecret, redirect_uri: client.redirectUri };
      const r1 = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, ...creds });
      assert.equal(r1.status, 200);
      const next = (await r1.json()) as { access_token: string; refresh_token: string };
      assert.notEqual(next.refresh_token, tokens.refresh_token);
      assert.equal(decodeJwt(next.access_token).scope, 'read');
      const r2 = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: next.refresh_token, ...creds });
      assert.equal(r2.status, 200);
      const latest = (await r2.json()) as { access_token: string; refresh_token: string };
      // Still usable before the reuse...
      assert.equal((await fetch(`${server.url}/api/oauth/connection-status`, { headers: bearer(latest.access_token) })).status, 200);
      // The first token is two rotations old: no reuse grace covers it.
      const reuse = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, ...creds });
      assert.equal(reuse.status, 400);
      assert.equal(((await reuse.json()) as { error: string }).error, 'invalid_grant');
      // ...and the whole family is gone after it.
      assert.equal((await fetch(`${server.url}/api/oauth/connection-status`, { headers: bearer(latest.access_token) })).status, 401);
      const r3 = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: latest.refresh_token, ...creds });
      assert.equal(r3.status, 400);
    });

    test('20 parallel refreshes of one refresh token: one rotation, every caller gets the same working refresh token', async () => {
      const tokens = await fullTokens(server.url, client, { user_id: 'u-race' });
      const creds = { client_id: client.clientId, client_secret: client.clientSecret };
      const results = await Promise.all(
        Array.from({ length: 20 }, () => tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, ...creds })),
      );
      assert.deepEqual(results.map((r) => r.status), new Array(20).fill(200));
      const refreshTokens = new Set(await Promise.all(results.map(async (r) => ((await r.json()) as { refresh_token: string }).refresh_token)));
      assert.equal(refreshTokens.size, 1, 'one successor for all');
      const next = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: [...refreshTokens][0]!, ...creds });
      assert.equal(next.status, 200);
    });

    test('revoke revokes every token of that user and client, always answers 200', async () => {
      const a = await fullTokens(server.url, client, { user_id: 'u-rev' });
      const b = await fullTokens(server.url, client, { user_id: 'u-rev' });
      const keep = await fullTokens(server.url, client, { user_id: 'u-other' });
      const res = await fetch(`${server.url}/api/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: a.access_token }) });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { success: true });
      for (const t of [a.access_token, b.access_token]) {
        assert.equal((await fetch(`${server.url}/api/oauth/connection-status`, { headers: bearer(t) })).status, 401);
      }
      const r = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: b.refresh_token, client_id: client.clientId, client_secret: client.clientSecret });
      assert.equal(r.status, 400);
      assert.equal((await fetch(`${server.url}/api/oauth/connection-status`, { headers: bearer(keep.access_token) })).status, 200, 'another user keeps access');
      for (const token of ['garbage', a.refresh_token, 'x'.repeat(5000)]) {
        const again = await fetch(`${server.url}/api/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString() });
        assert.equal(again.status, 200);
      }
      for (const body of ['{}', '{"token":5}', '{"token":["a"]}', '[]']) {
        const bad = await fetch(`${server.url}/api/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        assert.equal(bad.status, 400, body);
      }
    });

    test('calling authorize again for a user with tokens revokes nothing', async () => {
      const tokens = await fullTokens(server.url, client, { user_id: 'u-again' });
      await authorizeAndContinue(server.url, { client_id: client.clientId, user_id: 'u-again' });
      assert.equal((await fetch(`${server.url}/api/oauth/connection-status`, { headers: bearer(tokens.access_token) })).status, 200);
    });

    test('cancel returns error=access_denied with the state', async () => {
      const { cookie } = await startAuthorize(server.url, { client_id: client.clientId, user_id: 'u-c', state: 's1', response_type: 'code' });
      const page = await (await fetch(`${server.url}/connect`, { headers: { cookie: cookie! } })).text();
      const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
      const res = await fetch(`${server.url}/connect/cancel`, { method: 'POST', redirect: 'manual', headers: { cookie: cookie!, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${encodeURIComponent(csrf)}` });
      assert.equal(res.status, 302);
      const loc = new URL(res.headers.get('location')!);
      assert.equal(loc.origin + loc.pathname, client.redirectUri);
      assert.equal(loc.searchParams.get('error'), 'access_denied');
      assert.equal(loc.searchParams.get('state'), 's1');
    });

    test('connection-status lists every provider key and limitReached', async () => {
      const tokens = await fullTokens(server.url, client, { user_id: 'u-status' });
      const res = await fetch(`${server.url}/api/oauth/connection-status`, { headers: bearer(tokens.access_token) });
      assert.deepEqual(await res.json(), { connections: { google: [], microsoft: [], apple: [], caldav: [] }, limitReached: false });
    });

    test('logs carry no tokens, secrets or codes', async () => {
      const q = await authorizeAndContinue(server.url, { client_id: client.clientId, user_id: 'u-logs', state: 'secret-state-value' });
      const code = q.get('code')!;
      const res = await tokenRequest(server.url, { grant_type: 'authorization_code', code, client_id: client.clientId, client_secret: client.clientSecret });
      const t = (await res.json()) as { access_token: string; refresh_token: string };
      await fetch(`${server.url}/api/oauth/connection-status`, { headers: bearer(t.access_token) });
      const all = server.logs.join('');
      assert.ok(all.length > 0, 'server logged requests');
      for (const secret of [code, t.access_token, t.refresh_token, client.clientSecret, 'secret-state-value']) {
        assert.ok(!all.includes(secret), `log contains a secret: ${secret.slice(0, 12)}…`);
      }
    });
  });
}
