import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface AuthCodeRecord {
  codeHash: string;
  clientId: string;
  userId: string;
  scope: string;
  redirectUri: string;
  redirectUriExplicit: boolean;
  codeChallenge: string | null;
  expiresAt: number;
  usedAt: number | null;
  familyId: string | null;
  replayedAt: number | null;
  /** The connect session whose pending accounts join the user when this code is exchanged. */
  sessionId: string | null;
}

export type ClaimOutcome = { kind: 'claimed'; code: AuthCodeRecord } | { kind: 'replayed'; code: AuthCodeRecord } | { kind: 'unknown' };

type Row = Database['auth_codes'];

function toRecord(row: Row): AuthCodeRecord {
  return {
    codeHash: row.code_hash,
    clientId: row.client_id,
    userId: row.user_id,
    scope: row.scope,
    redirectUri: row.redirect_uri,
    redirectUriExplicit: row.redirect_uri_explicit === 1,
    codeChallenge: row.code_challenge,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
    familyId: row.family_id,
    replayedAt: row.replayed_at,
    sessionId: row.session_id,
  };
}

/**
 * Authorization codes by keyed hash. A code is claimed once, and the claim records the
 * token family it will issue, so a replay (before or after issuance) can revoke it.
 */
export class AuthCodesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The same repository over a transaction, so its writes commit or roll back with the caller's. */
  inTransaction(trx: Kysely<Database>): AuthCodesRepository {
    return new AuthCodesRepository(trx);
  }

  async insert(code: Omit<AuthCodeRecord, 'usedAt' | 'familyId' | 'replayedAt'>): Promise<void> {
    await this.db
      .insertInto('auth_codes')
      .values({
        code_hash: code.codeHash,
        client_id: code.clientId,
        user_id: code.userId,
        scope: code.scope,
        redirect_uri: code.redirectUri,
        redirect_uri_explicit: code.redirectUriExplicit ? 1 : 0,
        code_challenge: code.codeChallenge,
        expires_at: code.expiresAt,
        used_at: null,
        family_id: null,
        replayed_at: null,
        session_id: code.sessionId,
      })
      .execute();
  }

  async find(codeHash: string): Promise<AuthCodeRecord | undefined> {
    const row = await this.db.selectFrom('auth_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
    return row && toRecord(row);
  }

  /** Exactly one concurrent caller gets 'claimed'; later ones get 'replayed' and the replay is recorded. */
  async claim(codeHash: string, familyId: string, now = Date.now()): Promise<ClaimOutcome> {
    const result = await this.db
      .updateTable('auth_codes')
      .set({ used_at: now, family_id: familyId })
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) {
      await this.db.updateTable('auth_codes').set({ replayed_at: now }).where('code_hash', '=', codeHash).where('replayed_at', 'is', null).execute();
    }
    const row = await this.db.selectFrom('auth_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
    if (!row) return { kind: 'unknown' };
    return Number(result.numUpdatedRows) === 1 ? { kind: 'claimed', code: toRecord(row) } : { kind: 'replayed', code: toRecord(row) };
  }

  /** Housekeeping: keep expired codes a day so late replays are still recognised. */
  async deleteExpired(before: number): Promise<number> {
    const result = await this.db.deleteFrom('auth_codes').where('expires_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
