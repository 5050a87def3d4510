/**
 * Two Almanac instances on one database serving one Google account whose access token
 * has expired, against the emulator with rotating refresh tokens (each refresh issues a
 * new refresh token and refuses the old one, as Microsoft documents): requests on both
 * at once cause one refresh at the provider, all succeed, and the refresh token stored
 * is the one the provider still accepts. On PostgreSQL the instances are separate
 * processes, and an instance killed while it holds the refresh lease leaves a lease
 * that runs out, after which the other one refreshes. On SQLite (one machine) they are
 * two apps in this process on separate storage handles of the same database file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { loadConfig } from '../../src/config/config.js';
import type { StoredOAuthCredentials } from '../../src/providers/build-registry.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/google-emulator.js';
import { api, finishConnect, openConnect } from '../support/connect-flow.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/databases.js';
import { connectGoogle, googleEnv } from '../support/google-connect.js';
import { startServer, TEST_SECRET, type TestServer } from '../support/server.js';
import { freePort, startChild } from '../support/spawn-server.js';

type Api = ReturnType<typeof api>;

const PROVIDER_TIMEOUT_MS = 1000;
/** build-registry: the refresh lease lasts the provider timeout plus a 5 s margin. */
const LEASE_MS = PROVIDER_TIMEOUT_MS + 5_000;

for (const { dialect, skip } of await dialects()) describe(`two instances refreshing one rotating Google token (${dialect})`, { skip }, () => {
  let emulator: GoogleEmulator;
  let db: TestDatabase;
  /** Where the instances listen. */
  const urls: string[] = [];
  const children: ChildProcess[] = [];
  const servers: TestServer[] = [];
  /** For setup and for looking inside the shared database (an API-only instance that serves nothing). */
  let admin: Runtime;
  let client: { clientId: string; clientSecret: string };
  let n = 0;

  /** Behind one public URL (as behind a load balancer): tokens one instance issues are accepted by the other. */
  let publicPort: number;
  async function childEnv(port?: number): Promise<Record<string, string>> {
    return {
      ...db.env,
      ...googleEnv(emulator, { ALMANAC_PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS) }),
      PORT: String(port ?? (await freePort())),
      HOST: '127.0.0.1',
      ALMANAC_PUBLIC_URL: `http://127.0.0.1:${publicPort}`,
      ALMANAC_SECRET_KEY: TEST_SECRET,
      ALMANAC_DEMO_CLIENT: 'false',
      ALMANAC_ALLOW_PRIVATE_NETWORKS: 'true',
      LOG_LEVEL: 'warn',
    };
  }

  before(async () => {
    emulator = await startGoogleEmulator({ rotateRefreshTokens: true });
    db = await createTestDatabase(dialect);
    publicPort = await freePort();
    if (dialect === 'postgres') {
      for (let i = 0; i < 2; i++) {
        const started = await startChild(await childEnv(i === 0 ? publicPort : undefined));
        children.push(started.child);
        urls.push(started.url);
      }
      admin = await createRuntime(loadConfig({ ...(await childEnv()), ALMANAC_ROLE: 'api' }));
    } else {
      const env = googleEnv(emulator, { ALMANAC_PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS) });
      servers.push(await startServer({ db, env, port: publicPort }));
      servers.push(await startServer({ db, env: { ...env, ALMANAC_PUBLIC_URL: `http://127.0.0.1:${publicPort}` } }));
      urls.push(...servers.map((s) => s.url));
      admin = servers[0]!.runtime;
    }
    const created = await admin.services.clients.create({ name: 'scale-out', redirectUris: ['https://app.example/callback'] });
    client = { clientId: created.client.clientId, clientSecret: created.clientSecret };
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const server of servers) await server.close();
    if (dialect === 'postgres') await admin?.close();
    await db?.drop();
    await emulator?.close();
  });

  /** A new user with a Google account (connected through the first instance) and API clients for both instances. */
  async function connectUser(): Promise<{ email: string; accountId: string; on: Api[] }> {
    const email = `user${++n}@example.com`;
    const userId = `u${n}`;
    emulator.setConsent({ action: 'grant-all' }, email);
    const s = await openConnect(urls[0]!, { client_id: client.clientId, user_id: userId });
    const cb = await connectGoogle({ url: urls[0]! }, s);
    assert.equal(cb.status, 303, await cb.text());
    const { access_token } = await finishConnect(urls[0]!, s, client);
    const row = await admin.storage.db
      .selectFrom('accounts')
      .innerJoin('end_users', 'end_users.id', 'accounts.user_id')
      .select('accounts.id')
      .where('end_users.external_id', '=', userId)
      .executeTakeFirstOrThrow();
    return { email, accountId: row.id, on: urls.map((url) => api(url, access_token)) };
  }

  /** The stored access token expires, and Google stops accepting it. */
  async function expire(account: { email: string; accountId: string }): Promise<void> {
    const stored = await admin.services.accounts.readCredentials<StoredOAuthCredentials>(account.accountId);
    await admin.services.accounts.writeCredentials(account.accountId, { ...stored, expiresAt: Date.now() - 1000 });
    emulator.accounts.expireAccessTokensFor(account.email);
  }

  const refreshes = (): number => emulator.stats.tokenRequests.refresh_token ?? 0;
  const stored = (accountId: string) => admin.services.accounts.readCredentials<StoredOAuthCredentials>(accountId);

  test('requests on both instances at once: one refresh at the provider, every request served, the newest refresh token stored', async () => {
    const account = await connectUser();
    const connected = await stored(account.accountId);
    await expire(account);
    const before = refreshes();
    // A slow token endpoint keeps the first refresh open while every other request arrives.
    emulator.knobs.tokenDelayMs = 300;
    try {
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => account.on[i % 2]!.get('/api/calendars')));
      assert.deepEqual(results.map((r) => r.status), Array(16).fill(200), JSON.stringify(results.find((r) => r.status !== 200)?.body));
    } finally {
      emulator.knobs.tokenDelayMs = 0;
    }
    assert.equal(refreshes() - before, 1, 'exactly one refresh reached the provider');
    const after = await stored(account.accountId);
    assert.notEqual(after.refreshToken, connected.refreshToken, 'the provider rotated the refresh token');
    assert.deepEqual(emulator.accounts.liveRefreshTokens(account.email), [after.refreshToken], 'the stored refresh token is the one the provider still accepts');
    assert.ok(emulator.accounts.grantOfAccessToken(after.accessToken), 'the stored access token works');
    // Both instances go on with the stored tokens: no refresh, no failure.
    const again = await Promise.all(account.on.map((a) => a.get('/api/calendars')));
    assert.deepEqual(again.map((r) => r.status), [200, 200]);
    assert.equal(refreshes() - before, 1);
  });

  test('an instance killed while it holds the refresh lease: its lease runs out and the other instance refreshes', { skip: dialect === 'sqlite' && 'needs a second process to kill (PostgreSQL run)' }, async () => {
    const account = await connectUser();
    await expire(account);
    const before = refreshes();
    // The first instance's refresh never reaches Google: it waits at the door until that instance is dead.
    const hold = emulator.holdRequests({ count: 1, path: '/token' });
    const doomed = account.on[0]!.get('/api/calendars').catch((error: unknown) => error);
    await hold.untilWaiting(1);
    const lease = await admin.storage.db.selectFrom('accounts').select(['refresh_lease_owner', 'refresh_lease_until']).where('id', '=', account.accountId).executeTakeFirstOrThrow();
    assert.ok(lease.refresh_lease_owner, 'the first instance holds the refresh lease');
    children[0]!.kill('SIGKILL');
    await new Promise((r) => children[0]!.once('exit', r));
    assert.ok((await doomed) instanceof Error, 'the killed instance never answered');

    const started = Date.now();
    const res = await account.on[1]!.get('/api/calendars');
    const waited = Date.now() - started;
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(waited < LEASE_MS + 3_000, `served once the lease ran out (${waited} ms)`);
    assert.ok(Date.now() >= lease.refresh_lease_until!, 'not before the dead holder’s lease ended');
    assert.equal(refreshes() - before, 1, 'one refresh reached the provider: the surviving instance’s');
    const after = await stored(account.accountId);
    assert.deepEqual(emulator.accounts.liveRefreshTokens(account.email), [after.refreshToken]);
    hold.release();
  });
});
