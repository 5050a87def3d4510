/** Builds the provider registry from the configuration: the one place adapters meet settings. */
import { createHash } from 'node:crypto';
import type { Config } from '../config/config.js';
import { createGuardedFetch } from '../http/guarded-fetch.js';
import { createProviderFetch } from '../http/provider-fetch.js';
import { createAppleProvider } from './apple/index.js';
import { createCaldavProvider } from './caldav/index.js';
import { createGoogleProvider, GoogleOAuthClient, type GoogleSettings } from './google/index.js';
import { createMicrosoftProvider, MicrosoftOAuthClient, type MicrosoftSettings } from './microsoft/index.js';
import { OAuthTokenManager, type OAuthTokens } from './oauth-token-manager.js';
import { ProviderRegistry } from './registry.js';
import type { BasicCredentials } from './types.js';

/** A short, one-way tag of a grant's refresh token, for in-process keys (never stored or logged). */
function grantTag(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('base64url').slice(0, 16);
}

/** Basic credentials are stored as the adapter takes them; nothing to refresh. */
function basicCredentials(stored: unknown): BasicCredentials {
  const c = stored as BasicCredentials;
  return { ...c, kind: 'basic' };
}

/** What is stored for an OAuth account: its tokens and the scopes the user granted. */
export interface StoredOAuthCredentials extends OAuthTokens {
  kind: 'oauth';
  grantedScopes: string[];
}

export interface BuiltRegistry {
  registry: ProviderRegistry;
  /** The fetch for user-supplied servers (CalDAV, iCloud): SSRF-guarded unless private networks are allowed. */
  userServerFetch: typeof fetch;
  /** Present when Google is configured. */
  google?: GoogleOAuthClient;
  /** Present when Microsoft is configured. */
  microsoft?: MicrosoftOAuthClient;
}

export function googleSettings(config: Config): GoogleSettings | undefined {
  if (!config.google) return undefined;
  const { retryMaxElapsedMs, ...rest } = config.google;
  return { ...rest, retry: { maxElapsedMs: retryMaxElapsedMs, baseDelayMs: Math.max(1, Math.min(500, retryMaxElapsedMs / 10)) } };
}

export function microsoftSettings(config: Config): MicrosoftSettings | undefined {
  if (!config.microsoft) return undefined;
  const { retryMaxElapsedMs, ...rest } = config.microsoft;
  return { ...rest, retry: { maxElapsedMs: retryMaxElapsedMs, baseDelayMs: Math.max(1, Math.min(500, retryMaxElapsedMs / 10)) } };
}

export function buildProviderRegistry(config: Config): BuiltRegistry {
  const registry = new ProviderRegistry();
  const limits = { timeoutMs: config.providerTimeoutMs, maxResponseBytes: config.providerMaxResponseBytes };
  const userServerFetch = createGuardedFetch({ allowPrivateNetworks: config.allowPrivateNetworks, ...limits });
  // Configured endpoints need no SSRF policy, but their answers are capped and buffered like any other.
  const configuredFetch = createProviderFetch(limits);
  let google: GoogleOAuthClient | undefined;
  const settings = googleSettings(config);
  if (settings) {
    const oauth = new GoogleOAuthClient(settings, { timeoutMs: config.providerTimeoutMs, fetch: configuredFetch });
    google = oauth;
    registry.register('google', {
      adapter: createGoogleProvider(settings),
      fetch: configuredFetch,
      revoke: (stored) => oauth.revoke((stored as StoredOAuthCredentials).refreshToken),
      grantCovers: (grantedScopes, scope) => oauth.calendarPermissionGranted(grantedScopes, scope),
      credentials: (stored, persist, accountKey) => {
        const s = stored as StoredOAuthCredentials;
        return new OAuthTokenManager({
          // Tokens are shared per grant, not per account: after a reconnect (new refresh token) a refresh
          // of the old grant still finishing must not hand its tokens to requests made with the new one.
          accountKey: `google:${accountKey}:${grantTag(s.refreshToken)}`,
          providerName: 'Google',
          initial: { accessToken: s.accessToken, refreshToken: s.refreshToken, expiresAt: s.expiresAt },
          refresh: (refreshToken) => oauth.refresh(refreshToken),
          // Keep what else is stored (granted scopes) next to the new tokens.
          persist: (tokens) => persist({ ...s, ...tokens }),
        });
      },
    });
  }
  let microsoft: MicrosoftOAuthClient | undefined;
  const ms = microsoftSettings(config);
  if (ms) {
    const oauth = new MicrosoftOAuthClient(ms, { timeoutMs: config.providerTimeoutMs, fetch: configuredFetch });
    microsoft = oauth;
    const adapter = createMicrosoftProvider(ms);
    registry.register('microsoft', {
      adapter,
      changes: adapter.changes,
      fetch: configuredFetch,
      // No revoke: Graph has no endpoint that revokes one refresh token of a user (only all
      // of the user's sessions, which needs directory rights). Disconnect forgets the grant.
      grantCovers: (grantedScopes, scope) => oauth.calendarPermissionGranted(grantedScopes, scope),
      credentials: (stored, persist, accountKey) => {
        const s = stored as StoredOAuthCredentials;
        return new OAuthTokenManager({
          accountKey: `microsoft:${accountKey}:${grantTag(s.refreshToken)}`,
          providerName: 'Microsoft',
          initial: { accessToken: s.accessToken, refreshToken: s.refreshToken, expiresAt: s.expiresAt },
          // Microsoft replaces the refresh token on each refresh: the manager persists the new one.
          refresh: (refreshToken) => oauth.refresh(refreshToken),
          persist: (tokens) => persist({ ...s, ...tokens }),
        });
      },
    });
  }
  const apple = createAppleProvider();
  registry.register('apple', { adapter: apple, changes: apple.changes, fetch: userServerFetch, credentials: basicCredentials });
  const caldav = createCaldavProvider();
  registry.register('caldav', { adapter: caldav, changes: caldav.changes, fetch: userServerFetch, credentials: basicCredentials });
  return { registry, userServerFetch, google, microsoft };
}
