/**
 * Two Almanac instances on one database serving one Microsoft account whose access
 * token has expired, while Microsoft rotates refresh tokens and (strictly, for the test)
 * refuses each one once used: requests on both at once cause one refresh, all succeed,
 * and the refresh token stored is the one Microsoft still accepts. The instances are two
 * runtimes in this process, each with its own storage handle and in-process state.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredOAuthCredentials } from '../../src/providers/build-registry.js';
import { startMicrosoftEmulator, type MicrosoftEmulator } from '../emulators/microsoft/microsoft-emulator.js';
import { api, finishConnect, openConnect } from '../support/connect-flow.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/databases.js';
import { freePort } from '../support/spawn-server.js';
import { connectMicrosoft, microsoftEnv } from '../support/microsoft-connect.js';
import { startServer, type TestServer } from '../support/server.js';

for (const { dialect, skip } of await dialects()) describe(`two instances refreshing one rotating Microsoft token (${dialect})`, { skip }, () => {
  let ms: MicrosoftEmulator;
  let db: TestDatabase;
  const servers: TestServer[] = [];

  before(async () => {
    ms = await startMicrosoftEmulator();
    db = await createTestDatabase(dialect);
    const port = await freePort();
    const env = microsoftEnv(ms, { ALMANAC_PROVIDER_TIMEOUT_MS: '2000' });
    servers.push(await startServer({ db, env, port }));
    servers.push(await startServer({ db, env: { ...env, ALMANAC_PUBLIC_URL: `http://127.0.0.1:${port}` } }));
  });
  after(async () => {
    for (const server of servers) await server.close();
    await db?.drop();
    await ms?.close();
  });

  test('one refresh at Microsoft, every request served, the newest refresh token stored', async () => {
    const email = 'megan@contoso.onmicrosoft.com';
    ms.addUser(email);
    const [first, second] = servers as [TestServer, TestServer];
    const client = await first.createClient();
    ms.setConsent({ action: 'grant-all' }, email);
    const s = await openConnect(first.url, { client_id: client.clientId, user_id: 'megan' });
    assert.equal((await connectMicrosoft(first, s)).status, 303);
    const { access_token } = await finishConnect(first.url, s, client);
    const on = [api(first.url, access_token), api(second.url, access_token)];
    const accounts = first.runtime.services.accounts;
    const row = await first.runtime.storage.db.selectFrom('accounts').select('id').where('provider', '=', 'microsoft').executeTakeFirstOrThrow();
    const connected = await accounts.readCredentials<StoredOAuthCredentials>(row.id);
    await accounts.writeCredentials(row.id, { ...connected, expiresAt: Date.now() - 1000 });
    ms.identity.expireAccessTokens(email);
    ms.identity.strictRotation = true;
    ms.identity.tokenDelayMs = 300;
    const before = ms.identity.stats.refreshes;
    try {
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => on[i % 2]!.get('/api/calendars')));
      assert.deepEqual(results.map((r) => r.status), Array(12).fill(200), JSON.stringify(results.find((r) => r.status !== 200)?.body));
    } finally {
      ms.identity.tokenDelayMs = 0;
    }
    assert.equal(ms.identity.stats.refreshes - before, 1, 'exactly one refresh reached Microsoft');
    const stored = await accounts.readCredentials<StoredOAuthCredentials>(row.id);
    assert.notEqual(stored.refreshToken, connected.refreshToken, 'Microsoft rotated the refresh token');
    assert.deepEqual(ms.identity.liveRefreshTokens(email), [stored.refreshToken], 'the stored refresh token is the one Microsoft still accepts');
    assert.ok(ms.identity.accessTokenWorks(stored.accessToken));
    const again = await Promise.all(on.map((a) => a.get('/api/calendars')));
    assert.deepEqual(again.map((r) => r.status), [200, 200]);
    assert.equal(ms.identity.stats.refreshes - before, 1);
  });
});
