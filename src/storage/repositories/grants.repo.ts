import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { AccountsRepository } from './accounts.repo.js';
import type { AuthCodeRecord, AuthCodesRepository } from './auth-codes.repo.js';
import type { TokensRepository } from './tokens.repo.js';

export type RedeemOutcome<E> =
  | { kind: 'redeemed'; code: AuthCodeRecord; externalUserId: string; joined: { added: number; replaced: number } }
  /** The caller's check refused the code; it is used up all the same. */
  | { kind: 'refused'; code: AuthCodeRecord; refusal: E }
  | { kind: 'replayed'; code: AuthCodeRecord }
  | { kind: 'unknown' };

/**
 * Redeeming an authorization code in one transaction: the claim (exactly one caller
 * wins), the caller's checks, the join of the accounts the code's connect session added,
 * and the new token family commit together or not at all. So a connection takes effect
 * exactly when its session's code is exchanged, on any number of instances, and a crash
 * half-way leaves the code unused and nothing joined.
 */
export class GrantsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly codes: AuthCodesRepository,
    private readonly tokens: TokensRepository,
    private readonly accounts: AccountsRepository,
  ) {}

  /**
   * `check` returns a refusal (client, expiry, redirect URI, PKCE…) or undefined; it
   * must not do I/O. Nothing but database work happens inside the transaction. A code
   * that `check` refuses is neither claimed nor marked replayed.
   */
  async redeem<E>(
    codeHash: string,
    family: { id: string; firstRefreshHash: string },
    check: (code: AuthCodeRecord) => E | undefined,
    now = Date.now(),
  ): Promise<RedeemOutcome<E>> {
    return this.db.transaction().execute(async (trx): Promise<RedeemOutcome<E>> => {
      // Refusals are decided before the claim, so a refused attempt leaves the code as it
      // was: unused for its rightful client, and without a replay mark.
      const current = await this.codes.inTransaction(trx).find(codeHash);
      if (!current) return { kind: 'unknown' };
      const early = check(current);
      if (early !== undefined) return { kind: 'refused', code: current, refusal: early };
      const claim = await this.codes.inTransaction(trx).claim(codeHash, family.id, now);
      if (claim.kind !== 'claimed') return claim;
      const code = claim.code;
      const refusal = check(code);
      if (refusal !== undefined) return { kind: 'refused', code, refusal };
      const user = await trx.selectFrom('end_users').select(['id', 'external_id']).where('id', '=', code.userId).executeTakeFirst();
      if (!user) return { kind: 'unknown' };
      const joined = code.sessionId ? await this.accounts.inTransaction(trx).promote(user.id, code.sessionId, now) : { added: 0, replaced: 0 };
      await this.tokens.inTransaction(trx).createFamily({ id: family.id, clientId: code.clientId, userId: user.id, scope: code.scope }, family.firstRefreshHash, now);
      return { kind: 'redeemed', code, externalUserId: user.external_id, joined };
    });
  }
}
