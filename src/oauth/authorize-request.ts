/**
 * The authorize request's parameters, validated once for both ways in: a plain
 * `GET /api/oauth/authorize` and a pushed request (`POST /api/oauth/par`, RFC 9126).
 * Checks run in RFC 6749 §4.1.2.1 order: the redirect URI first (its errors must never
 * be sent to it), then everything else (errors the application may receive).
 */
import { isProviderId, type ProviderId } from '../domain/calendar.js';
import type { OAuthErrorCode } from '../domain/errors.js';
import type { ClientRecord } from '../storage/repositories/clients.repo.js';
import { isValidCodeChallenge } from './pkce.js';
import { DEFAULT_SCOPE, parseScopeParam, type Scope } from './scopes.js';

/** The single-valued authorize parameters; `providers` may be repeated and is read with readRepeatableParam. */
export const AUTHORIZE_PARAMS = ['client_id', 'user_id', 'response_type', 'scope', 'redirect_uri', 'state', 'lng', 'theme', 'code_challenge', 'code_challenge_method'] as const;
export type AuthorizeParams = Partial<Record<(typeof AUTHORIZE_PARAMS)[number], string>> & { providers?: string[] };

/** A validated authorize request: what a connect session is opened with. */
export interface AuthorizeRequest {
  /** The application's own id for its user (`user_id`). */
  externalUserId: string;
  scope: Scope;
  redirectUri: string;
  /** Whether redirect_uri was sent (then /token must repeat it). */
  redirectUriExplicit: boolean;
  state?: string;
  codeChallenge?: string;
  lng?: string;
  theme?: 'light' | 'dark' | 'auto';
  providers?: ProviderId[];
}

export class AuthorizeRequestError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AuthorizeRequestError';
  }
}

/** The redirect URI: exact match against the registration, or the only one registered. */
export function resolveRedirectUri(client: ClientRecord, given: string | undefined): { redirectUri: string; explicit: boolean } {
  if (given !== undefined) {
    if (!client.redirectUris.includes(given)) throw new AuthorizeRequestError('invalid_request', 'redirect_uri is not registered for this client');
    return { redirectUri: given, explicit: true };
  }
  if (client.redirectUris.length === 1 && client.redirectUris[0]) return { redirectUri: client.redirectUris[0], explicit: false };
  throw new AuthorizeRequestError('invalid_request', 'redirect_uri is required: this client has several registered');
}

/** The language parameter as the pages use it: anything longer than a language tag is ignored. */
export function readLanguage(lng: string | undefined): string | undefined {
  return lng && lng.length <= 35 ? lng : undefined;
}

/** Everything after the client and redirect URI. */
export function readAuthorizeRequest(p: AuthorizeParams, redirect: { redirectUri: string; explicit: boolean }): AuthorizeRequest {
  if (p.response_type !== undefined && p.response_type !== 'code') throw new AuthorizeRequestError('unsupported_response_type', 'Only response_type=code is supported');
  if (!p.user_id || p.user_id.trim() === '') throw new AuthorizeRequestError('invalid_request', 'Missing user_id');
  if (p.user_id.length > 256) throw new AuthorizeRequestError('invalid_request', 'user_id is longer than 256 characters');
  const scope = p.scope === undefined ? DEFAULT_SCOPE : parseScopeParam(p.scope);
  if (!scope) throw new AuthorizeRequestError('invalid_scope', 'scope must be free-busy, read or read-write (calendar means read-write)');
  if (p.state !== undefined && p.state.length > 1024) throw new AuthorizeRequestError('invalid_request', 'state is longer than 1024 characters');
  if (p.code_challenge !== undefined) {
    if (p.code_challenge_method !== 'S256') throw new AuthorizeRequestError('invalid_request', 'code_challenge_method must be S256');
    if (!isValidCodeChallenge(p.code_challenge)) throw new AuthorizeRequestError('invalid_request', 'code_challenge must be 43-128 characters of [A-Za-z0-9-._~]');
  } else if (p.code_challenge_method !== undefined) {
    throw new AuthorizeRequestError('invalid_request', 'code_challenge_method without code_challenge');
  }
  let providers: ProviderId[] | undefined;
  // Comma lists and repeated parameters (the Ruby and Go SDKs repeat it) mean the same: their union.
  const given = (p.providers ?? []).filter((v) => v.trim() !== '');
  if (given.length > 0) {
    const listed = given.flatMap((v) => v.split(',')).map((s) => s.trim().toLowerCase()).filter(Boolean);
    providers = [...new Set(listed.filter(isProviderId))];
    if (providers.length === 0) throw new AuthorizeRequestError('invalid_request', 'providers lists no known provider (google, microsoft, apple, caldav)');
  }
  const theme = p.theme === 'light' || p.theme === 'dark' || p.theme === 'auto' ? p.theme : undefined;
  const lng = readLanguage(p.lng);
  return {
    externalUserId: p.user_id,
    scope,
    redirectUri: redirect.redirectUri,
    redirectUriExplicit: redirect.explicit,
    ...(p.state !== undefined ? { state: p.state } : {}),
    ...(p.code_challenge !== undefined ? { codeChallenge: p.code_challenge } : {}),
    ...(lng ? { lng } : {}),
    ...(theme ? { theme } : {}),
    ...(providers ? { providers } : {}),
  };
}
