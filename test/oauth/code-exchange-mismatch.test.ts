/**
 * An authorization code is used up only by the client it was issued to, at its
 * redirect_uri: another client's (or a wrong redirect_uri's) attempt fails without
 * spending it or revoking anything, and a replay by the right client still revokes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { authorizeAndContinue, tokenRequest } from '../support/oauth-flow.js';
import { dialects } from '../support/databases.js';
import { startServer, type TestServer } from '../support/server.js';

for (const { dialect, skip } of await dialects()) describe(`code exchange by the wrong party on ${dialect}`, { skip }, () => {
  let server: TestServer;
  let owner: { clientId: string; clientSecret: string; redirectUri: string };
  let stranger: { clientId: string; clientSecret: string };

  before(async () => {
    server = await startServer({ dialect });
    owner = await server.createClient({ redirectUris: ['https://app.example/cb', 'https://app.example/other'] });
    stranger = await server.createClient();
  });
  after(() => server?.close());

  const exchange = (code: string, who: { clientId: string; clientSecret: string }, extra: Record<string, string> = {}) =>
    tokenRequest(server.url, { grant_type: 'authorization_code', code, client_id: who.clientId, client_secret: who.clientSecret, ...extra });
  const apiStatus = async (token: string) => (await fetch(`${server.url}/api/oauth/connection-status`, { headers: { authorization: `Bearer ${token}` } })).status;

  test('another client or a wrong redirect_uri do not use the code up', async () => {
    const q = await authorizeAndContinue(server.url, { client_id: owner.clientId, user_id: 'u-1', redirect_uri: 'https://app.example/cb' });
    const code = q.get('code')!;
    const byStranger = await exchange(code, stranger);
    assert.equal(byStranger.status, 400);
    assert.equal(((await byStranger.json()) as { error: string }).error, 'invalid_grant');
    assert.equal((await exchange(code, owner, { redirect_uri: 'https://app.example/other' })).status, 400);
    assert.equal((await exchange(code, owner)).status, 400, 'redirect_uri was sent on authorize, so it must be repeated');

    const ok = await exchange(code, owner, { redirect_uri: 'https://app.example/cb' });
    assert.equal(ok.status, 200, await ok.clone().text());
    const tokens = (await ok.json()) as { access_token: string };
    assert.equal(await apiStatus(tokens.access_token), 200);

    // A stranger presenting the used code cannot revoke the owner's tokens…
    assert.equal((await exchange(code, stranger)).status, 400);
    assert.equal(await apiStatus(tokens.access_token), 200);
    // …the owner's own replay still does.
    assert.equal((await exchange(code, owner, { redirect_uri: 'https://app.example/cb' })).status, 400);
    assert.equal(await apiStatus(tokens.access_token), 401);
  });
});
