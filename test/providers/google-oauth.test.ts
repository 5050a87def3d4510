import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { GoogleOAuthClient, GOOGLE_DEFAULT_URLS, GOOGLE_SCOPES } from '../../src/providers/google/index.js';
import type { AlmanacScope } from '../../src/providers/google/index.js';
import { OAuthTokenEndpointError, OAuthTokenManager, SharedOAuthState } from '../../src/providers/oauth-token-manager.js';
import { ProviderError } from '../../src/providers/types.js';
import { startGoogleEmulator } from '../emulators/google/google-emulator.js';
import type { GoogleEmulator } from '../emulators/google/google-emulator.js';
import { MemoryCredentialStore } from '../support/memory-credential-store.js';

const REDIRECT = 'https://almanac.test/connect/google/callback';

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

describe('GoogleOAuthClient against the emulator', () => {
  let emulator: GoogleEmulator;
  let client: GoogleOAuthClient;

  before(async () => {
    emulator = await startGoogleEmulator({ redirectUris: [REDIRECT] });
    client = new GoogleOAuthClient(emulator.settings());
  });
  after(() => emulator.close());

  /** Follows the authorize redirect as a browser would and returns the callback's query. */
  async function authorize(almanacScope: AlmanacScope, challenge: string, state = 'st-123'): Promise<URLSearchParams> {
    const url = client.buildAuthorizeUrl({ redirectUri: REDIRECT, state, codeChallenge: challenge, almanacScope });
    const response = await fetch(url, { redirect: 'manual' });
    assert.equal(response.status, 302);
    const location = new URL(response.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, REDIRECT);
    return location.searchParams;
  }

  test('the authorize URL asks for offline access, consent, PKCE S256, state and the right scopes', () => {
    const real = new GoogleOAuthClient({ clientId: 'cid', clientSecret: 'secret', ...GOOGLE_DEFAULT_URLS });
    const url = new URL(
      real.buildAuthorizeUrl({ redirectUri: REDIRECT, state: 's1', codeChallenge: 'c1', almanacScope: 'read-write', loginHint: 'ada@example.com' }),
    );
    assert.equal(`${url.origin}${url.pathname}`, 'https://accounts.google.com/o/oauth2/v2/auth');
    const q = url.searchParams;
    assert.equal(q.get('client_id'), 'cid');
    assert.equal(q.get('redirect_uri'), REDIRECT);
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('access_type'), 'offline');
    assert.equal(q.get('prompt'), 'consent');
    assert.equal(q.get('code_challenge'), 'c1');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.equal(q.get('state'), 's1');
    assert.equal(q.get('login_hint'), 'ada@example.com');
    assert.equal(q.get('client_secret'), null);
    const scopes = q.get('scope')!.split(' ');
    assert.ok(scopes.includes('openid') && scopes.includes('email'));
    assert.ok(scopes.includes(GOOGLE_SCOPES.events) && scopes.includes(GOOGLE_SCOPES.calendarListReadonly));
  });

  test('scopes follow the Almanac scope', () => {
    const scopesOf = (almanacScope: AlmanacScope): string[] =>
      new URL(client.buildAuthorizeUrl({ redirectUri: REDIRECT, state: 's', codeChallenge: 'c', almanacScope })).searchParams.get('scope')!.split(' ');
    assert.ok(scopesOf('read').includes(GOOGLE_SCOPES.calendarReadonly));
    assert.ok(!scopesOf('read').some((s) => s === GOOGLE_SCOPES.events || s === GOOGLE_SCOPES.calendar));
    assert.ok(scopesOf('free-busy').includes(GOOGLE_SCOPES.eventsReadonly));
    assert.ok(!scopesOf('free-busy').some((s) => s === GOOGLE_SCOPES.events || s === GOOGLE_SCOPES.calendar));
  });

  test('full consent: code exchange, account email, calendar permission granted', async () => {
    emulator.setConsent({ action: 'grant-all' }, 'grace@example.com');
    const { verifier, challenge } = pkce();
    const callback = await authorize('read-write', challenge);
    assert.equal(callback.get('state'), 'st-123');
    const tokens = await client.exchangeCode({ code: callback.get('code')!, redirectUri: REDIRECT, codeVerifier: verifier });
    assert.ok(tokens.accessToken && tokens.refreshToken);
    assert.ok(tokens.expiresAt > Date.now() + 3_000_000);
    assert.equal(await client.fetchUserEmail(tokens.accessToken), 'grace@example.com');
    assert.equal(client.calendarPermissionGranted(tokens.grantedScopes, 'read-write'), true);
  });

  test('partial consent (calendar unticked) is detected from the granted scopes', async () => {
    emulator.setConsent({ action: 'grant', scopes: [GOOGLE_SCOPES.calendarListReadonly] }, 'partial@example.com');
    const { verifier, challenge } = pkce();
    const callback = await authorize('read-write', challenge);
    const tokens = await client.exchangeCode({ code: callback.get('code')!, redirectUri: REDIRECT, codeVerifier: verifier });
    assert.ok(!tokens.grantedScopes.includes(GOOGLE_SCOPES.events));
    assert.equal(client.calendarPermissionGranted(tokens.grantedScopes, 'read-write'), false);
    // The account is still identifiable: the email scope cannot be unticked.
    assert.equal(await client.fetchUserEmail(tokens.accessToken), 'partial@example.com');
  });

  test('calendarPermissionGranted accepts broader grants from earlier consents', () => {
    assert.equal(client.calendarPermissionGranted([GOOGLE_SCOPES.calendar], 'read-write'), true);
    assert.equal(client.calendarPermissionGranted([GOOGLE_SCOPES.calendarReadonly], 'read-write'), false);
    assert.equal(client.calendarPermissionGranted([GOOGLE_SCOPES.calendarReadonly], 'read'), true);
    assert.equal(client.calendarPermissionGranted([GOOGLE_SCOPES.eventsReadonly], 'free-busy'), false);
  });

  test('denied consent comes back as error=access_denied with the state', async () => {
    emulator.setConsent({ action: 'deny' });
    const callback = await authorize('read', pkce().challenge, 'st-deny');
    assert.equal(callback.get('error'), 'access_denied');
    assert.equal(callback.get('state'), 'st-deny');
    assert.equal(callback.get('code'), null);
  });

  test('a wrong PKCE verifier, a replayed code and a foreign redirect URI fail with invalid_grant-style errors', async () => {
    emulator.setConsent({ action: 'grant-all' }, 'pkce@example.com');
    const { verifier, challenge } = pkce();
    const code = (await authorize('read', challenge)).get('code')!;
    await assert.rejects(
      client.exchangeCode({ code, redirectUri: REDIRECT, codeVerifier: pkce().verifier }),
      (e: unknown) => e instanceof OAuthTokenEndpointError && e.error === 'invalid_grant' && e.status === 400,
    );
    const code2 = (await authorize('read', challenge)).get('code')!;
    await client.exchangeCode({ code: code2, redirectUri: REDIRECT, codeVerifier: verifier });
    await assert.rejects(
      client.exchangeCode({ code: code2, redirectUri: REDIRECT, codeVerifier: verifier }),
      (e: unknown) => e instanceof OAuthTokenEndpointError && e.error === 'invalid_grant',
    );
    const code3 = (await authorize('read', challenge)).get('code')!;
    await assert.rejects(
      client.exchangeCode({ code: code3, redirectUri: 'https://evil.test/cb', codeVerifier: verifier }),
      (e: unknown) => e instanceof OAuthTokenEndpointError && e.error === 'redirect_uri_mismatch',
    );
  });

  test('a wrong client secret is invalid_client', async () => {
    const bad = new GoogleOAuthClient({ ...emulator.settings(), clientSecret: 'nope' });
    await assert.rejects(bad.refresh('whatever'), (e: unknown) => e instanceof OAuthTokenEndpointError && e.error === 'invalid_client');
  });

  test('refresh gives a new access token; after the user revokes access the manager reports AUTH_REVOKED', async () => {
    const issued = emulator.issueTokens('rev@example.com');
    const refreshed = await client.refresh(issued.refreshToken);
    assert.notEqual(refreshed.accessToken, issued.accessToken);
    assert.equal(refreshed.refreshToken, undefined);
    assert.ok(refreshed.grantedScopes.includes(GOOGLE_SCOPES.calendar));

    emulator.accounts.revokeAllFor('rev@example.com');
    await assert.rejects(
      client.refresh(issued.refreshToken),
      (e: unknown) =>
        e instanceof OAuthTokenEndpointError && e.error === 'invalid_grant' && e.description === 'Token has been expired or revoked.',
    );
    const store = new MemoryCredentialStore({ accessToken: issued.accessToken, refreshToken: issued.refreshToken, expiresAt: 0 });
    const manager = new OAuthTokenManager({
      accountKey: `google:rev:${process.pid}`,
      initial: store.stored,
      refresh: (rt) => client.refresh(rt),
      store,
      shared: new SharedOAuthState(),
    });
    await assert.rejects(manager.getAccessToken(), (e: unknown) => e instanceof ProviderError && e.code === 'AUTH_REVOKED');
  });

  test('with rotating refresh tokens (the emulator knob) each refresh returns a new refresh token and the old one is refused', async () => {
    const issued = emulator.issueTokens('rotating@example.com');
    emulator.accounts.rotateRefreshTokens = true;
    try {
      const first = await client.refresh(issued.refreshToken);
      assert.ok(first.refreshToken);
      assert.notEqual(first.refreshToken, issued.refreshToken);
      await assert.rejects(client.refresh(issued.refreshToken), (e: unknown) => e instanceof OAuthTokenEndpointError && e.error === 'invalid_grant');
      const second = await client.refresh(first.refreshToken);
      assert.deepEqual(emulator.accounts.liveRefreshTokens('rotating@example.com'), [second.refreshToken]);
    } finally {
      emulator.accounts.rotateRefreshTokens = false;
    }
  });

  test('revoke ends the grant at Google; revoking again is not an error', async () => {
    const issued = emulator.issueTokens('bye@example.com');
    await client.revoke(issued.refreshToken);
    await assert.rejects(client.refresh(issued.refreshToken), (e: unknown) => e instanceof OAuthTokenEndpointError && e.error === 'invalid_grant');
    await assert.rejects(client.fetchUserEmail(issued.accessToken), OAuthTokenEndpointError);
    await client.revoke(issued.refreshToken);
  });

  test('the token endpoint being down surfaces as a non-invalid_grant error', async () => {
    emulator.injectFault({ status: 503, path: '/token', reason: 'temporarily_unavailable' });
    await assert.rejects(client.refresh('x'), (e: unknown) => e instanceof OAuthTokenEndpointError && e.status === 503);
  });
});
