/**
 * A provider-neutral OAuthCredentials: keeps one account's access token fresh, refreshes
 * it at most once at a time per account in this process, and hands new tokens to the
 * owner's `persist` callback. Google and Microsoft adapters both receive one of these.
 */
import { ProviderError } from './types.js';
import type { OAuthCredentials } from './types.js';

export interface OAuthTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds at which the access token stops being accepted. */
  expiresAt: number;
}

/** What a refresh returns: providers that do not rotate refresh tokens omit it. */
export interface RefreshedTokens {
  accessToken: string;
  refreshToken?: string;
  expiresAt: number;
}

/**
 * A token endpoint's RFC 6749 §5.2 error (`{ error, error_description }`), thrown by the
 * provider's refresh function so this module can tell a dead grant from a passing fault.
 */
export class OAuthTokenEndpointError extends Error {
  constructor(
    /** The RFC 6749 `error` code, e.g. `invalid_grant`. */
    readonly error: string,
    /** The provider's `error_description`; safe to log, never contains the token. */
    readonly description: string,
    /** HTTP status of the answer; 0 when the request never got one. */
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(`${error}: ${description}`, options);
    this.name = 'OAuthTokenEndpointError';
  }
}

export interface OAuthTokenManagerOptions {
  /** Unique per account in this process (e.g. `google:<account id>`): refreshes and their tokens are shared under it. */
  accountKey: string;
  /** How failures name the provider (`Google`); `the provider` when absent. */
  providerName?: string;
  initial: OAuthTokens;
  refresh(refreshToken: string): Promise<RefreshedTokens>;
  /** Stores new tokens; awaited before callers get the new access token. */
  persist(tokens: OAuthTokens): Promise<void>;
  /** Refresh this long before expiry, so a token does not die in flight. */
  skewMs?: number;
  now?: () => number;
}

/*
 * Per account: the newest tokens any manager in this process obtained, and the refresh
 * in flight. Module-level on purpose: the owner builds a new manager per request from
 * what storage held when the request began. A manager built just before another one's
 * refresh was stored starts with the old tokens; without this it would refresh again
 * (after its own expiry check or Google's 401) once that refresh had finished, and
 * providers that rotate refresh tokens would see the second refresh race the first.
 */
interface SharedAccountState {
  tokens?: OAuthTokens;
  flight?: Promise<OAuthTokens>;
}
const accounts = new Map<string, SharedAccountState>();
/** Above this many accounts, states whose tokens have expired are swept (a refresh would replace them anyway). */
const SWEEP_ABOVE = 1000;

function sharedState(key: string, now: number): SharedAccountState {
  let state = accounts.get(key);
  if (!state) {
    if (accounts.size >= SWEEP_ABOVE) {
      for (const [k, s] of accounts) if (!s.flight && (!s.tokens || s.tokens.expiresAt <= now)) accounts.delete(k);
    }
    state = {};
    accounts.set(key, state);
  }
  return state;
}

export class OAuthTokenManager implements OAuthCredentials {
  readonly kind = 'oauth' as const;
  private tokens: OAuthTokens;
  private readonly skewMs: number;
  private readonly now: () => number;

  constructor(private readonly options: OAuthTokenManagerOptions) {
    this.tokens = { ...options.initial };
    this.skewMs = options.skewMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.adoptNewer();
  }

  async getAccessToken(): Promise<string> {
    this.adoptNewer();
    if (this.now() < this.tokens.expiresAt - this.skewMs) return this.tokens.accessToken;
    return (await this.refreshShared()).accessToken;
  }

  async refreshAfterRejection(rejected: string): Promise<string> {
    this.adoptNewer();
    // Another caller already replaced the rejected token: use theirs instead of refreshing again.
    if (this.tokens.accessToken !== rejected) return this.tokens.accessToken;
    return (await this.refreshShared()).accessToken;
  }

  get accountKey(): string {
    return this.options.accountKey;
  }

  /** The tokens this manager currently holds (for owners that store them elsewhere too). */
  current(): Readonly<OAuthTokens> {
    return { ...this.tokens };
  }

  private state(): SharedAccountState {
    return sharedState(this.options.accountKey, this.now());
  }

  /** Takes the tokens another manager of this account refreshed since this one was built. */
  private adoptNewer(): void {
    const latest = this.state().tokens;
    if (latest && latest.expiresAt > this.tokens.expiresAt) this.tokens = { ...latest };
  }

  private async refreshShared(): Promise<OAuthTokens> {
    const state = this.state();
    if (!state.flight) {
      const flight = this.runRefresh(state).finally(() => {
        if (state.flight === flight) state.flight = undefined;
      });
      state.flight = flight;
    }
    const next = await state.flight;
    this.tokens = { ...next };
    return next;
  }

  private async runRefresh(state: SharedAccountState): Promise<OAuthTokens> {
    let refreshed: RefreshedTokens;
    try {
      refreshed = await this.options.refresh(this.tokens.refreshToken);
    } catch (error) {
      throw toProviderError(error, this.options.providerName ?? 'the provider');
    }
    const next: OAuthTokens = {
      accessToken: refreshed.accessToken,
      // Google keeps the refresh token across refreshes; Microsoft may rotate it.
      refreshToken: refreshed.refreshToken ?? this.tokens.refreshToken,
      expiresAt: refreshed.expiresAt,
    };
    // Adopt and share before persisting: the new access token is valid whether or not storage succeeds.
    this.tokens = next;
    state.tokens = next;
    await this.options.persist(next);
    return next;
  }
}

const capitalized = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

function toProviderError(error: unknown, provider: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const name = capitalized(provider);
  if (error instanceof OAuthTokenEndpointError) {
    if (error.error === 'invalid_grant') {
      return new ProviderError('AUTH_REVOKED', `${name} no longer accepts this account’s authorization (invalid_grant)`, { cause: error });
    }
    if (error.status === 0 || error.status >= 500 || error.status === 429) {
      return new ProviderError('TEMPORARY', `${name}’s token endpoint is unavailable`, { cause: error });
    }
    return new ProviderError('UNKNOWN', `${name} refused to refresh the access token (${error.error})`, { cause: error });
  }
  return new ProviderError('TEMPORARY', `Refreshing the access token at ${provider} failed`, { cause: error });
}
