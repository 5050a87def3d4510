import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { OAuthTokenEndpointError, OAuthTokenManager, SharedOAuthState } from '../../src/providers/oauth-token-manager.js';
import type { OAuthTokenManagerOptions, OAuthTokens, RefreshedTokens } from '../../src/providers/oauth-token-manager.js';
import { ProviderError } from '../../src/providers/types.js';
import { MemoryCredentialStore } from '../support/memory-credential-store.js';

/*
 * What one process does with one account's tokens (sharing a refresh between callers and
 * managers); the same across instances over real storage is in oauth-credentials-storage.test.ts.
 */

let keyCounter = 0;
const uniqueKey = (): string => `test:${process.pid}:${++keyCounter}`;

type Options = Omit<OAuthTokenManagerOptions, 'initial' | 'store' | 'shared'> & {
  initial: OAuthTokens;
  store?: MemoryCredentialStore<OAuthTokens>;
  shared?: SharedOAuthState;
};

/** A manager over an in-memory store holding `initial` (or over a given store, as another request of the same account). */
function manager(options: Options): OAuthTokenManager {
  const store = options.store ?? new MemoryCredentialStore(options.initial);
  return new OAuthTokenManager({
    ...options,
    initial: { credentials: options.initial, version: store.stored.version },
    store,
    shared: options.shared ?? new SharedOAuthState(),
  });
}

/** A refresh function that takes a while (so callers pile up) and counts its calls. */
function slowRefresh(delayMs = 30): { calls: string[]; refresh: (rt: string) => Promise<RefreshedTokens> } {
  const calls: string[] = [];
  return {
    calls,
    refresh: async (refreshToken) => {
      calls.push(refreshToken);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      return { accessToken: `access-${calls.length}`, expiresAt: Date.now() + 3_600_000 };
    },
  };
}

const expired = (): OAuthTokens => ({ accessToken: 'access-0', refreshToken: 'refresh-0', expiresAt: Date.now() - 1000 });
const fresh = (): OAuthTokens => ({ accessToken: 'access-0', refreshToken: 'refresh-0', expiresAt: Date.now() + 3_600_000 });

describe('OAuthTokenManager', () => {
  test('returns the current token while it is valid, without refreshing', async () => {
    const { calls, refresh } = slowRefresh();
    const m = manager({ accountKey: uniqueKey(), initial: fresh(), refresh });
    assert.equal(await m.getAccessToken(), 'access-0');
    assert.equal(calls.length, 0);
  });

  test('refreshes before expiry, within the skew', async () => {
    const { calls, refresh } = slowRefresh(1);
    const m = manager({ accountKey: uniqueKey(), initial: { ...fresh(), expiresAt: Date.now() + 30_000 }, refresh, skewMs: 60_000 });
    assert.equal(await m.getAccessToken(), 'access-1');
    assert.deepEqual(calls, ['refresh-0']);
  });

  test('20 concurrent callers with an expired token cause exactly one refresh and one write', async () => {
    const { calls, refresh } = slowRefresh();
    const store = new MemoryCredentialStore(expired());
    const m = manager({ accountKey: uniqueKey(), initial: expired(), store, refresh });
    const tokens = await Promise.all(Array.from({ length: 20 }, () => m.getAccessToken()));
    assert.equal(calls.length, 1);
    assert.deepEqual(new Set(tokens), new Set(['access-1']));
    assert.equal(store.writes.length, 1);
    assert.equal(store.stored.version, 1);
    assert.equal(m.version(), 1);
    // Google keeps the refresh token: the old one is carried over.
    assert.equal(store.writes[0]!.refreshToken, 'refresh-0');
  });

  test('separate managers for the same account share one refresh', async () => {
    const { calls, refresh } = slowRefresh();
    const key = uniqueKey();
    const store = new MemoryCredentialStore(expired());
    const shared = new SharedOAuthState();
    const managers = Array.from({ length: 5 }, () => manager({ accountKey: key, initial: expired(), store, shared, refresh }));
    const tokens = await Promise.all(managers.flatMap((m) => [m.getAccessToken(), m.getAccessToken()]));
    assert.equal(calls.length, 1);
    assert.deepEqual(new Set(tokens), new Set(['access-1']));
  });

  test('different accounts refresh independently', async () => {
    const { calls, refresh } = slowRefresh();
    const shared = new SharedOAuthState();
    const a = manager({ accountKey: uniqueKey(), initial: expired(), shared, refresh });
    const b = manager({ accountKey: uniqueKey(), initial: expired(), shared, refresh });
    await Promise.all([a.getAccessToken(), b.getAccessToken()]);
    assert.equal(calls.length, 2);
  });

  test('20 concurrent 401s for the same token cause one refresh; a later 401 on an older token none', async () => {
    const { calls, refresh } = slowRefresh();
    const m = manager({ accountKey: uniqueKey(), initial: fresh(), refresh });
    const rejected = await m.getAccessToken();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => m.refreshAfterRejection(rejected)));
    assert.equal(calls.length, 1);
    assert.deepEqual(new Set(tokens), new Set(['access-1']));
    // A straggler reporting the old token gets the new one without another refresh.
    assert.equal(await m.refreshAfterRejection(rejected), 'access-1');
    assert.equal(calls.length, 1);
  });

  test('a manager built from tokens stored before another one’s refresh reuses that refresh', async () => {
    const { calls, refresh } = slowRefresh(1);
    const key = uniqueKey();
    const stored = fresh();
    const store = new MemoryCredentialStore(stored);
    const shared = new SharedOAuthState();
    // Two requests read the same stored tokens; the first refreshes after Google's 401 and finishes.
    const first = manager({ accountKey: key, initial: stored, store, shared, refresh });
    const second = manager({ accountKey: key, initial: stored, store, shared, refresh });
    assert.equal(await first.refreshAfterRejection('access-0'), 'access-1');
    // The second one's 401 for the same old token arrives afterwards.
    assert.equal(await second.refreshAfterRejection('access-0'), 'access-1');
    // A third built from the old stored tokens, after they expired, needs no refresh of its own either.
    const third = new OAuthTokenManager({ accountKey: key, initial: { credentials: { ...stored, expiresAt: Date.now() - 1000 }, version: 0 }, store, shared, refresh });
    assert.equal(await third.getAccessToken(), 'access-1');
    assert.deepEqual(calls, ['refresh-0']);
  });

  test('a manager of another process state still finds the refreshed tokens in the store instead of refreshing', async () => {
    const { calls, refresh } = slowRefresh(1);
    const store = new MemoryCredentialStore(expired());
    const key = uniqueKey();
    const one = manager({ accountKey: key, initial: expired(), store, refresh });
    // Built from the same stored (expired) tokens, but sharing nothing in memory with the first.
    const other = manager({ accountKey: key, initial: expired(), store, refresh });
    assert.equal(await one.getAccessToken(), 'access-1');
    assert.equal(await other.getAccessToken(), 'access-1');
    assert.equal(calls.length, 1);
    assert.equal(other.version(), 1);
  });

  test('tokens stored later than the shared ones win (the account was connected again)', async () => {
    const { calls, refresh } = slowRefresh(1);
    const key = uniqueKey();
    const store = new MemoryCredentialStore(expired());
    const shared = new SharedOAuthState();
    const old = manager({ accountKey: key, initial: expired(), store, shared, refresh });
    assert.equal(await old.getAccessToken(), 'access-1');
    const reconnected = { accessToken: 'access-new', refreshToken: 'refresh-new', expiresAt: Date.now() + 7_200_000 };
    store.replace(reconnected);
    const m = manager({ accountKey: key, initial: reconnected, store, shared, refresh });
    assert.equal(await m.getAccessToken(), 'access-new');
    // The old request's manager moves on to the new grant too, once it learns of it.
    assert.equal(await old.refreshAfterRejection('access-1'), 'access-new');
    assert.equal(calls.length, 1);
  });

  test('a refresh overtaken by a reconnect stores nothing and hands out the new grant’s tokens', async () => {
    const store = new MemoryCredentialStore(expired());
    let reconnect: () => void = () => undefined;
    const m = manager({
      accountKey: uniqueKey(),
      initial: expired(),
      store,
      refresh: async () => {
        reconnect();
        return { accessToken: 'access-old-grant', refreshToken: 'refresh-old-grant-2', expiresAt: Date.now() + 3_600_000 };
      },
    });
    const reconnected = { accessToken: 'access-new', refreshToken: 'refresh-new', expiresAt: Date.now() + 7_200_000 };
    reconnect = () => store.replace(reconnected);
    assert.equal(await m.getAccessToken(), 'access-new');
    assert.deepEqual(store.stored, { credentials: reconnected, version: 1 });
    assert.equal(store.writes.length, 0);
  });

  test('failures name the provider', async () => {
    const failing = (error: Error) => manager({ accountKey: uniqueKey(), providerName: 'Google', initial: expired(), refresh: async () => Promise.reject(error) });
    const message = async (error: Error): Promise<string> => {
      try {
        await failing(error).getAccessToken();
      } catch (e) {
        return (e as ProviderError).message;
      }
      throw new Error('expected a failure');
    };
    assert.equal(await message(new OAuthTokenEndpointError('invalid_grant', 'Token has been expired or revoked.', 400)), 'Google no longer accepts this account’s authorization (invalid_grant)');
    assert.equal(await message(new OAuthTokenEndpointError('server_error', 'down', 503)), 'Google’s token endpoint is unavailable');
    assert.equal(await message(new OAuthTokenEndpointError('invalid_client', 'Unauthorized', 401)), 'Google refused to refresh the access token (invalid_client)');
    assert.equal(await message(new TypeError('fetch failed')), 'Refreshing the access token at Google failed');
    const unnamed = manager({ accountKey: uniqueKey(), initial: expired(), refresh: async () => Promise.reject(new OAuthTokenEndpointError('invalid_grant', 'x', 400)) });
    await assert.rejects(unnamed.getAccessToken(), { message: 'The provider no longer accepts this account’s authorization (invalid_grant)' });
  });

  test('keeps a rotated refresh token', async () => {
    const store = new MemoryCredentialStore(expired());
    const m = manager({
      accountKey: uniqueKey(),
      initial: expired(),
      store,
      refresh: async () => ({ accessToken: 'a2', refreshToken: 'r2', expiresAt: Date.now() + 3_600_000 }),
    });
    await m.getAccessToken();
    assert.equal(store.writes[0]!.refreshToken, 'r2');
    assert.equal(m.current().refreshToken, 'r2');
  });

  test('invalid_grant becomes AUTH_REVOKED for every waiting caller, and the next call tries again', async () => {
    let attempts = 0;
    const m = manager({
      accountKey: uniqueKey(),
      initial: expired(),
      refresh: async () => {
        attempts += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
        throw new OAuthTokenEndpointError('invalid_grant', 'Token has been expired or revoked.', 400);
      },
    });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => m.getAccessToken()));
    assert.equal(attempts, 1);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.reason instanceof ProviderError);
      assert.equal(r.reason.code, 'AUTH_REVOKED');
    }
    await assert.rejects(m.getAccessToken(), (e: unknown) => e instanceof ProviderError && e.code === 'AUTH_REVOKED');
    assert.equal(attempts, 2);
  });

  test('a token endpoint outage is TEMPORARY, not a revocation', async () => {
    const m = manager({
      accountKey: uniqueKey(),
      initial: expired(),
      refresh: async () => {
        throw new OAuthTokenEndpointError('server_error', 'down', 503);
      },
    });
    await assert.rejects(m.getAccessToken(), (e: unknown) => e instanceof ProviderError && e.code === 'TEMPORARY');
  });
});
