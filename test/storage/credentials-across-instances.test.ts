/**
 * OAuth credentials shared by several instances, on SQLite and PostgreSQL: each
 * "instance" here has its own storage handle on the same database and its own in-process
 * state, and refreshes through the real Google OAuth client against the emulator with
 * rotating refresh tokens (a new one on every refresh, the old one refused, as Microsoft
 * documents). One refresh reaches the provider however many callers need one; the
 * newest refresh token is the one stored; a write that was overtaken loses its
 * compare-and-set; a lease whose holder died runs out and another instance refreshes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/config.js';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { openStorageMigrated } from '../../src/runtime.js';
import type { Storage } from '../../src/storage/db.js';
import { AccountsRepository } from '../../src/storage/repositories/accounts.repo.js';
import { ClientsRepository } from '../../src/storage/repositories/clients.repo.js';
import { EndUsersRepository } from '../../src/storage/repositories/end-users.repo.js';
import { oauthCredentials, type StoredOAuthCredentials } from '../../src/providers/build-registry.js';
import { GoogleOAuthClient } from '../../src/providers/google/index.js';
import { SharedOAuthState } from '../../src/providers/oauth-token-manager.js';
import { ProviderError, type OAuthCredentials } from '../../src/providers/types.js';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/google-emulator.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/databases.js';

const SCOPES = ['openid', 'email', 'https://www.googleapis.com/auth/calendar'];

interface Instance {
  storage: Storage;
  accounts: AccountsRepository;
  shared: SharedOAuthState;
}

for (const { dialect, skip } of await dialects()) describe(`OAuth credentials across instances (${dialect})`, { skip }, () => {
  let db: TestDatabase;
  let emulator: GoogleEmulator;
  let oauth: GoogleOAuthClient;
  let one: Instance;
  let two: Instance;
  let userId: string;
  let n = 0;

  const box = new SecretBox(Buffer.alloc(32, 9));
  async function instance(): Promise<Instance> {
    const storage = await openStorageMigrated(loadConfig({ ...db.env, ALMANAC_SECRET_KEY: 'k'.repeat(40) }));
    return { storage, accounts: new AccountsRepository(storage.db, box), shared: new SharedOAuthState() };
  }

  before(async () => {
    db = await createTestDatabase(dialect);
    emulator = await startGoogleEmulator({ rotateRefreshTokens: true });
    oauth = new GoogleOAuthClient({ ...emulator.settings(), retry: { maxElapsedMs: 500, baseDelayMs: 10 } });
    one = await instance();
    two = await instance();
    await new ClientsRepository(one.storage.db).insert({ clientId: 'c', name: 'c', displayName: null, secretHash: 'x', redirectUris: ['https://a.example/cb'], webhookUrl: null, branding: {}, requirePar: false });
    userId = (await new EndUsersRepository(one.storage.db).findOrCreate('c', 'u')).id;
  });
  after(async () => {
    await one?.storage.close();
    await two?.storage.close();
    await emulator?.close();
    await db?.drop();
  });

  /** A Google account whose stored access token has expired (at the emulator too). */
  async function expiredAccount(): Promise<{ id: string; email: string; refreshToken: string }> {
    const email = `user${++n}@example.com`;
    const issued = emulator.issueTokens(email, SCOPES);
    emulator.accounts.expireAccessTokensFor(email);
    const credentials: StoredOAuthCredentials = { kind: 'oauth', accessToken: issued.accessToken, refreshToken: issued.refreshToken, expiresAt: Date.now() - 1000, grantedScopes: SCOPES };
    const account = await one.accounts.upsert({ userId, provider: 'google', accountId: email, display: null, credentials, grantedScopes: SCOPES, calendarPermissionGranted: true });
    return { id: account.id, email, refreshToken: issued.refreshToken };
  }

  /** What one request does: read the account's credentials from its instance's storage and build the token manager. */
  async function request(on: Instance, accountId: string, options: { leaseMs?: number; pollMs?: number } = {}): Promise<OAuthCredentials> {
    const store = on.accounts.credentialStore(accountId);
    const stored = await store.read();
    assert.ok(stored);
    // The registry's own hook: the real token manager over the instance's storage.
    const build = oauthCredentials({ provider: 'google', providerName: 'Google', shared: on.shared, leaseMs: options.leaseMs ?? 10_000, pollMs: options.pollMs ?? 20, refresh: (rt) => oauth.refresh(rt) });
    return build(stored, store, accountId);
  }

  const refreshes = (): number => emulator.stats.tokenRequests.refresh_token ?? 0;

  test('parallel requests on two instances with an expired token and rotating refresh tokens: one refresh, all served, the newest refresh token stored', async () => {
    const account = await expiredAccount();
    const before = refreshes();
    emulator.knobs.tokenDelayMs = 150;
    try {
      const managers = await Promise.all(Array.from({ length: 12 }, (_, i) => request(i % 2 ? one : two, account.id)));
      const tokens = await Promise.all(managers.flatMap((m) => [m.getAccessToken(), m.getAccessToken()]));
      assert.equal(refreshes() - before, 1, 'exactly one refresh reached the provider');
      assert.equal(new Set(tokens).size, 1, 'every caller got the same new access token');
      assert.ok(emulator.accounts.grantOfAccessToken(tokens[0]!), 'and the provider accepts it');
    } finally {
      emulator.knobs.tokenDelayMs = 0;
    }
    const stored = (await two.accounts.readVersioned<StoredOAuthCredentials>(account.id))!;
    assert.deepEqual(emulator.accounts.liveRefreshTokens(account.email), [stored.credentials.refreshToken], 'the one refresh token the provider still accepts is the stored one');
    assert.notEqual(stored.credentials.refreshToken, account.refreshToken);
    assert.deepEqual(stored.credentials.grantedScopes, SCOPES, 'what else was stored is kept');
    const state = await one.accounts.credentialsState(account.id);
    assert.equal(state?.leaseOwner, undefined, 'the lease was given back');
  });

  test('a request built before another instance refreshed finds the new tokens in storage instead of refreshing again', async () => {
    const account = await expiredAccount();
    const early = await request(two, account.id);
    const before = refreshes();
    await (await request(one, account.id)).getAccessToken();
    const token = await early.getAccessToken();
    assert.equal(refreshes() - before, 1);
    assert.ok(emulator.accounts.grantOfAccessToken(token));
    // Without the re-read it would have refreshed with the rotated-away token and been told invalid_grant.
    assert.equal(emulator.accounts.liveRefreshTokens(account.email).length, 1);
  });

  test('a stale writer loses its compare-and-set and does not overwrite the newer credentials', async () => {
    const account = await expiredAccount();
    const manager = await request(one, account.id);
    // The refresh reaches the provider and waits there; meanwhile the account is connected again.
    const hold = emulator.holdRequests({ count: 1, path: '/token' });
    const refreshing = manager.getAccessToken();
    await hold.untilWaiting(1);
    const reconnected = emulator.issueTokens(account.email, SCOPES);
    const fresh: StoredOAuthCredentials = { kind: 'oauth', accessToken: reconnected.accessToken, refreshToken: reconnected.refreshToken, expiresAt: Date.now() + 3_600_000, grantedScopes: SCOPES };
    await two.accounts.upsert({ userId, provider: 'google', accountId: account.email, display: null, credentials: fresh, grantedScopes: SCOPES, calendarPermissionGranted: true });
    const afterReconnect = (await two.accounts.readVersioned<StoredOAuthCredentials>(account.id))!;
    hold.release();
    // The refresh's tokens were not stored: the request goes on with the reconnected grant's.
    assert.equal(await refreshing, reconnected.accessToken);
    assert.deepEqual(await one.accounts.readVersioned(account.id), afterReconnect);
  });

  test('a lease whose holder died runs out, and the next caller refreshes', async () => {
    const account = await expiredAccount();
    // An instance took the lease and died before storing anything.
    assert.equal(await one.accounts.acquireRefreshLease(account.id, 'dead-instance', 600), true);
    const before = refreshes();
    const started = Date.now();
    const token = await (await request(two, account.id)).getAccessToken();
    const waited = Date.now() - started;
    assert.ok(waited >= 500, `waited for the lease to run out (${waited} ms)`);
    assert.ok(waited < 5_000, `but not much longer (${waited} ms)`);
    assert.equal(refreshes() - before, 1);
    assert.ok(emulator.accounts.grantOfAccessToken(token));
    const stored = (await one.accounts.readVersioned<StoredOAuthCredentials>(account.id))!;
    assert.deepEqual(emulator.accounts.liveRefreshTokens(account.email), [stored.credentials.refreshToken]);
  });

  test('a holder whose lease ran out during its refresh and the instance that took over both end with the stored, newest tokens', async () => {
    const account = await expiredAccount();
    // The provider answers after 600 ms, the lease lasts 250 ms: the second instance takes over while the first still waits.
    emulator.knobs.tokenDelayMs = 600;
    const before = refreshes();
    let tokens: string[];
    try {
      const first = (await request(one, account.id, { leaseMs: 250 })).getAccessToken();
      await new Promise((r) => setTimeout(r, 50));
      const second = (await request(two, account.id, { leaseMs: 250 })).getAccessToken();
      tokens = await Promise.all([first, second]);
    } finally {
      emulator.knobs.tokenDelayMs = 0;
    }
    // Both reached the provider with the same refresh token; the second was refused (rotated away) and took the first one's tokens.
    assert.equal(refreshes() - before, 2);
    assert.equal(new Set(tokens).size, 1);
    assert.ok(emulator.accounts.grantOfAccessToken(tokens[0]!));
    const stored = (await two.accounts.readVersioned<StoredOAuthCredentials>(account.id))!;
    assert.deepEqual(emulator.accounts.liveRefreshTokens(account.email), [stored.credentials.refreshToken]);
    assert.equal(stored.credentials.accessToken, tokens[0]);
  });

  test('a caller waiting on a lease that stays held gives up with TEMPORARY after twice the lease', async () => {
    const account = await expiredAccount();
    assert.equal(await one.accounts.acquireRefreshLease(account.id, 'stuck-instance', 60_000), true);
    const started = Date.now();
    await assert.rejects((await request(two, account.id, { leaseMs: 200 })).getAccessToken(), (e: unknown) => e instanceof ProviderError && e.code === 'TEMPORARY');
    assert.ok(Date.now() - started >= 400);
    await one.accounts.releaseRefreshLease(account.id, 'stuck-instance');
  });

  test('the lease: one holder at a time, extended by its holder, released only by it, free again once expired', async () => {
    const account = await expiredAccount();
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((owner, i) => (i % 2 ? one : two).accounts.acquireRefreshLease(account.id, owner, 60_000)));
    assert.equal(results.filter(Boolean).length, 1, 'of four instances asking at once exactly one gets the lease');
    const holder = ['a', 'b', 'c', 'd'][results.indexOf(true)]!;
    const other = holder === 'a' ? 'b' : 'a';
    assert.equal(await one.accounts.acquireRefreshLease(account.id, holder, 60_000), true);
    await two.accounts.releaseRefreshLease(account.id, other);
    assert.equal((await one.accounts.credentialsState(account.id))?.leaseOwner, holder, 'another owner cannot release it');
    await two.accounts.releaseRefreshLease(account.id, holder);
    assert.equal((await one.accounts.credentialsState(account.id))?.leaseOwner, undefined);
    assert.equal(await one.accounts.acquireRefreshLease(account.id, 'short', 1, Date.now() - 10), true);
    assert.equal(await two.accounts.acquireRefreshLease(account.id, 'next', 60_000), true, 'an expired lease is taken over');
  });
});
