import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface FamilyRecord {
  id: string;
  clientId: string;
  userId: string;
  scope: string;
  revokedAt: number | null;
}

export type RotateOutcome =
  /**
   * The successor is the family's live refresh token, issued at `issuedAt` (epoch ms):
   * now, or, for a repeat within the reuse grace, when it was first issued.
   */
  | { kind: 'rotated'; family: FamilyRecord; issuedAt: number }
  /** The token was already rotated: reuse. The family has been revoked. */
  | { kind: 'reused'; family: FamilyRecord }
  | { kind: 'revoked' }
  | { kind: 'unknown' };

/**
 * Token families (one per code exchange) and their refresh tokens, keyed by keyed
 * hashes of the token ids. Every decision is one conditional UPDATE, so concurrent
 * requests on any number of instances agree without process-local state.
 */
export class TokensRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The same repository over a transaction, so its writes commit or roll back with the caller's. */
  inTransaction(trx: Kysely<Database>): TokensRepository {
    return new TokensRepository(trx);
  }

  async createFamily(f: Omit<FamilyRecord, 'revokedAt'>, firstRefreshHash: string, now = Date.now()): Promise<void> {
    const insert = async (db: Kysely<Database>) => {
      await db
        .insertInto('token_families')
        .values({ id: f.id, client_id: f.clientId, user_id: f.userId, scope: f.scope, created_at: now, revoked_at: null, revoke_reason: null })
        .execute();
      await db.insertInto('refresh_tokens').values({ jti_hash: firstRefreshHash, family_id: f.id, created_at: now, rotated_at: null }).execute();
    };
    // Inside a caller's transaction already (the code exchange), or a transaction of its own.
    if (this.db.isTransaction) await insert(this.db);
    else await this.db.transaction().execute(insert);
  }

  /**
   * Read by the bearer guard on every API request (revocation is immediate on every
   * instance), so written as SQL: building and compiling the query-builder chain cost
   * more than running the statement.
   */
  async findFamily(id: string): Promise<FamilyRecord | undefined> {
    const { rows } = await sql<{ id: string; client_id: string; user_id: string; scope: string; revoked_at: number | null }>`
      select id, client_id, user_id, scope, revoked_at from token_families where id = ${id}`.execute(this.db);
    const row = rows[0];
    return row && { id: row.id, clientId: row.client_id, userId: row.user_id, scope: row.scope, revokedAt: row.revoked_at };
  }

  /**
   * Marks the presented refresh token used and records its successor, atomically: of N
   * concurrent callers exactly one rotates. The successor's id is derived from the
   * presented one, so `nextHash` names the same successor on every call: within
   * `graceMs` of the rotation, and while that successor is still unrotated, presenting
   * the token again is a repeat (the successor again, nothing changes), not reuse.
   */
  async rotate(presentedHash: string, familyId: string, nextHash: string, graceMs: number, now = Date.now()): Promise<RotateOutcome> {
    return this.db.transaction().execute(async (trx) => {
      const family = await trx.selectFrom('token_families').selectAll().where('id', '=', familyId).executeTakeFirst();
      if (!family) return { kind: 'unknown' };
      const record: FamilyRecord = { id: family.id, clientId: family.client_id, userId: family.user_id, scope: family.scope, revokedAt: family.revoked_at };
      if (family.revoked_at !== null) return { kind: 'revoked' };
      const claimed = await trx
        .updateTable('refresh_tokens')
        .set({ rotated_at: now })
        .where('jti_hash', '=', presentedHash)
        .where('family_id', '=', familyId)
        .where('rotated_at', 'is', null)
        // In the same statement: a revoke that landed since the read above stops the rotation.
        .where((eb) => eb.exists(eb.selectFrom('token_families').select('id').where('id', '=', familyId).where('revoked_at', 'is', null)))
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) === 1) {
        await trx.insertInto('refresh_tokens').values({ jti_hash: nextHash, family_id: familyId, created_at: now, rotated_at: null }).execute();
        return { kind: 'rotated', family: record, issuedAt: now };
      }
      const known = await trx.selectFrom('refresh_tokens').select('rotated_at').where('jti_hash', '=', presentedHash).where('family_id', '=', familyId).executeTakeFirst();
      if (!known) return { kind: 'unknown' };
      // Not rotated, yet not claimed: the family was revoked after the read above.
      if (known.rotated_at === null) return { kind: 'revoked' };
      if (graceMs > 0 && now - known.rotated_at <= graceMs) {
        const successor = await trx
          .selectFrom('refresh_tokens')
          .select(['created_at', 'rotated_at'])
          .where('jti_hash', '=', nextHash)
          .where('family_id', '=', familyId)
          .executeTakeFirst();
        // Only while the successor is still the live token: one rotated twice is reuse.
        if (successor && successor.rotated_at === null) return { kind: 'rotated', family: record, issuedAt: successor.created_at };
      }
      await trx
        .updateTable('token_families')
        .set({ revoked_at: now, revoke_reason: 'refresh_token_reuse' })
        .where('id', '=', familyId)
        .where('revoked_at', 'is', null)
        .execute();
      return { kind: 'reused', family: record };
    });
  }

  async revokeFamily(familyId: string, reason: string, now = Date.now()): Promise<void> {
    await this.db.updateTable('token_families').set({ revoked_at: now, revoke_reason: reason }).where('id', '=', familyId).where('revoked_at', 'is', null).execute();
  }

  /** Revokes every family of one user of one client (RFC 7009 revocation as API.md scopes it). */
  async revokeUserClient(clientId: string, userId: string, reason: string, now = Date.now()): Promise<number> {
    const result = await this.db
      .updateTable('token_families')
      .set({ revoked_at: now, revoke_reason: reason })
      .where('client_id', '=', clientId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
