/** The API rate limit counts per user of a client, so refreshing the token does not reset it. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fullTokens, tokenRequest } from '../support/oauth-flow.js';
import { startServer, type TestServer } from '../support/server.js';

describe('per-user API rate limit', () => {
  let server: TestServer;
  let client: { clientId: string; clientSecret: string };

  before(async () => {
    server = await startServer({ env: { ALMANAC_RATE_LIMIT_PER_TOKEN: '5', ALMANAC_RATE_LIMIT_WINDOW_SECONDS: '60' } });
    client = await server.createClient();
  });
  after(() => server?.close());

  const status = async (token: string): Promise<number> =>
    (await fetch(`${server.url}/api/oauth/connection-status`, { headers: { authorization: `Bearer ${token}` } })).status;

  test('a refreshed token and a second authorization share the count of the first', async () => {
    const first = await fullTokens(server.url, client, { user_id: 'busy' });
    for (let i = 0; i < 5; i++) assert.equal(await status(first.access_token), 200);
    assert.equal(await status(first.access_token), 429);

    const refreshed = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: client.clientId, client_secret: client.clientSecret });
    assert.equal(refreshed.status, 200);
    const { access_token } = (await refreshed.json()) as { access_token: string };
    assert.equal(await status(access_token), 429, 'a refresh does not reset the count');

    const again = await fullTokens(server.url, client, { user_id: 'busy' });
    assert.equal(await status(again.access_token), 429, 'nor does a new authorization of the same user');
  });

  test('another user of the same client has a count of their own', async () => {
    const other = await fullTokens(server.url, client, { user_id: 'calm' });
    assert.equal(await status(other.access_token), 200);
  });
});
