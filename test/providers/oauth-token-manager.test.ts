import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { OAuthTokenEndpointError, OAuthTokenManager } from '../../src/providers/oauth-token-manager.js';
import type { OAuthTokens, RefreshedTokens } from '../../src/providers/oauth-token-manager.js';
import { ProviderError } from '../../src/providers/types.js';

let keyCounter = 0;
const uniqueKey = (): string => `test:${process.pid}:${++keyCounter}`;

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
    const manager = new OAuthTokenManager({ accountKey: uniqueKey(), initial: fresh(), refresh, persist: async () => {} });
    assert.equal(await manager.getAccessToken(), 'access-0');
    assert.equal(calls.length, 0);
  });

  test('refreshes before expiry, within the skew', async () => {
    const { calls, refresh } = slowRefresh(1);
    const manager = new OAuthTokenManager({
      accountKey: uniqueKey(),
      initial: { ...fresh(), expiresAt: Date.now() + 30_000 },
      refresh,
      persist: async () => {},
      skewMs: 60_000,
    });
    assert.equal(await manager.getAccessToken(), 'access-1');
    assert.deepEqual(calls, ['refresh-0']);
  });

  test('20 concurrent callers with an expired token cause exactly one refresh and one persist', async () => {
    const { calls, refresh } = slowRefresh();
    const persisted: OAuthTokens[] = [];
    const manager = new OAuthTokenManager({
      accountKey: uniqueKey(),
      initial: expired(),
      refresh,
      persist: async (t) => void persisted.push(t),
    });
    const tokens = await Promise.all(Array.from({ length: 20 }, () => manager.getAccessToken()));
    assert.equal(calls.length, 1);
    assert.deepEqual(new Set(tokens), new Set(['access-1']));
    assert.equal(persisted.length, 1);
    // Google keeps the refresh token: the old one is carried over.
    assert.equal(persisted[0]!.refreshToken, 'refresh-0');
  });

  test('separate managers for the same account share one refresh', async () => {
    const { calls, refresh } = slowRefresh();
    const key = uniqueKey();
    const managers = Array.from({ length: 5 }, () => new OAuthTokenManager({ accountKey: key, initial: expired(), refresh, persist: async () => {} }));
    const tokens = await Promise.all(managers.flatMap((m) => [m.getAccessToken(), m.getAccessToken()]));
    assert.equal(calls.length, 1);
    assert.deepEqual(new Set(tokens), new Set(['access-1']));
  });

  test('different accounts refresh independently', async () => {
    const { calls, refresh } = slowRefresh();
    const a = new OAuthTokenManager({ accountKey: uniqueKey(), initial: expired(), refresh, persist: async () => {} });
    const b = new OAuthTokenManager({ accountKey: uniqueKey(), initial: expired(), refresh, persist: async () => {} });
    await Promise.all([a.getAccessToken(), b.getAccessToken()]);
    assert.equal(calls.length, 2);
  });

  test('20 concurrent 401s for the same token cause one refresh; a later 401 on an older token none', async () => {
    const { calls, refresh } = slowRefresh();
    const manager = new OAuthTokenManager({ accountKey: uniqueKey(), initial: fresh(), refresh, persist: async () => {} });
    const rejected = await manager.getAccessToken();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => manager.refreshAfterRejection(rejected)));
    assert.equal(calls.length, 1);
    assert.deepEqual(new Set(tokens), new Set(['access-1']));
    // A straggler reporting the old token gets the new one without another refresh.
    assert.equal(await manager.refreshAfterRejection(rejected), 'access-1');
    assert.equal(calls.length, 1);
  });

  test('a manager built from tokens stored before another one’s refresh reuses that refresh', async () => {
    const { calls, refresh } = slowRefresh(1);
    const key = uniqueKey();
    const stored = fresh();
    // Two requests read the same stored tokens; the first refreshes after Google's 401 and finishes.
    const first = new OAuthTokenManager({ accountKey: key, initial: stored, refresh, persist: async () => {} });
    const second = new OAuthTokenManager({ accountKey: key, initial: stored, refresh, persist: async () => {} });
    assert.equal(await first.refreshAfterRejection('access-0'), 'access-1');
    // The second one's 401 for the same old token arrives afterwards.
    assert.equal(await second.refreshAfterRejection('access-0'), 'access-1');
    // A third built from the old stored tokens, after they expired, needs no refresh of its own either.
    const third = new OAuthTokenManager({ accountKey: key, initial: { ...stored, expiresAt: Date.now() - 1000 }, refresh, persist: async () => {} });
    assert.equal(await third.getAccessToken(), 'access-1');
    assert.deepEqual(calls, ['refresh-0']);
  });

  test('tokens stored later than the shared ones win (the account was connected again)', async () => {
    const { calls, refresh } = slowRefresh(1);
    const key = uniqueKey();
    const old = new OAuthTokenManager({ accountKey: key, initial: expired(), refresh, persist: async () => {} });
    assert.equal(await old.getAccessToken(), 'access-1');
    const reconnected = { accessToken: 'access-new', refreshToken: 'refresh-new', expiresAt: Date.now() + 7_200_000 };
    const manager = new OAuthTokenManager({ accountKey: key, initial: reconnected, refresh, persist: async () => {} });
    assert.equal(await manager.getAccessToken(), 'access-new');
    assert.equal(calls.length, 1);
  });

  test('failures name the provider', async () => {
    const failing = (error: Error) =>
      new OAuthTokenManager({ accountKey: uniqueKey(), providerName: 'Google', initial: expired(), refresh: async () => Promise.reject(error), persist: async () => {} });
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
    const unnamed = new OAuthTokenManager({ accountKey: uniqueKey(), initial: expired(), refresh: async () => Promise.reject(new OAuthTokenEndpointError('invalid_grant', 'x', 400)), persist: async () => {} });
    await assert.rejects(unnamed.getAccessToken(), { message: 'The provider no longer accepts this account’s authorization (invalid_grant)' });
  });

  test('keeps a rotated refresh token', async () => {
    const persisted: OAuthTokens[] = [];
    const manager = new OAuthTokenManager({
      accountKey: uniqueKey(),
      initial: expired(),
      refresh: async () => ({ accessToken: 'a2', refreshToken: 'r2', expiresAt: Date.now() + 3_600_000 }),
      persist: async (t) => void persisted.push(t),
    });
    await manager.getAccessToken();
    assert.equal(persisted[0]!.refreshToken, 'r2');
    assert.equal(manager.current().refreshToken, 'r2');
  });

  test('invalid_grant becomes AUTH_REVOKED for every waiting caller, and the next call tries again', async () => {
    let attempts = 0;
    const manager = new OAuthTokenManager({
      accountKey: uniqueKey(),
      initial: expired(),
      refresh: async () => {
        attempts += 1;
        await new Promise((resolve) => setTimeout(resolve, 10));
        throw new OAuthTokenEndpointError('invalid_grant', 'Token has been expired or revoked.', 400);
      },
      persist: async () => {},
    });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => manager.getAccessToken()));
    assert.equal(attempts, 1);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok(r.reason instanceof ProviderError);
      assert.equal(r.reason.code, 'AUTH_REVOKED');
    }
    await assert.rejects(manager.getAccessToken(), (e: unknown) => e instanceof ProviderError && e.code === 'AUTH_REVOKED');
    assert.equal(attempts, 2);
  });

  test('a token endpoint outage is TEMPORARY, not a revocation', async () => {
    const manager = new OAuthTokenManager({
      accountKey: uniqueKey(),
      initial: expired(),
      refresh: async () => {
        throw new OAuthTokenEndpointError('server_error', 'down', 503);
      },
      persist: async () => {},
    });
    await assert.rejects(manager.getAccessToken(), (e: unknown) => e instanceof ProviderError && e.code === 'TEMPORARY');
  });
});
