import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { SecretBox } from '../../crypto/secret-box.js';
import type { ProviderId } from '../../domain/calendar.js';
import { caldavIdentity, firstFreeId, publicIdCandidates } from '../../domain/account-identity.js';
import type { Database } from '../schema.js';

export type SyncState = 'ok' | 'reauth_required';

export interface AccountRecord {
  id: string;
  userId: string;
  provider: ProviderId;
  /** The public id: connection-status `id`, disconnect `account=`. */
  accountId: string;
  /** How the account is recognised (see domain/account-identity.ts). */
  identity: string;
  display: string | null;
  grantedScopes: string[];
  calendarPermissionGranted: boolean;
  syncState: SyncState;
  /** The connect session that added it while it waits for that session's code; null for the user's accounts. */
  pendingSession: string | null;
  createdAt: number;
  updatedAt: number;
}

/** What a connect session connected: it joins the user only when that session's code is exchanged. */
export interface PendingConnection {
  /** The connect session (`sid` of the oauth_req cookie). */
  sessionId: string;
  /** After this the session and its code are over: the row is deleted. */
  expiresAt: number;
  userId: string;
  provider: ProviderId;
  identity: string;
  /** The id to show, before any disambiguation (user name or email). */
  plainId: string;
  /** Public ids the new row must not take besides this session's own (a pushed session's view of the user's accounts). */
  takenIds?: readonly string[];
  display: string | null;
  /** Plain provider credentials: sealed here, never stored as given. */
  credentials: unknown;
  grantedScopes: string[];
  calendarPermissionGranted: boolean;
}

/** An account written as the user's own at once (tests, tools); the connect flow stages pending ones instead. */
export interface AccountUpsert {
  userId: string;
  provider: ProviderId;
  accountId: string;
  identity?: string;
  display: string | null;
  credentials: unknown;
  grantedScopes: string[];
  calendarPermissionGranted: boolean;
}

type Row = Selectable<Database['accounts']>;

/** An account's credentials and the version they were stored under (incremented by every write). */
export interface VersionedCredentials<T> {
  credentials: T;
  version: number;
}

function toRecord(row: Row): AccountRecord {
  return {
    id: row.id,
    userId: row.user_id,
    provider: row.provider as ProviderId,
    accountId: row.account_id,
    identity: row.identity,
    display: row.display,
    grantedScopes: JSON.parse(row.granted_scopes) as string[],
    calendarPermissionGranted: row.calendar_permission === 1,
    syncState: row.sync_state as SyncState,
    pendingSession: row.pending_session,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const LEGACY = 'legacy:';

/**
 * Connected provider accounts. Credentials are sealed with AES-256-GCM, the ciphertext
 * bound to the row's id so it cannot be replayed onto another account.
 *
 * A row is either one of the user's accounts (`pending_session` null: what tokens,
 * connection-status and the calendar API see) or a pending connection of one connect
 * session, which only `promote` (inside the code exchange) turns into the former.
 */
export class AccountsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly box: SecretBox,
  ) {}

  /** The same repository over a transaction, so its writes commit or roll back with the caller's. */
  inTransaction(trx: Kysely<Database>): AccountsRepository {
    return new AccountsRepository(trx, this.box);
  }

  private aad(id: string): string {
    return `account:${id}`;
  }

  private seal(id: string, credentials: unknown): string {
    return this.box.seal(JSON.stringify(credentials), this.aad(id));
  }

  /** The user's accounts (never pending ones), oldest first. */
  async listForUser(userId: string): Promise<AccountRecord[]> {
    const rows = await this.db
      .selectFrom('accounts')
      .selectAll()
      .where('user_id', '=', userId)
      .where('pending_session', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  /**
   * The user's accounts with when the sync engine last stored each one's calendar list
   * (null: never), in one query: the events and calendars reads ask this on every request.
   */
  async listForUserWithListing(userId: string): Promise<{ account: AccountRecord; calendarsListedAt: number | null; pushUntil: number | null }[]> {
    const rows = await this.db
      .selectFrom('accounts')
      .leftJoin('sync_jobs', 'sync_jobs.account_id', 'accounts.id')
      .selectAll('accounts')
      .select('sync_jobs.calendars_listed_at')
      // The latest expiry of the account's push channels: its listing stays usable longer under push.
      .select(
        sql<number | string | null>`(select max(pc.expires_at) from push_channels pc join calendars c on c.id = pc.calendar_id where c.account_id = accounts.id)`.as(
          'push_until',
        ),
      )
      .where('accounts.user_id', '=', userId)
      .where('accounts.pending_session', 'is', null)
      .orderBy('accounts.created_at')
      .orderBy('accounts.id')
      .execute();
    return rows.map((row) => {
      const { calendars_listed_at, push_until, ...account } = row;
      return {
        account: toRecord(account),
        calendarsListedAt: calendars_listed_at === null ? null : Number(calendars_listed_at),
        pushUntil: push_until === null ? null : Number(push_until),
      };
    });
  }

  /** What one connect session has connected so far, oldest first. */
  async listPending(userId: string, sessionId: string): Promise<AccountRecord[]> {
    const rows = await this.db
      .selectFrom('accounts')
      .selectAll()
      .where('user_id', '=', userId)
      .where('pending_session', '=', sessionId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  async find(userId: string, accountRowId: string): Promise<AccountRecord | undefined> {
    const row = await this.db.selectFrom('accounts').selectAll().where('user_id', '=', userId).where('id', '=', accountRowId).where('pending_session', 'is', null).executeTakeFirst();
    return row && toRecord(row);
  }

  /**
   * Stages what a connect session connected. Connecting the same account again in the
   * same session updates its pending row; the user's own accounts are not touched here.
   * The id shown is chosen among this session's connections only, so a plain session
   * learns nothing of the accounts the user already has.
   */
  async stagePending(input: PendingConnection, now = Date.now()): Promise<AccountRecord> {
    const values = {
      display: input.display,
      granted_scopes: JSON.stringify(input.grantedScopes),
      calendar_permission: input.calendarPermissionGranted ? 1 : 0,
      sync_state: 'ok',
      pending_expires_at: input.expiresAt,
      updated_at: now,
    };
    const update = async (): Promise<AccountRecord | undefined> => {
      const existing = await this.db
        .selectFrom('accounts')
        .select('id')
        .where('pending_session', '=', input.sessionId)
        .where('provider', '=', input.provider)
        .where('identity', '=', input.identity)
        .executeTakeFirst();
      if (!existing) return undefined;
      await this.db
        .updateTable('accounts')
        .set({ ...values, credentials: this.seal(existing.id, input.credentials), credentials_version: sql<number>`credentials_version + 1` })
        .where('id', '=', existing.id)
        .execute();
      return toRecord(await this.db.selectFrom('accounts').selectAll().where('id', '=', existing.id).executeTakeFirstOrThrow());
    };
    const updated = await update();
    if (updated) return updated;
    const siblings = await this.db.selectFrom('accounts').select('account_id').where('pending_session', '=', input.sessionId).where('provider', '=', input.provider).execute();
    const id = randomUUID();
    const accountId = firstFreeId(publicIdCandidates(input.provider, input.identity, input.plainId), new Set([...siblings.map((s) => s.account_id), ...(input.takenIds ?? [])]));
    try {
      await this.db
        .insertInto('accounts')
        .values({
          id,
          user_id: input.userId,
          provider: input.provider,
          account_id: accountId,
          identity: input.identity,
          credentials: this.seal(id, input.credentials),
          pending_session: input.sessionId,
          created_at: now,
          ...values,
        })
        .execute();
    } catch (err) {
      // The same form posted twice at once: the other request inserted the row; update it instead.
      const raced = await update();
      if (raced) return raced;
      throw err;
    }
    return toRecord(await this.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
  }

  /**
   * Joins a connect session's pending accounts to the user. An account the user already
   * has (same identity) takes the new credentials in place — same row, same public id —
   * which is how an account is repaired; a new one gets the first public id no other
   * account of the user holds. Run it inside the code exchange's transaction.
   */
  async promote(userId: string, sessionId: string, now = Date.now()): Promise<{ added: number; replaced: number }> {
    // Serialise joins for one user (PostgreSQL row lock; SQLite transactions are serial anyway), so two
    // exchanges cannot both pick the same free public id.
    await this.db.updateTable('end_users').set({ created_at: sql`created_at` }).where('id', '=', userId).execute();
    const pending = await this.listPending(userId, sessionId);
    let added = 0;
    let replaced = 0;
    for (const p of pending) {
      const credentials = JSON.parse(this.box.open((await this.rowCredentials(p.id)), this.aad(p.id))) as unknown;
      const active = await this.db
        .selectFrom('accounts')
        .select('id')
        .where('user_id', '=', userId)
        .where('provider', '=', p.provider)
        .where('identity', '=', p.identity)
        .where('pending_session', 'is', null)
        .executeTakeFirst();
      if (active) {
        await this.db
          .updateTable('accounts')
          .set({
            credentials: this.seal(active.id, credentials),
            // A reconnect replaces the grant: a refresh of the old one still running loses its
            // compare-and-set, and its lease no longer keeps the new grant's refreshes waiting.
            credentials_version: sql<number>`credentials_version + 1`,
            refresh_lease_owner: null,
            refresh_lease_until: null,
            display: p.display,
            granted_scopes: JSON.stringify(p.grantedScopes),
            calendar_permission: p.calendarPermissionGranted ? 1 : 0,
            sync_state: 'ok',
            updated_at: now,
          })
          .where('id', '=', active.id)
          .execute();
        await this.db.deleteFrom('accounts').where('id', '=', p.id).execute();
        await this.scheduleSync(active.id, now);
        replaced++;
        continue;
      }
      const taken = await this.db.selectFrom('accounts').select('account_id').where('user_id', '=', userId).where('provider', '=', p.provider).where('pending_session', 'is', null).execute();
      const accountId = firstFreeId(publicIdCandidates(p.provider, p.identity, p.accountId), new Set(taken.map((t) => t.account_id)));
      await this.db
        .updateTable('accounts')
        .set({ account_id: accountId, pending_session: null, pending_expires_at: null, updated_at: now })
        .where('id', '=', p.id)
        .execute();
      await this.scheduleSync(p.id, now);
      added++;
    }
    return { added, replaced };
  }

  /** A joined or repaired account is synced at once (new credentials may heal a failing one). */
  private async scheduleSync(accountRowId: string, now: number): Promise<void> {
    await this.db
      .insertInto('sync_jobs')
      .values({ account_id: accountRowId, next_run_at: now })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ next_run_at: now, failures: 0 }))
      .execute();
  }

  private async rowCredentials(id: string): Promise<string> {
    return (await this.db.selectFrom('accounts').select('credentials').where('id', '=', id).executeTakeFirstOrThrow()).credentials;
  }

  /** Forgets a session's pending connections: one (by public id), one provider's, or all of them. */
  async deletePending(userId: string, sessionId: string, provider?: ProviderId, accountId?: string): Promise<number> {
    let query = this.db.deleteFrom('accounts').where('user_id', '=', userId).where('pending_session', '=', sessionId);
    if (provider !== undefined) query = query.where('provider', '=', provider);
    if (accountId !== undefined) query = query.where('account_id', '=', accountId);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Housekeeping: pending connections whose session and code are over can never join; their credentials go. */
  async pruneExpiredPending(now = Date.now()): Promise<number> {
    const result = await this.db.deleteFrom('accounts').where('pending_session', 'is not', null).where('pending_expires_at', '<', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Writes one of the user's accounts directly, updating the one with the same identity.
   * The connect flow never does this (it stages, and the code exchange promotes); tests
   * and tools that need an account in place do.
   */
  async upsert(input: AccountUpsert, now = Date.now()): Promise<AccountRecord> {
    const identity = input.identity ?? input.accountId;
    const existing = await this.db
      .selectFrom('accounts')
      .select('id')
      .where('user_id', '=', input.userId)
      .where('provider', '=', input.provider)
      .where('identity', '=', identity)
      .where('pending_session', 'is', null)
      .executeTakeFirst();
    const id = existing?.id ?? randomUUID();
    const values = {
      display: input.display,
      credentials: this.seal(id, input.credentials),
      granted_scopes: JSON.stringify(input.grantedScopes),
      calendar_permission: input.calendarPermissionGranted ? 1 : 0,
      sync_state: 'ok',
      updated_at: now,
    };
    if (existing) await this.db.updateTable('accounts').set({ ...values, credentials_version: sql<number>`credentials_version + 1` }).where('id', '=', id).execute();
    else {
      await this.db
        .insertInto('accounts')
        .values({ id, user_id: input.userId, provider: input.provider, account_id: input.accountId, identity, pending_session: null, pending_expires_at: null, created_at: now, ...values })
        .execute();
    }
    await this.scheduleSync(id, now);
    return toRecord(await this.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
  }

  /** One of the users' accounts by row id (never a pending one). */
  async get(accountRowId: string): Promise<AccountRecord | undefined> {
    const row = await this.db.selectFrom('accounts').selectAll().where('id', '=', accountRowId).where('pending_session', 'is', null).executeTakeFirst();
    return row && toRecord(row);
  }

  async readCredentials<T>(accountRowId: string): Promise<T> {
    return JSON.parse(this.box.open(await this.rowCredentials(accountRowId), this.aad(accountRowId))) as T;
  }

  /** The credentials and the version they were stored under; undefined when the account is gone. */
  async readVersioned<T>(accountRowId: string): Promise<VersionedCredentials<T> | undefined> {
    const row = await this.db.selectFrom('accounts').select(['credentials', 'credentials_version']).where('id', '=', accountRowId).executeTakeFirst();
    if (!row) return undefined;
    return { credentials: JSON.parse(this.box.open(row.credentials, this.aad(accountRowId))) as T, version: row.credentials_version };
  }

  /** The stored version and who holds an unexpired refresh lease, without opening the credentials. */
  async credentialsState(accountRowId: string, now = Date.now()): Promise<{ version: number; leaseOwner?: string } | undefined> {
    const row = await this.db
      .selectFrom('accounts')
      .select(['credentials_version', 'refresh_lease_owner', 'refresh_lease_until'])
      .where('id', '=', accountRowId)
      .executeTakeFirst();
    if (!row) return undefined;
    const leased = row.refresh_lease_owner !== null && row.refresh_lease_until !== null && row.refresh_lease_until > now;
    return { version: row.credentials_version, ...(leased ? { leaseOwner: row.refresh_lease_owner! } : {}) };
  }

  /**
   * Writes credentials only if the row is still at `expectedVersion`, and increments it.
   * A refresh whose tokens were overtaken (the account was reconnected, or another
   * instance stored a rotated refresh token) must not put older tokens back. Returns
   * the new version, or undefined when nothing was written.
   */
  async compareAndSetCredentials(accountRowId: string, credentials: unknown, expectedVersion: number, now = Date.now()): Promise<number | undefined> {
    const result = await this.db
      .updateTable('accounts')
      .set({ credentials: this.seal(accountRowId, credentials), credentials_version: sql<number>`credentials_version + 1`, updated_at: now })
      .where('id', '=', accountRowId)
      .where('credentials_version', '=', expectedVersion)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1 ? expectedVersion + 1 : undefined;
  }

  /**
   * Takes the account's refresh lease for `ttlMs` unless another owner holds one that has
   * not expired: one conditional UPDATE, so of several instances asking at once exactly
   * one gets it. The holder asking again extends it.
   */
  async acquireRefreshLease(accountRowId: string, owner: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    const result = await this.db
      .updateTable('accounts')
      .set({ refresh_lease_owner: owner, refresh_lease_until: now + ttlMs })
      .where('id', '=', accountRowId)
      .where((eb) => eb.or([eb('refresh_lease_owner', 'is', null), eb('refresh_lease_until', '<=', now), eb('refresh_lease_owner', '=', owner)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Gives the lease back if `owner` still holds it (one that expired and was taken over stays with its new holder). */
  async releaseRefreshLease(accountRowId: string, owner: string): Promise<void> {
    await this.db
      .updateTable('accounts')
      .set({ refresh_lease_owner: null, refresh_lease_until: null })
      .where('id', '=', accountRowId)
      .where('refresh_lease_owner', '=', owner)
      .execute();
  }

  /**
   * One account's credentials as a token refresh sees them: versioned reads,
   * compare-and-set writes and the refresh lease (the shape of the providers'
   * CredentialStore port, which storage does not import).
   */
  credentialStore(accountRowId: string) {
    return {
      read: () => this.readVersioned<unknown>(accountRowId),
      state: () => this.credentialsState(accountRowId),
      compareAndSet: (next: unknown, expectedVersion: number) => this.compareAndSetCredentials(accountRowId, next, expectedVersion),
      acquireLease: (owner: string, ttlMs: number) => this.acquireRefreshLease(accountRowId, owner, ttlMs),
      releaseLease: (owner: string) => this.releaseRefreshLease(accountRowId, owner),
    };
  }

  /** Replaces the credentials unconditionally (tools and tests); the version moves on, so a refresh in flight will not overwrite them. */
  async writeCredentials(accountRowId: string, credentials: unknown, now = Date.now()): Promise<void> {
    await this.db
      .updateTable('accounts')
      .set({ credentials: this.seal(accountRowId, credentials), credentials_version: sql<number>`credentials_version + 1`, updated_at: now })
      .where('id', '=', accountRowId)
      .execute();
  }

  async setSyncState(accountRowId: string, state: SyncState, now = Date.now()): Promise<void> {
    await this.db.updateTable('accounts').set({ sync_state: state, updated_at: now }).where('id', '=', accountRowId).execute();
  }

  /** Removes one of the user's accounts (by public id) or, without one, every account of the provider. */
  async remove(userId: string, provider: ProviderId, accountId?: string): Promise<AccountRecord[]> {
    let query = this.db.selectFrom('accounts').selectAll().where('user_id', '=', userId).where('provider', '=', provider).where('pending_session', 'is', null);
    if (accountId !== undefined) query = query.where('account_id', '=', accountId);
    const rows = await query.execute();
    if (rows.length > 0) {
      await this.db.deleteFrom('accounts').where('id', 'in', rows.map((r) => r.id)).execute();
    }
    return rows.map(toRecord);
  }

  /**
   * CalDAV accounts stored before accounts had an identity carry a `legacy:` marker: the
   * server is inside their sealed credentials, which a migration cannot open. Run at
   * start; idempotent, so several instances may race through it. Returns how many rows
   * were upgraded and how many were left (unreadable, or their identity already taken).
   */
  async upgradeLegacyIdentities(): Promise<{ upgraded: number; skipped: number }> {
    const rows = await this.db.selectFrom('accounts').select(['id', 'credentials']).where('identity', 'like', `${LEGACY}%`).execute();
    let upgraded = 0;
    let skipped = 0;
    for (const row of rows) {
      let identity: string;
      try {
        const c = JSON.parse(this.box.open(row.credentials, this.aad(row.id))) as { serverUrl?: string; principalUrl?: string; username?: string };
        const where = c.principalUrl ?? c.serverUrl;
        if (!where || !c.username) throw new Error('no server or user name');
        identity = caldavIdentity(where, c.username);
      } catch {
        skipped++;
        continue;
      }
      try {
        const result = await this.db.updateTable('accounts').set({ identity }).where('id', '=', row.id).where('identity', 'like', `${LEGACY}%`).executeTakeFirst();
        upgraded += Number(result.numUpdatedRows);
      } catch {
        // Another row of the user already has this identity (connected since): leave this one as it is.
        skipped++;
      }
    }
    return { upgraded, skipped };
  }
}
