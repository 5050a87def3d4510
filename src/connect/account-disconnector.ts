/** Removing connected accounts: revoke at the provider where it allows (best effort), then forget the credentials. */
import type { FastifyBaseLogger } from 'fastify';
import type { ProviderId } from '../domain/calendar.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { AccountRecord, AccountsRepository } from '../storage/repositories/accounts.repo.js';

export class AccountDisconnector {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly registry: ProviderRegistry,
    /** Stops the account's push channels (best effort), while its credentials still work. */
    private readonly stopPush?: (account: AccountRecord) => Promise<void>,
  ) {}

  async disconnect(userId: string, provider: ProviderId, accountId: string | undefined, log: FastifyBaseLogger): Promise<number> {
    const revoke = this.registry.get(provider)?.revoke;
    const stopPush = this.stopPush;
    if (revoke || stopPush) {
      const targets = (await this.accounts.listForUser(userId)).filter((a) => a.provider === provider && (accountId === undefined || a.accountId === accountId));
      if (stopPush) {
        await Promise.all(
          targets.map((a) => stopPush(a).catch((err: unknown) => log.warn({ provider, err: (err as Error).message }, 'stopping push channels failed; they expire on their own'))),
        );
      }
      if (revoke) await Promise.all(
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
