import type { ClientCore } from './client.js';
import { AlmanacError } from './errors.js';
import type { RequestOptions } from './http.js';
import type {
  AuthorizeParams,
  ConnectionStatusResponse,
  DisconnectParams,
  DisconnectResponse,
  PushedAuthorizationResponse,
  PushedAuthorizeParams,
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

  /** The authorize parameters in their wire form; undefined ones are left out. */
  #authorizeFields(params: AuthorizeParams, caller: string): Record<string, string | undefined> {
    if (!params?.userId) throw new AlmanacError(`${caller} needs a userId`, 'VALIDATION_ERROR');
    const { clientId, redirectUri } = this.#core.config;
    const providers =
      typeof params.providers === 'string' ? params.providers : params.providers?.join(',');
    return {
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
    };
  }

  /**
   * The URL to send the user to so they can connect calendars. Builds it locally;
   * no request is made.
   *
   * With the authorize parameters it is the plain URL Mobiscroll's SDK builds. Such a
   * URL proves nothing about `userId` (anyone can type one), so its connect session may
   * only add accounts. With `{ requestUri }` from `pushAuthorizationRequest`, it is the
   * short URL of a pushed request, whose session may also show and manage the user's
   * existing accounts; `generatePushedAuthUrl` does both steps.
   */
  generateAuthUrl(params: AuthorizeParams | PushedAuthorizeParams): string {
    if (params && 'requestUri' in params && params.requestUri !== undefined) {
      if (typeof params.requestUri !== 'string' || params.requestUri === '') {
        throw new AlmanacError('generateAuthUrl needs a requestUri string', 'VALIDATION_ERROR');
      }
      return this.#core.http.url('/oauth/authorize', { client_id: this.#core.config.clientId, request_uri: params.requestUri });
    }
    return this.#core.http.url('/oauth/authorize', this.#authorizeFields(params as AuthorizeParams, 'generateAuthUrl'));
  }

  /**
   * Pushes the authorize parameters to the server with the client's credentials
   * (RFC 9126) and returns the one-time `request_uri` for `generateAuthUrl({ requestUri })`.
   * Redirect the user within `expires_in` seconds. A retried push only leaves an unused
   * request_uri behind, so 429/503 are retried like idempotent calls.
   */
  async pushAuthorizationRequest(params: AuthorizeParams, options: Omit<RequestOptions, 'accessToken'> = {}): Promise<PushedAuthorizationResponse> {
    const fields = Object.fromEntries(
      Object.entries(this.#authorizeFields(params, 'pushAuthorizationRequest')).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const res = await this.#core.clientRequest<Partial<PushedAuthorizationResponse>>('/oauth/par', fields, options, true);
    const data = res.data;
    if (!data || typeof data.request_uri !== 'string') {
      throw new AlmanacError('Pushed authorization request answered without a request_uri', 'API_ERROR', {
        status: res.status,
        requestId: res.requestId,
        body: res.data,
      });
    }
    return { request_uri: data.request_uri, expires_in: typeof data.expires_in === 'number' ? data.expires_in : 60 };
  }

  /**
   * Pushes the request and returns the URL to send the user to: the asynchronous
   * counterpart of `generateAuthUrl` for applications that can call the server first.
   */
  async generatePushedAuthUrl(params: AuthorizeParams, options: Omit<RequestOptions, 'accessToken'> = {}): Promise<string> {
    const { request_uri } = await this.pushAuthorizationRequest(params, options);
    return this.generateAuthUrl({ requestUri: request_uri });
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
