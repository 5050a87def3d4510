import type { ClientCore } from './client.js';
import { AlmanacError } from './errors.js';
import type { RequestOptions } from './http.js';
import type {
  AuthorizeParams,
  ConnectionStatusResponse,
  DisconnectParams,
  DisconnectResponse,
  RevokeResponse,
  TokenResponse,
} from './types.js';

/** Options of `auth.getToken`. */
export interface GetTokenOptions extends Omit<RequestOptions, 'accessToken'> {
  /** The PKCE verifier whose challenge went into the authorize URL. */
  codeVerifier?: string;
  /** Only if the authorize URL used a redirect URI other than the client's. */
  redirectUri?: string;
}

/** `client.auth`: the OAuth flow and the user's provider connections. */
export class Auth {
  readonly #core: ClientCore;

  constructor(core: ClientCore) {
    this.#core = core;
  }

  /**
   * The URL to send the user to so they can connect calendars. Builds it locally;
   * no request is made.
   */
  generateAuthUrl(params: AuthorizeParams): string {
    if (!params?.userId) throw new AlmanacError('generateAuthUrl needs a userId', 'VALIDATION_ERROR');
    const { clientId, redirectUri } = this.#core.config;
    const providers =
      typeof params.providers === 'string' ? params.providers : params.providers?.join(',');
    return this.#core.http.url('/oauth/authorize', {
      response_type: 'code',
      client_id: clientId,
      user_id: params.userId,
      redirect_uri: params.redirectUri ?? redirectUri,
      scope: params.scope,
      state: params.state,
      providers: providers || undefined,
      lng: params.lng,
      theme: params.theme,
      code_challenge: params.codeChallenge,
      code_challenge_method: params.codeChallenge ? 'S256' : undefined,
    });
  }

  /**
   * Exchanges the `code` from the redirect for tokens, stores them on the client
   * (as Mobiscroll's SDK does) and returns them. Codes are single use: this call
   * is never retried automatically.
   */
  async getToken(code: string, options: GetTokenOptions = {}): Promise<TokenResponse> {
    if (!code) throw new AlmanacError('getToken needs the authorization code', 'VALIDATION_ERROR');
    const { codeVerifier, redirectUri, ...requestOptions } = options;
    const fields: Record<string, string> = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri ?? this.#core.config.redirectUri,
    };
    if (codeVerifier) fields.code_verifier = codeVerifier;
    const tokens = await this.#core.tokenRequest(fields, requestOptions);
    this.setCredentials(tokens);
    return { ...tokens };
  }

  /** Stores the tokens used by every call. */
  setCredentials(tokens: TokenResponse): void {
    if (!tokens || (typeof tokens.access_token !== 'string' && typeof tokens.refresh_token !== 'string')) {
      throw new AlmanacError('setCredentials needs an access_token or a refresh_token', 'VALIDATION_ERROR');
    }
    this.#core.setCredentials(tokens);
  }

  /**
   * Refreshes the tokens now, or joins a refresh already in flight. Emits `tokens`
   * and calls `onTokensRefreshed` before resolving. The refresh token rotates: the
   * one used here is invalid afterwards.
   */
  async refresh(options: Pick<RequestOptions, 'signal'> = {}): Promise<TokenResponse> {
    return this.#core.refresh(options.signal);
  }

  /**
   * Revokes every access and refresh token of the user for this client. Without an
   * argument it revokes the stored credentials (preferring the refresh token, which
   * does not expire) and clears them. The server answers success for unknown tokens.
   */
  async revoke(token?: string, options: Omit<RequestOptions, 'accessToken'> = {}): Promise<RevokeResponse> {
    const stored = this.#core.credentials;
    const target = token ?? stored?.refresh_token ?? stored?.access_token;
    if (!target) throw new AlmanacError('No token to revoke', 'VALIDATION_ERROR');
    const result = await this.#core.callPublic<RevokeResponse>(
      // Revoking twice is harmless, so a 429/503 may be retried despite the POST.
      { method: 'POST', path: '/oauth/revoke', body: { token: target }, idempotent: true },
      options,
    );
    if (stored && (target === stored.refresh_token || target === stored.access_token)) {
      if (this.#core.credentials === stored) this.#core.setCredentials(undefined);
    }
    return result;
  }

  /** Which provider accounts the user has connected, per provider. */
  async getConnectionStatus(options?: RequestOptions): Promise<ConnectionStatusResponse> {
    return this.#core.call({ method: 'GET', path: '/oauth/connection-status' }, options);
  }

  /** Disconnects one account of a provider, or all of them when `account` is omitted. */
  async disconnect(params: DisconnectParams, options?: RequestOptions): Promise<DisconnectResponse> {
    return this.#core.call(
      {
        method: 'POST',
        path: '/oauth/disconnect',
        query: { provider: params.provider, account: params.account },
        // Parameters travel in the query, like Mobiscroll's SDK; an empty JSON body
        // keeps servers that insist on one for POST happy.
        body: {},
        // Disconnecting an already disconnected account changes nothing.
        idempotent: true,
      },
      options,
    );
  }
}
