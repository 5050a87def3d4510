/**
 * Microsoft's side of connecting an account (identity platform v2.0 authorization code
 * flow with PKCE): the authorize redirect, code exchange, refresh and the account's
 * identity. Token endpoint failures leave as OAuthTokenEndpointError so the token
 * manager can tell a dead grant from a passing fault: the AADSTS codes that mean the
 * user must sign in again (700082 inactivity, 50173 revoked grant, 70000 invalid or
 * expired scopes, interaction and consent requirements) all leave as `invalid_grant`.
 *
 * The identity comes from the ID token of the token answer. It arrives over TLS straight
 * from the token endpoint, which OpenID Connect Core §3.1.3.7 accepts in place of
 * checking its signature, and it needs no Graph permission beyond `openid email profile`.
 */
import { OAuthTokenEndpointError } from '../oauth-token-manager.js';
import type { RefreshedTokens } from '../oauth-token-manager.js';
import { formatBytes, ResponseTooLargeError } from '../types.js';
import { bareScope, calendarPermissionGranted, microsoftScopesFor } from './microsoft-scopes.js';
import type { AlmanacScope } from './microsoft-scopes.js';
import { authorizeEndpoint, tokenEndpoint } from './microsoft-settings.js';
import type { MicrosoftSettings } from './microsoft-settings.js';

export interface MicrosoftAuthorizeParams {
  redirectUri: string;
  state: string;
  codeChallenge: string;
  almanacScope: AlmanacScope;
  loginHint?: string;
}

export interface MicrosoftIdentity {
  /** `tid/oid`: stable for the account across renames. */
  subject: string;
  /** The `email` claim, else the sign-in name (`preferred_username`). */
  email: string;
  name?: string;
}

export interface MicrosoftTokenSet {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  /** Bare permission names (`Calendars.Read`) plus the OIDC scopes granted. */
  grantedScopes: string[];
  identity: MicrosoftIdentity;
}

interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
  scope?: string;
  error?: string;
  error_description?: string;
  error_codes?: number[];
}

/** AADSTS codes after which only a new sign-in helps. */
const REAUTH_CODES = new Set([700082, 50173, 70000, 70008, 700084, 50076, 50079, 50078, 65001, 50158, 50132, 50133]);
const REAUTH_ERRORS = new Set(['invalid_grant', 'interaction_required', 'consent_required', 'login_required']);

export class MicrosoftOAuthClient {
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly timeoutMs: number;

  constructor(
    private readonly settings: MicrosoftSettings,
    options: { fetch?: typeof fetch; now?: () => number; timeoutMs?: number } = {},
  ) {
    this.fetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  buildAuthorizeUrl(params: MicrosoftAuthorizeParams): string {
    const url = new URL(authorizeEndpoint(this.settings));
    const q = url.searchParams;
    q.set('client_id', this.settings.clientId);
    q.set('response_type', 'code');
    q.set('redirect_uri', params.redirectUri);
    q.set('response_mode', 'query');
    q.set('scope', microsoftScopesFor(params.almanacScope).join(' '));
    q.set('state', params.state);
    q.set('code_challenge', params.codeChallenge);
    q.set('code_challenge_method', 'S256');
    // Lets the user pick (or add) the account instead of silently reusing a signed-in one.
    q.set('prompt', 'select_account');
    if (params.loginHint) q.set('login_hint', params.loginHint);
    return url.toString();
  }

  async exchangeCode(params: { code: string; redirectUri: string; codeVerifier: string; almanacScope: AlmanacScope }): Promise<MicrosoftTokenSet> {
    const body = await this.tokenRequest({
      grant_type: 'authorization_code',
      code: params.code,
      redirect_uri: params.redirectUri,
      code_verifier: params.codeVerifier,
      scope: microsoftScopesFor(params.almanacScope).join(' '),
    });
    if (!body.refresh_token) {
      throw new OAuthTokenEndpointError('missing_refresh_token', 'Microsoft issued no refresh token (offline_access missing)', 200);
    }
    const identity = identityOf(body.id_token);
    if (!identity) throw new OAuthTokenEndpointError('invalid_id_token', 'Microsoft sent no usable ID token', 200);
    return { accessToken: body.access_token, refreshToken: body.refresh_token, expiresAt: this.expiresAt(body), grantedScopes: splitScopes(body.scope), identity };
  }

  async refresh(refreshToken: string): Promise<RefreshedTokens & { grantedScopes: string[] }> {
    const body = await this.tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });
    return {
      accessToken: body.access_token,
      // Microsoft replaces the refresh token on every refresh: the new one must be kept.
      ...(body.refresh_token ? { refreshToken: body.refresh_token } : {}),
      expiresAt: this.expiresAt(body),
      grantedScopes: splitScopes(body.scope),
    };
  }

  calendarPermissionGranted(grantedScopes: readonly string[], almanacScope: AlmanacScope): boolean {
    return calendarPermissionGranted(grantedScopes, almanacScope);
  }

  private async tokenRequest(fields: Record<string, string>): Promise<TokenResponse & { access_token: string }> {
    let response: Response;
    try {
      response = await this.fetch(tokenEndpoint(this.settings), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ ...fields, client_id: this.settings.clientId, client_secret: this.settings.clientSecret }).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      if (error instanceof ResponseTooLargeError) {
        throw new OAuthTokenEndpointError('response_too_large', `Microsoft’s token endpoint answered with more than ${formatBytes(error.limitBytes)}`, 0, { cause: error });
      }
      throw new OAuthTokenEndpointError('network_error', 'Microsoft’s token endpoint could not be reached', 0, { cause: error });
    }
    let body: TokenResponse | undefined;
    try {
      body = JSON.parse(await response.text()) as TokenResponse;
    } catch {
      body = undefined;
    }
    if (response.ok && typeof body?.access_token === 'string') return body as TokenResponse & { access_token: string };
    const aadsts = aadstsCode(body);
    const description = aadsts ? `AADSTS${aadsts}${AADSTS_MEANING[aadsts] ? ` (${AADSTS_MEANING[aadsts]})` : ''}` : `token endpoint answered ${response.status}`;
    const error = body?.error ?? (response.ok ? 'server_error' : 'http_error');
    // Only the code is kept: the description carries trace ids and timestamps, never needed here.
    const reauth = REAUTH_ERRORS.has(error) || (aadsts !== undefined && REAUTH_CODES.has(aadsts));
    throw new OAuthTokenEndpointError(reauth ? 'invalid_grant' : error, description, response.status);
  }

  private expiresAt(body: TokenResponse): number {
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600;
    return this.now() + seconds * 1000;
  }
}

const AADSTS_MEANING: Record<number, string> = {
  700082: 'the refresh token expired after 90 days of inactivity',
  50173: 'the grant was revoked, for example after a password change',
  70000: 'the grant or its scopes are no longer valid',
  70008: 'the code or refresh token has expired',
  65001: 'consent is missing',
  50076: 'multi-factor authentication is required',
};

function aadstsCode(body: TokenResponse | undefined): number | undefined {
  const first = body?.error_codes?.[0];
  if (typeof first === 'number') return first;
  const m = /AADSTS(\d+)/.exec(body?.error_description ?? '');
  return m ? Number(m[1]) : undefined;
}

function splitScopes(scope: string | undefined): string[] {
  return (scope ?? '').split(/\s+/).filter(Boolean).map(bareScope);
}

/** The claims Almanac needs from an ID token (see the module comment on why it is not verified here). */
export function identityOf(idToken: string | undefined): MicrosoftIdentity | undefined {
  const payload = idToken?.split('.')[1];
  if (!payload) return undefined;
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const str = (name: string): string | undefined => (typeof claims[name] === 'string' && (claims[name] as string).trim() ? (claims[name] as string).trim() : undefined);
  const email = str('email') ?? str('preferred_username');
  const oid = str('oid') ?? str('sub');
  if (!email || !oid) return undefined;
  return { subject: `${str('tid') ?? ''}/${oid}`, email, ...(str('name') ? { name: str('name') } : {}) };
}
