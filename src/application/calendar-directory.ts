/**
 * Which calendars a user has, across all connected accounts, and which account owns a
 * given calendar. An account whose calendar list the sync engine stored recently enough
 * is answered from storage (no provider request); the others are asked live, in
 * parallel. One failing account does not hide the others: it is reported next to the
 * results.
 */
import type { FastifyBaseLogger } from 'fastify';
import { PROVIDER_NAMES, type Calendar, type ProviderId } from '../domain/calendar.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { ProviderError } from '../providers/types.js';
import type { AccountRecord, AccountsRepository } from '../storage/repositories/accounts.repo.js';
import type { CalendarsRepository } from '../storage/repositories/calendars.repo.js';
import type { CalendarSyncRecord } from '../storage/repositories/calendar-sync.repo.js';
import type { MirrorFreshness } from './mirror-freshness.js';
import type { AccountContexts, AccountHandle } from './account-contexts.js';

export interface AccountCalendars {
  account: AccountRecord;
  calendars: Calendar[];
  /** Provider calendar id → Almanac's calendar row id, when the listing came from storage. */
  rowIds?: ReadonlyMap<string, string>;
  /** When the stored listing was made (absent for a live listing). */
  listedAt?: number;
  /** Calendar row id → its sync state, for a stored listing (rows without one are absent). */
  syncStates?: ReadonlyMap<string, CalendarSyncRecord>;
  /** The provider context of the account, opened (credentials decrypted) on first use. */
  handle(): Promise<AccountHandle>;
}

export interface AccountFailure {
  account: AccountRecord;
  error: ProviderError;
}

export interface Directory {
  listed: AccountCalendars[];
  failures: AccountFailure[];
}

export interface ListOptions {
  only?: ProviderId;
  except?: ProviderId;
  /** Ask every provider (the request said Cache-Control: no-cache). */
  noCache?: boolean;
}

export interface CalendarDirectoryDeps {
  accounts: AccountsRepository;
  contexts: AccountContexts;
  calendars: CalendarsRepository;
  freshness: MirrorFreshness;
  now?: () => number;
}

function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= make());
}

export class CalendarDirectory {
  constructor(private readonly deps: CalendarDirectoryDeps) {}

  async list(userId: string, log: FastifyBaseLogger, options: ListOptions = {}): Promise<Directory> {
    const { deps } = this;
    const now = (deps.now ?? Date.now)();
    const all = await deps.accounts.listForUserWithListing(userId);
    const accounts = all.filter(({ account: a }) => (options.only === undefined || a.provider === options.only) && a.provider !== options.except);
    const storedFor = new Set(
      accounts
        .filter(({ account: a, calendarsListedAt, pushUntil }) => deps.freshness.listingUsable(a.provider, calendarsListedAt, now, options.noCache === true, pushUntil))
        .map((a) => a.account.id),
    );
    const stored = await deps.calendars.listForAccountsWithSync([...storedFor]);

    const results = await Promise.all(
      accounts.map(async ({ account, calendarsListedAt }): Promise<AccountCalendars | AccountFailure> => {
        const handle = lazy(() => deps.contexts.open(account, log));
        if (storedFor.has(account.id)) {
          const rows = stored.filter((r) => r.record.accountId === account.id);
          return {
            account,
            calendars: rows.map((r) => r.record.calendar),
            rowIds: new Map(rows.map((r) => [r.record.calendar.id, r.record.id])),
            syncStates: new Map(rows.flatMap((r) => (r.sync ? [[r.record.id, r.sync] as const] : []))),
            listedAt: calendarsListedAt ?? now,
            handle,
          };
        }
        try {
          const opened = await handle();
          const calendars = await deps.contexts.run(opened, (ctx) => opened.entry.adapter.listCalendars(ctx));
          return { account, calendars, handle };
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
   * The account holding `calendarId` for `provider`, with the calendar's row id when it
   * is mirrored. A calendar of another provider is a 400 (provider/calendar mismatch), an
   * unknown one a 404 (API.md).
   */
  async resolve(userId: string, provider: ProviderId, calendarId: string, log: FastifyBaseLogger): Promise<{ handle: AccountHandle; rowId?: string }> {
    // Only the named provider's accounts in the common case; the others just to explain a miss.
    let dir = await this.list(userId, log, { only: provider });
    let owner = dir.listed.find((l) => l.calendars.some((c) => c.id === calendarId));
    if (!owner && dir.listed.some((l) => l.rowIds)) {
      // A calendar created since the stored listing: ask the provider before calling it unknown.
      dir = await this.list(userId, log, { only: provider, noCache: true });
      owner = dir.listed.find((l) => l.calendars.some((c) => c.id === calendarId));
    }
    if (owner) {
      const rowId = owner.rowIds?.get(calendarId) ?? (await this.deps.calendars.find(owner.account.id, calendarId))?.id;
      return { handle: await owner.handle(), ...(rowId ? { rowId } : {}) };
    }
    const others = await this.list(userId, log, { except: provider });
    const elsewhere = others.listed.find((l) => l.calendars.some((c) => c.id === calendarId));
    const name = PROVIDER_NAMES[provider];
    if (elsewhere) {
      throw new ValidationError(`Calendar ${calendarId} belongs to the user’s ${PROVIDER_NAMES[elsewhere.account.provider]} account, not to their ${name} accounts`);
    }
    // Cannot tell whether it exists while an account that might hold it is failing: say that.
    if (dir.failures[0]) throw dir.failures[0].error;
    if (dir.listed.length === 0) {
      throw new NotFoundError(`No ${name} account is connected for this user`);
    }
    throw new NotFoundError(`Calendar ${calendarId} was not found in the connected ${name} accounts`);
  }
}
