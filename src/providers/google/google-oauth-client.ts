/**
 * Google's side of connecting an account (OAuth 2.0 for web server apps, with PKCE):
 * the authorize redirect, code exchange, refresh, revocation and the account's email.
 * Token endpoint failures leave as OAuthTokenEndpointError so the token manager can
 * tell a revoked grant (`invalid_grant`) from a passing fault.
 */
import { OAuthTokenEndpointError } from '../oauth-token-manager.js';
import type { RefreshedTokens } from '../oauth-token-manager.js';
import { calendarPermissionGranted, googleScopesFor } from './google-scopes.js';
import type { AlmanacScope } from './google-scopes.js';
import type { GoogleSettings } from './google-settings.js';
import { formatBytes, ResponseTooLargeError } from '../types.js';

export interface AuthorizeUrlParams {
  redirectUri: string;
  state: string;
  /** BASE64URL(SHA-256(code_verifier)), RFC 7636 S256. */
  codeChallenge: string;
  almanacScope: AlmanacScope;
  /** Pre-selects the account on Google's chooser (e.g. when reconnecting). */
  loginHint?: string;
}

export interface GoogleTokenSet {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** What the user actually granted, from the token response's `scope`. */
  grantedScopes: string[];
}

export interface GoogleUserInfo {
  sub: string;
  email: string;
  emailVerified: boolean;
}

export interface GoogleOAuthClientOptions {
  fetch?: typeof fetch;
  now?: () => number;
  /** Per request to Google's OAuth endpoints. */
  timeoutMs?: number;
}

interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  scope?: string;
  token_type?: string;
  error?: string;
  error_description?: string;
}

export class GoogleOAuthClient {
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly timeoutMs: number;

  constructor(
    private readonly settings: GoogleSettings,
    options: GoogleOAuthClientOptions = {},
  ) {
    this.fetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  buildAuthorizeUrl(params: AuthorizeUrlParams): string {
    const url = new URL(this.settings.authUrl);
    const query = url.searchParams;
    query.set('client_id', this.settings.clientId);
    query.set('redirect_uri', params.redirectUri);
    query.set('response_type', 'code');
    query.set('scope', googleScopesFor(params.almanacScope).join(' '));
    query.set('state', params.state);
    query.set('code_challenge', params.codeChallenge);
    query.set('code_challenge_method', 'S256');
    // A refresh token is only issued for offline access, and again on later connects only with a consent prompt.
    query.set('access_type', 'offline');
    query.set('prompt', 'consent');
    if (params.loginHint) query.set('login_hint', params.loginHint);
    return url.toString();
  }

  async exchangeCode(params: { code: string; redirectUri: string; codeVerifier: string }): Promise<GoogleTokenSet> {
    const body = await this.tokenRequest({
      grant_type: 'authorization_code',
      code: params.code,
      redirect_uri: params.redirectUri,
      code_verifier: params.codeVerifier,
    });
    if (!body.refresh_token) {
      // Not invalid_grant: the grant is fine, the request lacked offline access (a configuration fault).
      throw new OAuthTokenEndpointError('missing_refresh_token', 'Google issued no refresh token (offline access missing)', 200);
    }
    return {
      accessToken: body.access_token!,
      refreshToken: body.refresh_token,
      expiresAt: this.expiresAt(body),
      grantedScopes: splitScopes(body.scope),
    };
  }

  async refresh(refreshToken: string): Promise<RefreshedTokens & { grantedScopes: string[] }> {
    const body = await this.tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });
    return {
      accessToken: body.access_token!,
      // Google normally keeps the refresh token; take a new one if it ever sends one.
      ...(body.refresh_token ? { refreshToken: body.refresh_token } : {}),
      expiresAt: this.expiresAt(body),
      grantedScopes: splitScopes(body.scope),
    };
  }

  /** Revokes the whole grant (a refresh token revokes its access tokens too). Already-dead tokens count as revoked. */
  async revoke(token: string): Promise<void> {
    const response = await this.send(this.settings.revokeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    if (response.ok) return;
    const body = (await readJson(response)) as TokenResponse | undefined;
    if (response.status === 400 && body?.error === 'invalid_token') return;
    throw new OAuthTokenEndpointError(body?.error ?? 'server_error', body?.error_description ?? `revoke answered ${response.status}`, response.status);
  }

  async fetchUserInfo(accessToken: string): Promise<GoogleUserInfo> {
    const response = await this.send(this.settings.userInfoUrl, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
    });
    const body = (await readJson(response)) as { sub?: unknown; email?: unknown; email_verified?: unknown } | undefined;
    if (!response.ok || typeof body?.sub !== 'string') {
      throw new OAuthTokenEndpointError('invalid_token', `userinfo answered ${response.status}`, response.status);
    }
    if (typeof body.email !== 'string') {
      throw new OAuthTokenEndpointError('invalid_scope', 'Google did not share the account’s email address', response.status);
    }
    return { sub: body.sub, email: body.email, emailVerified: body.email_verified === true || body.email_verified === 'true' };
  }

  async fetchUserEmail(accessToken: string): Promise<string> {
    return (await this.fetchUserInfo(accessToken)).email;
  }

  calendarPermissionGranted(grantedScopes: readonly string[], almanacScope: AlmanacScope): boolean {
    return calendarPermissionGranted(grantedScopes, almanacScope);
  }

  private async tokenRequest(fields: Record<string, string>): Promise<TokenResponse & { access_token: string }> {
    const response = await this.send(this.settings.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        ...fields,
        client_id: this.settings.clientId,
        client_secret: this.settings.clientSecret,
      }).toString(),
    });
    const body = (await readJson(response)) as TokenResponse | undefined;
    if (!response.ok || typeof body?.access_token !== 'string') {
      throw new OAuthTokenEndpointError(
        body?.error ?? (response.ok ? 'server_error' : 'http_error'),
        body?.error_description ?? `token endpoint answered ${response.status}`,
        response.status,
      );
    }
    return body as TokenResponse & { access_token: string };
  }

  private expiresAt(body: TokenResponse): number {
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600;
    return this.now() + seconds * 1000;
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      if (error instanceof ResponseTooLargeError) {
        throw new OAuthTokenEndpointError('response_too_large', `Google’s OAuth endpoint answered with more than ${formatBytes(error.limitBytes)}`, 0, { cause: error });
      }
      throw new OAuthTokenEndpointError('network_error', 'Google’s OAuth endpoint could not be reached', 0, { cause: error });
    }
  }
}

function splitScopes(scope: string | undefined): string[] {
  return (scope ?? '').split(/\s+/).filter(Boolean);
}

async function readJson(response: Response): Promise<unknown> {
  try {
    return JSON.parse(await response.text());
  } catch {
    return undefined;
  }
}
