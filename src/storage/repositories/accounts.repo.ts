import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { ProviderId } from '../../domain/calendar.js';
import type { Database } from '../schema.js';

export type SyncState = 'ok' | 'reauth_required';

export interface AccountRecord {
  id: string;
  userId: string;
  provider: ProviderId;
  accountId: string;
  display: string | null;
  grantedScopes: string[];
  calendarPermissionGranted: boolean;
  syncState: SyncState;
  createdAt: number;
  updatedAt: number;
}

export interface AccountUpsert {
  userId: string;
  provider: ProviderId;
  accountId: string;
  display: string | null;
  /** Plain provider credentials: sealed here, never stored as given. */
  credentials: unknown;
  grantedScopes: string[];
  calendarPermissionGranted: boolean;
}

type Row = Selectable<Database['accounts']>;

function toRecord(row: Row): AccountRecord {
  return {
    id: row.id,
    userId: row.user_id,
    provider: row.provider as ProviderId,
    accountId: row.account_id,
    display: row.display,
    grantedScopes: JSON.parse(row.granted_scopes) as string[],
    calendarPermissionGranted: row.calendar_permission === 1,
    syncState: row.sync_state as SyncState,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Connected provider accounts. Credentials are sealed with AES-256-GCM, the ciphertext
 * bound to the row's id so it cannot be replayed onto another account.
 */
export class AccountsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly box: SecretBox,
  ) {}

  private aad(id: string): string {
    return `account:${id}`;
  }

  /** Connecting the same provider account again updates it instead of adding a twin. */
  async upsert(input: AccountUpsert, now = Date.now()): Promise<AccountRecord> {
    const existing = await this.db
      .selectFrom('accounts')
      .select('id')
      .where('user_id', '=', input.userId)
      .where('provider', '=', input.provider)
      .where('account_id', '=', input.accountId)
      .executeTakeFirst();
    const id = existing?.id ?? randomUUID();
    const sealed = this.box.seal(JSON.stringify(input.credentials), this.aad(id));
    const values = {
      display: input.display,
      credentials: sealed,
      granted_scopes: JSON.stringify(input.grantedScopes),
      calendar_permission: input.calendarPermissionGranted ? 1 : 0,
      sync_state: 'ok',
      updated_at: now,
    };
    if (existing) {
      await this.db.updateTable('accounts').set(values).where('id', '=', id).execute();
    } else {
      await this.db
        .insertInto('accounts')
        .values({ id, user_id: input.userId, provider: input.provider, account_id: input.accountId, created_at: now, ...values })
        .onConflict((oc) => oc.columns(['user_id', 'provider', 'account_id']).doUpdateSet(values))
        .execute();
    }
    const row = await this.db
      .selectFrom('accounts')
      .selectAll()
      .where('user_id', '=', input.userId)
      .where('provider', '=', input.provider)
      .where('account_id', '=', input.accountId)
      .executeTakeFirstOrThrow();
    // New or reconnected: its sync is due now (new credentials may have healed a failing account).
    await this.db
      .insertInto('sync_jobs')
      .values({ account_id: row.id, next_run_at: now })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ next_run_at: now, failures: 0 }))
      .execute();
    return toRecord(row);
  }

  async listForUser(userId: string): Promise<AccountRecord[]> {
    const rows = await this.db.selectFrom('accounts').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
    return rows.map(toRecord);
  }

  async find(userId: string, accountRowId: string): Promise<AccountRecord | undefined> {
    const row = await this.db.selectFrom('accounts').selectAll().where('user_id', '=', userId).where('id', '=', accountRowId).executeTakeFirst();
    return row && toRecord(row);
  }

  async get(accountRowId: string): Promise<AccountRecord | undefined> {
    const row = await this.db.selectFrom('accounts').selectAll().where('id', '=', accountRowId).executeTakeFirst();
    return row && toRecord(row);
  }

  async readCredentials<T>(accountRowId: string): Promise<T> {
    const row = await this.db.selectFrom('accounts').select(['credentials']).where('id', '=', accountRowId).executeTakeFirstOrThrow();
    return JSON.parse(this.box.open(row.credentials, this.aad(accountRowId))) as T;
  }

  async writeCredentials(accountRowId: string, credentials: unknown, now = Date.now()): Promise<void> {
    const sealed = this.box.seal(JSON.stringify(credentials), this.aad(accountRowId));
    await this.db.updateTable('accounts').set({ credentials: sealed, updated_at: now }).where('id', '=', accountRowId).execute();
  }

  async setSyncState(accountRowId: string, state: SyncState, now = Date.now()): Promise<void> {
    await this.db.updateTable('accounts').set({ sync_state: state, updated_at: now }).where('id', '=', accountRowId).execute();
  }

  /** Removes one account (by provider account id) or, without one, every account of the provider. */
  async remove(userId: string, provider: ProviderId, accountId?: string): Promise<AccountRecord[]> {
    let query = this.db.selectFrom('accounts').selectAll().where('user_id', '=', userId).where('provider', '=', provider);
    if (accountId !== undefined) query = query.where('account_id', '=', accountId);
    const rows = await query.execute();
    if (rows.length > 0) {
      await this.db.deleteFrom('accounts').where('id', 'in', rows.map((r) => r.id)).execute();
    }
    return rows.map(toRecord);
  }
}
