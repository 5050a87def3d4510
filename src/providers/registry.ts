/**
 * Which providers this deployment offers, and how to reach each: the adapter, the
 * fetch it must use, and an optional revocation hook for disconnect. Built once in
 * the composition root from the configuration.
 */
import type { ProviderId } from '../domain/calendar.js';
import type { CalendarProvider, ChangeFeed, ProviderCredentials } from './types.js';

export interface ProviderEntry {
  // The registry holds adapters of every credential kind; the account context pairs each with its own.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  adapter: CalendarProvider<any>;
  /** The fetch the adapter gets (SSRF-guarded for user-supplied servers). */
  fetch: typeof fetch;
  /** How the sync engine follows this provider's changes; without one, reads stay live. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  changes?: ChangeFeed<any>;
  /** Revoke stored credentials at the provider, best effort, on disconnect. */
  revoke?(stored: unknown): Promise<void>;
  /** Turn stored credentials into what the adapter takes (OAuth: a self-refreshing handle). */
  credentials(stored: unknown, persist: (next: unknown) => Promise<void>, accountKey: string): ProviderCredentials;
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

  /** Offered providers in the order the connect page shows them. */
  available(): ProviderId[] {
    return (['google', 'microsoft', 'apple', 'caldav'] as const).filter((id) => this.entries.has(id));
  }
}
