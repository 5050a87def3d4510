import { Auth } from './auth.js';
import { Calendars } from './calendars.js';
import { Webhooks } from './webhooks.js';
import { AlmanacError, AuthenticationError } from './errors.js';
import { Events } from './events.js';
import { DEFAULT_TIMEOUT_MS, HttpTransport } from './http.js';
import type { HttpRequest, HttpResponse, RequestOptions, RetryOptions } from './http.js';
import type { TokenResponse } from './types.js';

/** Constructor options of `AlmanacClient`. */
export interface AlmanacClientOptions {
  /**
   * Root of the API, including the `/api` base path, e.g. `https://almanac.example.com/api`
   * (Mobiscroll's equivalent is `https://connect.mobiscroll.com/api`).
   */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Must match a redirect URI registered for the client. */
  redirectUri: string;
  /** A fetch implementation; defaults to the platform's global `fetch`. */
  fetch?: typeof fetch;
  /** Per-attempt timeout in ms; 0 disables. Default 30 000 (Mobiscroll's SDK uses the same). */
  timeoutMs?: number;
  /** Retry policy for 429/503 and lost connections on idempotent calls; `false` turns it off. */
  retry?: false | RetryOptions;
  /**
   * Called after an automatic or explicit refresh stored new tokens, before the calls
   * waiting on it are retried. Persist the tokens here: the previous refresh token is
   * already invalid. A returned promise is awaited.
   */
  onTokensRefreshed?: (tokens: TokenResponse) => void | Promise<void>;
  /** Tokens to start with; the same as calling `setCredentials` right after construction. */
  credentials?: TokenResponse;
}

/** The configuration as `getConfig()` reports it. */
export interface AlmanacClientConfig {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

/** Events the client emits, with their listener signatures. */
export interface ClientEventMap {
  /** New tokens after a refresh. Listeners may return a promise; it is awaited. */
  tokens: (tokens: TokenResponse) => void | Promise<void>;
  /** A `tokens` listener or `onTokensRefreshed` failed. Without listeners, a warning is printed. */
  error: (error: unknown) => void;
}

type AnyListener = (...args: never[]) => unknown;

/** Resolves with `promise` unless `signal` aborts first; the promise itself keeps running. */
function raceAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** RFC 7617 Basic credentials; TextEncoder first because btoa only takes Latin-1. */
function basicAuth(clientId: string, clientSecret: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(`${clientId}:${clientSecret}`)) {
    binary += String.fromCharCode(byte);
  }
  return `Basic ${btoa(binary)}`;
}

function withBearer(req: HttpRequest, token: string): HttpRequest {
  return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
}

function normaliseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AlmanacError(`baseUrl is not an absolute URL: ${raw}`, 'CONFIGURATION_ERROR');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AlmanacError(`baseUrl must use http or https: ${raw}`, 'CONFIGURATION_ERROR');
  }
  if (url.search || url.hash) {
    throw new AlmanacError(`baseUrl must not have a query or fragment: ${raw}`, 'CONFIGURATION_ERROR');
  }
  return url.toString().replace(/\/+$/, '');
}

/**
 * State shared by the resources: configuration, transport, credentials, the
 * single-flight refresh and event listeners. Internal; not exported from the package.
 */
export class ClientCore {
  readonly config: AlmanacClientConfig;
  readonly http: HttpTransport;
  credentials?: TokenResponse;

  private readonly onTokensRefreshed?: AlmanacClientOptions['onTokensRefreshed'];
  private readonly listeners = new Map<string, Set<AnyListener>>();
  /** The refresh in flight, shared by every caller that needs one. */
  private refreshing?: Promise<TokenResponse>;
  /**
   * The last refresh token the server refused, with the error. A 401 that arrives
   * after that refusal would otherwise send the same dead token again.
   */
  private refused?: { refreshToken: string; error: AuthenticationError };

  constructor(options: AlmanacClientOptions) {
    const missing = (['baseUrl', 'clientId', 'clientSecret', 'redirectUri'] as const).filter(
      (key) => typeof options?.[key] !== 'string' || options[key] === '',
    );
    if (missing.length > 0) {
      throw new AlmanacError(`Missing client option(s): ${missing.join(', ')}`, 'CONFIGURATION_ERROR');
    }
    this.config = {
      baseUrl: normaliseBaseUrl(options.baseUrl),
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      redirectUri: options.redirectUri,
    };
    this.http = new HttpTransport({
      baseUrl: this.config.baseUrl,
      fetch: options.fetch,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      retry: options.retry ?? {},
    });
    this.onTokensRefreshed = options.onTokensRefreshed;
    if (options.credentials) this.setCredentials(options.credentials);
  }

  // -- events ---------------------------------------------------------------

  on(event: string, listener: AnyListener): void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
  }

  off(event: string, listener: AnyListener): void {
    this.listeners.get(event)?.delete(listener);
  }

  private listenersOf(event: string): AnyListener[] {
    return [...(this.listeners.get(event) ?? [])];
  }

  /**
   * Runs the `tokens` listeners and `onTokensRefreshed`, awaiting any promises so
   * persistence has finished before the waiting calls resume. A failing listener
   * must not fail the API call: the tokens are already rotated on the server.
   */
  private async announceTokens(tokens: TokenResponse): Promise<void> {
    const listeners = this.listenersOf('tokens') as Array<ClientEventMap['tokens']>;
    if (this.onTokensRefreshed) listeners.unshift(this.onTokensRefreshed);
    const results = await Promise.allSettled(
      listeners.map(async (listener) => listener({ ...tokens })),
    );
    for (const result of results) {
      if (result.status === 'fulfilled') continue;
      const errorListeners = this.listenersOf('error') as Array<ClientEventMap['error']>;
      if (errorListeners.length === 0) {
        console.warn('@almanac/sdk: a tokens listener failed; the new tokens may not be persisted', result.reason);
      }
      for (const listener of errorListeners) {
        try {
          listener(result.reason);
        } catch {
          // An error listener that throws has nobody left to tell.
        }
      }
    }
  }

  // -- tokens ---------------------------------------------------------------

  /** Replaces the stored tokens. Forgets a refused refresh token: the caller vouches for these. */
  setCredentials(tokens: TokenResponse | undefined): void {
    this.credentials = tokens ? { ...tokens } : undefined;
    this.refused = undefined;
  }

  /**
   * A form POST with the client's credentials (HTTP Basic, RFC 6749 §2.3.1), as the
   * token and pushed-authorization endpoints take it. Mobiscroll's SDK also sends
   * CLIENT_ID, which Almanac tolerates, so it is kept for servers that might look at it.
   */
  async clientRequest<T>(path: string, fields: Record<string, string>, options: RequestOptions = {}, idempotent = false): Promise<HttpResponse<T>> {
    const { clientId, clientSecret } = this.config;
    return this.http.request<T>(
      {
        method: 'POST',
        path,
        body: new URLSearchParams(fields),
        headers: { authorization: basicAuth(clientId, clientSecret), CLIENT_ID: clientId },
        idempotent,
      },
      { ...options, accessToken: undefined },
    );
  }

  /** `POST /oauth/token` with client authentication the way Mobiscroll's SDK sends it. */
  async tokenRequest(fields: Record<string, string>, options: RequestOptions = {}): Promise<TokenResponse> {
    const res = await this.clientRequest<TokenResponse>('/oauth/token', fields, options);
    const data = res.data as Partial<TokenResponse> | undefined;
    if (!data || typeof data.access_token !== 'string') {
      throw new AlmanacError('Token endpoint answered without an access_token', 'API_ERROR', {
        status: res.status,
        requestId: res.requestId,
        body: res.data,
      });
    }
    return data as TokenResponse;
  }

  /**
   * Refreshes the tokens, or joins the refresh already in flight. The shared refresh
   * is not tied to any caller's signal: one caller giving up must not fail the others.
   */
  refresh(signal?: AbortSignal): Promise<TokenResponse> {
    if (!this.refreshing) {
      const flight = this.performRefresh().finally(() => {
        this.refreshing = undefined;
      });
      // Every waiter may have aborted; the rejection must not become "unhandled".
      flight.catch(() => undefined);
      this.refreshing = flight;
    }
    return raceAbort(this.refreshing, signal);
  }

  private async performRefresh(): Promise<TokenResponse> {
    const current = this.credentials;
    if (!current?.refresh_token) {
      throw new AuthenticationError('No refresh token: the user has to authorize again');
    }
    if (this.refused?.refreshToken === current.refresh_token) throw this.refused.error;
    let fresh: TokenResponse;
    try {
      fresh = await this.tokenRequest({
        grant_type: 'refresh_token',
        refresh_token: current.refresh_token,
        // The server ignores it; Mobiscroll's SDK sends it, so proxies written for that see the same request.
        redirect_uri: this.config.redirectUri,
      });
    } catch (err) {
      // invalid_grant / invalid_client: only a new authorization helps, which is what
      // AuthenticationError means. Network and 5xx failures stay as they are: the
      // tokens may be fine and the call worth retrying later.
      if (err instanceof AlmanacError && (err.status === 400 || err.status === 401)) {
        const error = new AuthenticationError(`Token refresh failed: ${err.message}`, {
          status: err.status,
          errorCode: err.errorCode,
          requestId: err.requestId,
          body: err.body,
          method: err.method,
          url: err.url,
          cause: err,
        });
        this.refused = { refreshToken: current.refresh_token, error };
        throw error;
      }
      throw err;
    }
    // Servers that do not rotate may omit refresh_token; keep the one we have then.
    const merged: TokenResponse = {
      ...current,
      ...fresh,
      refresh_token: fresh.refresh_token ?? current.refresh_token,
    };
    this.credentials = merged;
    await this.announceTokens(merged);
    return { ...merged };
  }

  /**
   * A usable access token after `stale` was rejected. If another call already
   * refreshed (its 401 came back first), reuse that result instead of rotating again.
   */
  private async tokenAfter(stale: string, signal?: AbortSignal): Promise<string> {
    const current = this.credentials?.access_token;
    if (!this.refreshing && current && current !== stale) return current;
    return (await this.refresh(signal)).access_token;
  }

  private shouldRefreshAfter(err: unknown): boolean {
    if (!(err instanceof AuthenticationError) || err.status !== 401) return false;
    if (!this.credentials?.refresh_token) return false;
    // "Write access denied for current scope": a refreshed token keeps its scope, so
    // rotating tokens would only cost a round trip and a needless `tokens` event.
    return !/\bscope\b/i.test(err.message);
  }

  // -- requests -------------------------------------------------------------

  /** Sends an API call with the bearer token, refreshing once on 401. */
  async call<T>(req: HttpRequest, options: RequestOptions = {}): Promise<T> {
    if (options.accessToken) {
      return (await this.http.request<T>(withBearer(req, options.accessToken), options)).data;
    }
    let token = this.credentials?.access_token;
    if (!token) {
      if (!this.credentials?.refresh_token) {
        throw new AuthenticationError(
          'No credentials: call auth.getToken(code) or setCredentials(tokens) first',
        );
      }
      // Only a refresh token was stored (a common way to persist sessions): get an access token first.
      token = (await this.refresh(options.signal)).access_token;
    }
    try {
      return (await this.http.request<T>(withBearer(req, token), options)).data;
    } catch (err) {
      if (!this.shouldRefreshAfter(err)) throw err;
      const fresh = await this.tokenAfter(token, options.signal);
      // Exactly one retry: a second 401 means the new token is refused too, and looping would not help.
      return (await this.http.request<T>(withBearer(req, fresh), options)).data;
    }
  }

  /** Sends a call that authenticates some other way (or not at all). */
  async callPublic<T>(req: HttpRequest, options: RequestOptions = {}): Promise<T> {
    return (await this.http.request<T>(req, { ...options, accessToken: undefined })).data;
  }
}

/**
 * Client for Almanac's API. Same surface as Mobiscroll's `MobiscrollConnectClient`
 * (also exported under that name), plus a `baseUrl` option.
 */
export class AlmanacClient {
  readonly auth: Auth;
  readonly calendars: Calendars;
  readonly events: Events;
  readonly webhooks: Webhooks;

  readonly #core: ClientCore;

  constructor(options: AlmanacClientOptions) {
    this.#core = new ClientCore(options);
    this.auth = new Auth(this.#core);
    this.calendars = new Calendars(this.#core);
    this.events = new Events(this.#core);
    this.webhooks = new Webhooks(this.#core);
  }

  /** Stores the tokens used by every call (what `auth.getToken` returned, or what you persisted). */
  setCredentials(tokens: TokenResponse): void {
    this.auth.setCredentials(tokens);
  }

  /** A copy of the current tokens, including any refreshed since `setCredentials`. */
  getCredentials(): TokenResponse | undefined {
    return this.#core.credentials ? { ...this.#core.credentials } : undefined;
  }

  getConfig(): AlmanacClientConfig {
    return { ...this.#core.config };
  }

  on<E extends keyof ClientEventMap>(event: E, listener: ClientEventMap[E]): this;
  on(event: string, listener: AnyListener): this;
  on(event: string, listener: AnyListener): this {
    this.#core.on(event, listener);
    return this;
  }

  off<E extends keyof ClientEventMap>(event: E, listener: ClientEventMap[E]): this;
  off(event: string, listener: AnyListener): this;
  off(event: string, listener: AnyListener): this {
    this.#core.off(event, listener);
    return this;
  }

  /** Like `on`, removed after the first call. */
  once<E extends keyof ClientEventMap>(event: E, listener: ClientEventMap[E]): this {
    const wrapper = (...args: Parameters<ClientEventMap[E]>) => {
      this.#core.off(event, wrapper as AnyListener);
      return (listener as (...a: unknown[]) => unknown)(...args);
    };
    this.#core.on(event, wrapper as AnyListener);
    return this;
  }
}
