/**
 * Turns a stored account into a ProviderContext: decrypted credentials, the provider's
 * fetch, the account's credential store (versioned reads, compare-and-set writes and the
 * refresh lease, through which refreshed tokens are stored), and the marking of an account
 * whose credentials stopped working. The only bridge between storage and the adapters.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { AccountRecord, AccountsRepository } from '../storage/repositories/accounts.repo.js';
import type { ProviderRegistry, ProviderEntry } from '../providers/registry.js';
import { ProviderError, type ProviderContext } from '../providers/types.js';
import { failurePolicy } from './provider-failure-policy.js';

export interface AccountHandle {
  account: AccountRecord;
  entry: ProviderEntry;
  context: ProviderContext;
}

/** Told of every provider operation: which provider, `ok` or the ProviderError code, and how long it took. */
export type ProviderCallObserver = (provider: string, outcome: string, seconds: number) => void;

export class AccountContexts {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly registry: ProviderRegistry,
    private readonly observe: ProviderCallObserver = () => undefined,
  ) {}

  async open(account: AccountRecord, log: FastifyBaseLogger, signal?: AbortSignal): Promise<AccountHandle> {
    const entry = this.registry.get(account.provider);
    if (!entry) {
      const error = new ProviderError('UNKNOWN', `Provider ${account.provider} is not configured on this server`);
      error.provider = account.provider;
      throw error;
    }
    const store = this.accounts.credentialStore(account.id);
    const stored = await store.read();
    if (!stored) {
      const error = new ProviderError('AUTH_REVOKED', 'The account was disconnected');
      error.provider = account.provider;
      throw error;
    }
    const credentials = entry.credentials(stored, store, account.id);
    return {
      account,
      entry,
      context: { credentials, fetch: entry.fetch, signal, log: log.child({ provider: account.provider, account: account.id }) },
    };
  }

  /**
   * Runs one provider call; AUTH_REVOKED marks the account reauth_required so
   * connection-status tells the application, and the error still propagates, saying
   * which provider failed. A call that succeeds proves the credentials work again and
   * clears that mark.
   */
  async run<T>(handle: AccountHandle, call: (ctx: ProviderContext) => Promise<T>): Promise<T> {
    const started = performance.now();
    const observe = (outcome: string) => this.observe(handle.account.provider, outcome, (performance.now() - started) / 1000);
    try {
      const result = await call(handle.context);
      observe('ok');
      if (handle.account.syncState === 'reauth_required') {
        await this.accounts.setSyncState(handle.account.id, 'ok');
        handle.account = { ...handle.account, syncState: 'ok' };
      }
      return result;
    } catch (err) {
      observe(err instanceof ProviderError ? err.code.toLowerCase() : 'error');
      if (err instanceof ProviderError) {
        err.provider ??= handle.account.provider;
        if (failurePolicy(err).needsReconnect && handle.account.syncState !== 'reauth_required') {
          await this.accounts.setSyncState(handle.account.id, 'reauth_required');
        }
      }
      throw err;
    }
  }
}
