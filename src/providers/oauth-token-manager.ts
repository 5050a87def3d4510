/**
 * A provider-neutral OAuthCredentials: keeps one account's access token fresh and stores
 * what a refresh returns. Several instances may share the accounts (PostgreSQL), and
 * Microsoft rotates refresh tokens, so a refresh is coordinated twice: within a process
 * one refresh per account at a time (callers share it), and across instances through the
 * CredentialStore the owner passes in: a refresh lease in the database, so one instance
 * refreshes while the others wait for the tokens it stores, and a compare-and-set on the
 * credentials' version, so tokens that were overtaken (by a reconnect, or a refresh
 * after an expired lease) never overwrite newer ones.
 */
import { randomUUID } from 'node:crypto';
import { ProviderError } from './types.js';
import type { CredentialStore, OAuthCredentials, VersionedCredentials } from './types.js';

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

export interface OAuthTokenManagerOptions<S extends OAuthTokens = OAuthTokens> {
  /** Unique per account in this process (e.g. `google:<account id>`): refreshes and their tokens are shared under it. */
  accountKey: string;
  /** How failures name the provider (`Google`); `the provider` when absent. */
  providerName?: string;
  /** The stored credentials this manager starts from (tokens and whatever else the owner keeps), with their version. */
  initial: VersionedCredentials<S>;
  refresh(refreshToken: string): Promise<RefreshedTokens>;
  /** The account's credentials in storage: re-read, compare-and-set, refresh lease. */
  store: CredentialStore<S>;
  /** What this process's managers share: one per registry (per running instance). */
  shared: SharedOAuthState;
  /**
   * How long a refresh lease lasts: longer than a refresh and its write can take (the
   * token request's timeout plus a margin), so it only runs out when its holder died.
   */
  leaseMs?: number;
  /** How often a caller waiting for another instance's refresh looks at the stored version. */
  pollMs?: number;
  /** Refresh this long before expiry, so a token does not die in flight. */
  skewMs?: number;
  now?: () => number;
}

interface Flight {
  /** The stored version the refresh started from: its result is at least this new. */
  base: number;
  promise: Promise<VersionedCredentials<OAuthTokens>>;
}

interface AccountState {
  /** The newest stored credentials a manager of this process saw. */
  latest?: VersionedCredentials<OAuthTokens>;
  flight?: Flight;
}

/** Above this many accounts, states whose tokens have expired are swept (a refresh would replace them anyway). */
const SWEEP_ABOVE = 1000;

/**
 * Per account, within one process: the newest stored credentials any manager obtained
 * and the refresh in flight. The owner builds a new manager per request from what
 * storage held when the request began; a manager built just before another one's
 * refresh was stored starts with the old tokens, and without this would refresh again.
 */
export class SharedOAuthState {
  private readonly accounts = new Map<string, AccountState>();

  /** @internal */
  get(key: string, now: number): AccountState {
    let state = this.accounts.get(key);
    if (!state) {
      if (this.accounts.size >= SWEEP_ABOVE) {
        for (const [k, s] of this.accounts) {
          if (!s.flight && (!s.latest || s.latest.credentials.expiresAt <= now)) this.accounts.delete(k);
        }
      }
      state = {};
      this.accounts.set(key, state);
    }
    return state;
  }
}

const DEFAULT_LEASE_MS = 45_000;
/** A refresh found another instance's newer refresh under way: wait for its tokens instead. */
const OVERTAKEN = Symbol('overtaken');
const DEFAULT_POLL_MS = 100;

export class OAuthTokenManager<S extends OAuthTokens = OAuthTokens> implements OAuthCredentials {
  readonly kind = 'oauth' as const;
  private held: VersionedCredentials<S>;
  private readonly skewMs: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly now: () => number;

  constructor(private readonly options: OAuthTokenManagerOptions<S>) {
    this.held = { credentials: { ...options.initial.credentials }, version: options.initial.version };
    this.skewMs = options.skewMs ?? 60_000;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.now = options.now ?? Date.now;
    this.share(this.held);
    this.adoptNewer();
  }

  async getAccessToken(): Promise<string> {
    this.adoptNewer();
    if (this.usable(this.held.credentials)) return this.held.credentials.accessToken;
    return (await this.refreshShared()).credentials.accessToken;
  }

  async refreshAfterRejection(rejected: string): Promise<string> {
    this.adoptNewer();
    // Another caller already replaced the rejected token: use theirs instead of refreshing again.
    if (this.held.credentials.accessToken !== rejected) return this.held.credentials.accessToken;
    return (await this.refreshShared(rejected)).credentials.accessToken;
  }

  get accountKey(): string {
    return this.options.accountKey;
  }

  /** The tokens this manager currently holds (for owners that store them elsewhere too). */
  current(): Readonly<OAuthTokens> {
    const { accessToken, refreshToken, expiresAt } = this.held.credentials;
    return { accessToken, refreshToken, expiresAt };
  }

  /** The version of the stored credentials this manager's tokens are. */
  version(): number {
    return this.held.version;
  }

  private get name(): string {
    return this.options.providerName ?? 'the provider';
  }

  private state(): AccountState {
    return this.options.shared.get(this.options.accountKey, this.now());
  }

  /** Whether tokens serve a request: not about to expire, and not the access token the provider just refused. */
  private usable(tokens: OAuthTokens, rejected?: string): boolean {
    return this.now() < tokens.expiresAt - this.skewMs && tokens.accessToken !== rejected;
  }

  /** Stored versions only grow: a higher one is newer tokens (a refresh, or a reconnect's new grant). */
  private share(credentials: VersionedCredentials<S>): void {
    const state = this.state();
    if (!state.latest || credentials.version > state.latest.version) state.latest = credentials;
  }

  /** Takes the credentials another manager of this account stored since this one was built. */
  private adoptNewer(): void {
    const latest = this.state().latest;
    // The shared entry of an account holds what its managers stored, which is their S.
    if (latest && latest.version > this.held.version) this.held = latest as VersionedCredentials<S>;
  }

  private async refreshShared(rejected?: string): Promise<VersionedCredentials<S>> {
    for (;;) {
      const state = this.state();
      const flight = state.flight;
      if (flight && flight.base >= this.held.version) {
        // The refresh in flight started from these credentials or newer ones: its result serves this caller too.
        this.held = (await flight.promise) as VersionedCredentials<S>;
        return this.held;
      }
      if (flight) {
        // A refresh of credentials older than this manager's (the account was reconnected since): let it end, then look again.
        await flight.promise.catch(() => undefined);
        this.adoptNewer();
        if (this.usable(this.held.credentials, rejected)) return this.held;
        continue;
      }
      const own: Flight = {
        base: this.held.version,
        promise: this.refreshAcrossInstances(this.held, rejected)
          .then((result) => {
            this.share(result);
            return result;
          })
          .finally(() => {
            if (state.flight === own) state.flight = undefined;
          }),
      };
      state.flight = own;
      this.held = (await own.promise) as VersionedCredentials<S>;
      return this.held;
    }
  }

  /**
   * One refresh per account across instances: whoever takes the lease re-reads the
   * stored credentials (another instance may have refreshed since this request read
   * them) and refreshes only if they are still unusable; the others wait, polling the
   * stored version, and use the tokens the holder stores. A holder that dies leaves a
   * lease that runs out, and the next caller refreshes.
   */
  private async refreshAcrossInstances(from: VersionedCredentials<S>, rejected: string | undefined): Promise<VersionedCredentials<S>> {
    const { store } = this.options;
    const owner = randomUUID();
    // Long enough for a holder to finish, or to die and its lease to run out, and then for this caller's own refresh.
    const giveUpAt = this.now() + 2 * this.leaseMs + this.pollMs;
    let seen = from.version;
    for (;;) {
      if (await store.acquireLease(owner, this.leaseMs)) {
        try {
          const stored = await this.readStored();
          if (this.usable(stored.credentials, rejected)) return stored;
          const result = await this.refreshAndStore(stored, owner, rejected);
          if (result !== OVERTAKEN) return result;
        } finally {
          // Best effort: a lease that cannot be given back runs out by itself.
          await store.releaseLease(owner).catch(() => undefined);
        }
      }
      for (;;) {
        if (this.now() >= giveUpAt) {
          throw new ProviderError('TEMPORARY', `Another instance is still refreshing the access token at ${this.name}`);
        }
        await new Promise((resolve) => setTimeout(resolve, this.pollMs));
        const state = await store.state();
        if (!state) throw disconnected(this.name);
        if (state.version !== seen) {
          const stored = await this.readStored();
          if (this.usable(stored.credentials, rejected)) return stored;
          seen = stored.version;
        }
        // The holder gave the lease back without usable tokens (its refresh failed), or died and the lease ran out.
        if (state.leaseOwner === undefined) break;
      }
    }
  }

  private async readStored(): Promise<VersionedCredentials<S>> {
    const stored = await this.options.store.read();
    if (!stored) throw disconnected(this.name);
    return stored;
  }

  private async refreshAndStore(stored: VersionedCredentials<S>, owner: string, rejected: string | undefined): Promise<VersionedCredentials<S> | typeof OVERTAKEN> {
    let refreshed: RefreshedTokens;
    try {
      refreshed = await this.options.refresh(stored.credentials.refreshToken);
    } catch (error) {
      if (error instanceof OAuthTokenEndpointError && error.error === 'invalid_grant') {
        // A rotated refresh token is refused once its successor was issued. If this lease ran out during the
        // request and another instance refreshed with the same token, the newer tokens are (or will be) stored:
        // use them rather than declaring the grant dead.
        const state = await this.options.store.state();
        if (state && (state.version !== stored.version || (state.leaseOwner !== undefined && state.leaseOwner !== owner))) {
          const again = await this.readStored();
          if (this.usable(again.credentials, rejected)) return again;
          return OVERTAKEN;
        }
      }
      throw toProviderError(error, this.name);
    }
    const next: S = {
      ...stored.credentials,
      accessToken: refreshed.accessToken,
      // Google keeps the refresh token across refreshes; Microsoft rotates it.
      refreshToken: refreshed.refreshToken ?? stored.credentials.refreshToken,
      expiresAt: refreshed.expiresAt,
    };
    const version = await this.options.store.compareAndSet(next, stored.version);
    if (version !== undefined) return { credentials: next, version };
    // Another write came first (a reconnect, or a refresh after this lease ran out): what is stored
    // now is newer than these tokens, so it is used and kept rather than overwritten.
    return this.readStored();
  }
}

function disconnected(provider: string): ProviderError {
  return new ProviderError('AUTH_REVOKED', `The account was disconnected while its access token at ${provider} was being refreshed`);
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
