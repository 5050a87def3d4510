/**
 * Which calendars a user has, across all connected accounts, and which account owns a
 * given calendar. Accounts are asked in parallel; one failing account does not hide the
 * others, it is reported next to the results.
 */
import type { FastifyBaseLogger } from 'fastify';
import { PROVIDER_NAMES, type Calendar, type ProviderId } from '../domain/calendar.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { ProviderError } from '../providers/types.js';
import type { AccountRecord, AccountsRepository } from '../storage/repositories/accounts.repo.js';
import type { AccountContexts, AccountHandle } from './account-contexts.js';

export interface AccountCalendars {
  handle: AccountHandle;
  calendars: Calendar[];
}

export interface AccountFailure {
  account: AccountRecord;
  error: ProviderError;
}

export interface Directory {
  listed: AccountCalendars[];
  failures: AccountFailure[];
}

export class CalendarDirectory {
  constructor(
    private readonly accounts: AccountsRepository,
    private readonly contexts: AccountContexts,
  ) {}

  async list(userId: string, log: FastifyBaseLogger, only?: ProviderId, except?: ProviderId): Promise<Directory> {
    const all = await this.accounts.listForUser(userId);
    const accounts = all.filter((a) => (only === undefined || a.provider === only) && a.provider !== except);
    const results = await Promise.all(
      accounts.map(async (account): Promise<AccountCalendars | AccountFailure> => {
        try {
          const handle = await this.contexts.open(account, log);
          const calendars = await this.contexts.run(handle, (ctx) => handle.entry.adapter.listCalendars(ctx));
          return { handle, calendars };
        } catch (err) {
          if (err instanceof ProviderError) return { account, error: err };
          throw err;
        }
      }),
    );
    const listed: AccountCalendars[] = [];
    const failures: AccountFailure[] = [];
    for (const r of results) {
      if ('error' in r) failures.push(r);
      else listed.push(r);
    }
    return { listed, failures };
  }

  /**
   * The account holding `calendarId` for `provider`. A calendar of another provider is a
   * 400 (provider/calendar mismatch), an unknown one a 404 (API.md).
   */
  async resolve(userId: string, provider: ProviderId, calendarId: string, log: FastifyBaseLogger): Promise<AccountHandle> {
    // Only the named provider's accounts in the common case; the others just to explain a miss.
    const dir = await this.list(userId, log, provider);
    const owner = dir.listed.find((l) => l.calendars.some((c) => c.id === calendarId));
    if (owner) return owner.handle;
    const others = await this.list(userId, log, undefined, provider);
    const elsewhere = others.listed.find((l) => l.calendars.some((c) => c.id === calendarId));
    const name = PROVIDER_NAMES[provider];
    if (elsewhere) {
      throw new ValidationError(`Calendar ${calendarId} belongs to the user’s ${PROVIDER_NAMES[elsewhere.handle.account.provider]} account, not to their ${name} accounts`);
    }
    // Cannot tell whether it exists while an account that might hold it is failing: say that.
    if (dir.failures[0]) throw dir.failures[0].error;
    if (dir.listed.length === 0) {
      throw new NotFoundError(`No ${name} account is connected for this user`);
    }
    throw new NotFoundError(`Calendar ${calendarId} was not found in the connected ${name} accounts`);
  }
}
