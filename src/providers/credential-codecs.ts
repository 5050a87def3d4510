/**
 * What is stored for each kind of account, read back with its shape checked. Stored
 * credentials are JSON decrypted from the accounts table; a row written by an older
 * version, or damaged, must fail as "reconnect this account", not as a TypeError deep
 * inside an adapter.
 */
import type { OAuthTokens } from './oauth-token-manager.js';
import { ProviderError, type BasicCredentials, type CredentialStore, type VersionedCredentials } from './types.js';

/** What is stored for an OAuth account: its tokens and the scopes the user granted. */
export interface StoredOAuthCredentials extends OAuthTokens {
  kind: 'oauth';
  grantedScopes: string[];
}

export type CredentialDecoder<S> = (raw: unknown) => S;

function unreadable(what: string): ProviderError {
  return new ProviderError('AUTH_REVOKED', `The stored ${what} of this account are unreadable`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): value is string | undefined {
  return value === undefined || typeof value === 'string';
}

export const decodeBasicCredentials: CredentialDecoder<BasicCredentials> = (raw) => {
  if (!isRecord(raw)) throw unreadable('server credentials');
  const { serverUrl, username, password, principalUrl, calendarHomeUrl } = raw;
  if (typeof serverUrl !== 'string' || typeof username !== 'string' || typeof password !== 'string' || !optionalString(principalUrl) || !optionalString(calendarHomeUrl)) {
    throw unreadable('server credentials');
  }
  return {
    kind: 'basic',
    serverUrl,
    username,
    password,
    ...(principalUrl !== undefined ? { principalUrl } : {}),
    ...(calendarHomeUrl !== undefined ? { calendarHomeUrl } : {}),
  };
};

export const decodeOAuthCredentials: CredentialDecoder<StoredOAuthCredentials> = (raw) => {
  if (!isRecord(raw)) throw unreadable('tokens');
  const { accessToken, refreshToken, expiresAt, grantedScopes } = raw;
  if (typeof accessToken !== 'string' || typeof refreshToken !== 'string' || typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) throw unreadable('tokens');
  if (!Array.isArray(grantedScopes) || !grantedScopes.every((s): s is string => typeof s === 'string')) throw unreadable('tokens');
  return { kind: 'oauth', accessToken, refreshToken, expiresAt, grantedScopes };
};

export function decodeVersioned<S>(stored: VersionedCredentials, decode: CredentialDecoder<S>): VersionedCredentials<S> {
  return { version: stored.version, credentials: decode(stored.credentials) };
}

/** The account's store, with what it reads back decoded (writes pass through as they are typed). */
export function decodingStore<S>(store: CredentialStore, decode: CredentialDecoder<S>): CredentialStore<S> {
  return {
    read: async () => {
      const stored = await store.read();
      return stored && decodeVersioned(stored, decode);
    },
    state: () => store.state(),
    compareAndSet: (next, expectedVersion) => store.compareAndSet(next, expectedVersion),
    acquireLease: (owner, ttlMs) => store.acquireLease(owner, ttlMs),
    releaseLease: (owner) => store.releaseLease(owner),
  };
}
