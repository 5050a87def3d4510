/** Removing connected accounts: revoke at the provider where it allows (best effort), then forget the credentials. */
import type { FastifyBaseLogger } from 'fastify';
import type { ProviderId } from '../domain/calendar.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { AccountsRepository } from '../storage/repositories/accounts.repo.js';

export class AccountDisconnector {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly registry: ProviderRegistry,
  ) {}

  async disconnect(userId: string, provider: ProviderId, accountId: string | undefined, log: FastifyBaseLogger): Promise<number> {
    const revoke = this.registry.get(provider)?.revoke;
    if (revoke) {
      const targets = (await this.accounts.listForUser(userId)).filter((a) => a.provider === provider && (accountId === undefined || a.accountId === accountId));
      await Promise.all(
        targets.map(async (a) => {
          try {
            await revoke(await this.accounts.readCredentials(a.id));
          } catch (err) {
            // The local removal must still happen: a provider outage cannot keep credentials here.
            log.warn({ provider, err: (err as Error).message }, 'revocation at the provider failed; credentials removed locally anyway');
          }
        }),
      );
    }
    return (await this.accounts.remove(userId, provider, accountId)).length;
  }
}
