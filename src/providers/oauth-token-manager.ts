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
  /** Unique per account in this process (e.g. `google:<account id>`): refreshes are shared under it. */
  accountKey: string;
  initial: OAuthTokens;
  refresh(refreshToken: string): Promise<RefreshedTokens>;
  /** Stores new tokens; awaited before callers get the new access token. */
  persist(tokens: OAuthTokens): Promise<void>;
  /** Refresh this long before expiry, so a token does not die in flight. */
  skewMs?: number;
  now?: () => number;
}

/*
 * In-flight refreshes by account. Module-level on purpose: the owner may build a new
 * manager per request for the same account, and those must still share one refresh,
 * since some providers rotate refresh tokens and a second parallel refresh would race.
 */
const inFlight = new Map<string, Promise<OAuthTokens>>();

export class OAuthTokenManager implements OAuthCredentials {
  readonly kind = 'oauth' as const;
  private tokens: OAuthTokens;
  private readonly skewMs: number;
  private readonly now: () => number;

  constructor(private readonly options: OAuthTokenManagerOptions) {
    this.tokens = { ...options.initial };
    this.skewMs = options.skewMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  async getAccessToken(): Promise<string> {
    if (this.now() < this.tokens.expiresAt - this.skewMs) return this.tokens.accessToken;
    return (await this.refreshShared()).accessToken;
  }

  async refreshAfterRejection(rejected: string): Promise<string> {
    // Another caller already replaced the rejected token: use theirs instead of refreshing again.
    if (this.tokens.accessToken !== rejected) return this.tokens.accessToken;
    return (await this.refreshShared()).accessToken;
  }

  /** The tokens this manager currently holds (for owners that store them elsewhere too). */
  current(): Readonly<OAuthTokens> {
    return { ...this.tokens };
  }

  private async refreshShared(): Promise<OAuthTokens> {
    const key = this.options.accountKey;
    let flight = inFlight.get(key);
    if (!flight) {
      flight = this.runRefresh().finally(() => inFlight.delete(key));
      inFlight.set(key, flight);
    }
    const next = await flight;
    this.tokens = next;
    return next;
  }

  private async runRefresh(): Promise<OAuthTokens> {
    let refreshed: RefreshedTokens;
    try {
      refreshed = await this.options.refresh(this.tokens.refreshToken);
    } catch (error) {
      throw toProviderError(error);
    }
    const next: OAuthTokens = {
      accessToken: refreshed.accessToken,
      // Google keeps the refresh token across refreshes; Microsoft may rotate it.
      refreshToken: refreshed.refreshToken ?? this.tokens.refreshToken,
      expiresAt: refreshed.expiresAt,
    };
    // Adopt before persisting: the new access token is valid whether or not storage succeeds.
    this.tokens = next;
    await this.options.persist(next);
    return next;
  }
}

function toProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof OAuthTokenEndpointError) {
    if (error.error === 'invalid_grant') {
      return new ProviderError('AUTH_REVOKED', 'The provider no longer accepts this account’s authorization', {
        cause: error,
      });
    }
    if (error.status === 0 || error.status >= 500 || error.status === 429) {
      return new ProviderError('TEMPORARY', 'The provider’s token endpoint is unavailable', { cause: error });
    }
    return new ProviderError('UNKNOWN', `The provider refused to refresh the token (${error.error})`, { cause: error });
  }
  return new ProviderError('TEMPORARY', 'Refreshing the access token failed', { cause: error });
}
