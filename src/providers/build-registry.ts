/** Builds the provider registry from the configuration: the one place adapters meet settings. */
import type { Config } from '../config/config.js';
import { createGuardedFetch } from '../http/guarded-fetch.js';
import { createProviderFetch } from '../http/provider-fetch.js';
import { createAppleProvider } from './apple/index.js';
import { createCaldavProvider } from './caldav/index.js';
import { createGoogleProvider, GoogleOAuthClient, type GoogleSettings } from './google/index.js';
import { createMicrosoftProvider, MicrosoftOAuthClient, type MicrosoftSettings } from './microsoft/index.js';
import { decodeBasicCredentials, decodeOAuthCredentials, decodeVersioned, decodingStore, type StoredOAuthCredentials } from './credential-codecs.js';
import { OAuthTokenManager, SharedOAuthState, type RefreshedTokens } from './oauth-token-manager.js';
import { ProviderRegistry } from './registry.js';
import type { BasicCredentials, CredentialStore, OAuthCredentials, VersionedCredentials } from './types.js';

/** Basic credentials are stored as the adapter takes them, checked on the way out; nothing to refresh. */
function basicCredentials(stored: VersionedCredentials): BasicCredentials {
  return decodeBasicCredentials(stored.credentials);
}

export type { StoredOAuthCredentials };

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

/** Margin of a refresh lease over the token request's timeout: the compare-and-set write and the lease's own round trips. */
const LEASE_MARGIN_MS = 5_000;

/**
 * The `credentials` hook of an OAuth provider: a token manager over the account's stored
 * tokens, refreshing through `refresh`, coordinated with this instance's other requests
 * (`shared`) and with other instances (the store's lease and compare-and-set).
 */
export function oauthCredentials(options: {
  provider: string;
  providerName: string;
  shared: SharedOAuthState;
  leaseMs: number;
  /** How often a caller waiting for another instance's refresh looks at the stored version (default 100 ms). */
  pollMs?: number;
  refresh(refreshToken: string): Promise<RefreshedTokens>;
}): (stored: VersionedCredentials, store: CredentialStore, accountKey: string) => OAuthCredentials {
  return (stored, store, accountKey) =>
    new OAuthTokenManager<StoredOAuthCredentials>({
      // Per account: stored versions order the tokens (a refresh or a reconnect's new grant moves the version on),
      // so a manager never adopts tokens older than its own, and a refresh of an old grant stores nothing.
      accountKey: `${options.provider}:${accountKey}`,
      providerName: options.providerName,
      initial: decodeVersioned(stored, decodeOAuthCredentials),
      refresh: (refreshToken) => options.refresh(refreshToken),
      // The granted scopes ride along on every write; what another instance stored is checked when read.
      store: decodingStore(store, decodeOAuthCredentials),
      shared: options.shared,
      leaseMs: options.leaseMs,
      pollMs: options.pollMs,
    });
}

export function buildProviderRegistry(config: Config): BuiltRegistry {
  const registry = new ProviderRegistry();
  // One per instance: requests of this process share refreshes; other instances coordinate through storage.
  const shared = new SharedOAuthState();
  const leaseMs = config.providerTimeoutMs + LEASE_MARGIN_MS;
  const limits = { timeoutMs: config.providerTimeoutMs, maxResponseBytes: config.providerMaxResponseBytes };
  const userServerFetch = createGuardedFetch({ allowPrivateNetworks: config.allowPrivateNetworks, ...limits });
  // Configured endpoints need no SSRF policy, but their answers are capped and buffered like any other.
  const configuredFetch = createProviderFetch(limits);
  let google: GoogleOAuthClient | undefined;
  const settings = googleSettings(config);
  if (settings) {
    const oauth = new GoogleOAuthClient(settings, { timeoutMs: config.providerTimeoutMs, fetch: configuredFetch });
    google = oauth;
    const adapter = createGoogleProvider(settings);
    registry.register('google', {
      adapter,
      changes: adapter.changes,
      push: adapter.push,
      fetch: configuredFetch,
      revoke: async (stored) => oauth.revoke(decodeOAuthCredentials(stored).refreshToken),
      grantCovers: (grantedScopes, scope) => oauth.calendarPermissionGranted(grantedScopes, scope),
      credentials: oauthCredentials({ provider: 'google', providerName: 'Google', shared, leaseMs, refresh: (refreshToken) => oauth.refresh(refreshToken) }),
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
      push: adapter.push,
      fetch: configuredFetch,
      // No revoke: Graph has no endpoint that revokes one refresh token of a user (only all
      // of the user's sessions, which needs directory rights). Disconnect forgets the grant.
      grantCovers: (grantedScopes, scope) => oauth.calendarPermissionGranted(grantedScopes, scope),
      // Microsoft replaces the refresh token on every refresh: the versioned compare-and-set keeps the newest.
      credentials: oauthCredentials({ provider: 'microsoft', providerName: 'Microsoft', shared, leaseMs, refresh: (refreshToken) => oauth.refresh(refreshToken) }),
    });
  }
  const apple = createAppleProvider();
  registry.register('apple', { adapter: apple, changes: apple.changes, fetch: userServerFetch, credentials: basicCredentials });
  const caldav = createCaldavProvider();
  registry.register('caldav', { adapter: caldav, changes: caldav.changes, fetch: userServerFetch, credentials: basicCredentials });
  return { registry, userServerFetch, google, microsoft };
}
