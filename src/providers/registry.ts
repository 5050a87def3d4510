/**
 * Which providers this deployment offers, and how to reach each: the adapter, the
 * fetch it must use, and an optional revocation hook for disconnect. Built once in
 * the composition root from the configuration.
 */
import type { ProviderId } from '../domain/calendar.js';
import type { CalendarProvider, ChangeFeed, CredentialStore, ProviderCredentials, PushChannels, VersionedCredentials } from './types.js';

/** Almanac's access scopes (API.md), restated so providers do not depend on oauth/. */
export type AccessScope = 'free-busy' | 'read' | 'read-write';

export interface ProviderEntry {
  // The registry holds adapters of every credential kind; the account context pairs each with its own.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  adapter: CalendarProvider<any>;
  /** The fetch the adapter gets (SSRF-guarded for user-supplied servers). */
  fetch: typeof fetch;
  /** How the sync engine follows this provider's changes; without one, reads stay live. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  changes?: ChangeFeed<any>;
  /**
   * Change notifications the provider can send (needs a change feed and an https public
   * URL); without it the provider is polled only.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  push?: PushChannels<any>;
  /** Revoke stored credentials at the provider, best effort, on disconnect. */
  revoke?(stored: unknown): Promise<void>;
  /**
   * Turn stored credentials into what the adapter takes (OAuth: a self-refreshing handle
   * that writes new tokens through `store`, by compare-and-set under a refresh lease).
   * `accountKey` names the account uniquely in this process.
   */
  credentials(stored: VersionedCredentials, store: CredentialStore, accountKey: string): ProviderCredentials;
  /**
   * Whether the scopes the user granted at the provider cover what an Almanac scope
   * needs (Google: calendar.readonly serves read but not read-write). Absent for
   * providers whose credentials carry no scopes (CalDAV: a password reaches everything).
   */
  grantCovers?(grantedScopes: readonly string[], scope: AccessScope): boolean;
}

export class ProviderRegistry {
  private readonly entries = new Map<ProviderId, ProviderEntry>();

  register(id: ProviderId, entry: ProviderEntry): this {
    this.entries.set(id, entry);
    return this;
  }

  get(id: ProviderId): ProviderEntry | undefined {
    return this.entries.get(id);
  }

  /**
   * Whether an account's grant covers `scope`, asked of its provider; undefined when the
   * provider has no say (no scopes, or not configured here any more).
   */
  grantCovers(provider: ProviderId, grantedScopes: readonly string[], scope: AccessScope): boolean | undefined {
    return this.entries.get(provider)?.grantCovers?.(grantedScopes, scope);
  }

  /** Offered providers in the order the connect page shows them. */
  available(): ProviderId[] {
    return (['google', 'microsoft', 'apple', 'caldav'] as const).filter((id) => this.entries.has(id));
  }
}
