import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export type ConsumeOutcome = { kind: 'ok'; params: unknown } | { kind: 'unknown' | 'used' | 'expired' };

/**
 * Pushed authorization requests (RFC 9126), by keyed hash of their request_uri: stored
 * server-side so every instance can open them, usable once, for a short time.
 */
export class PushedRequestsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(r: { requestHash: string; clientId: string; params: unknown; expiresAt: number }, now = Date.now()): Promise<void> {
    // Housekeeping on the write path (indexed, cheap): an expired request can only be refused.
    await this.deleteExpired(now);
    await this.db
      .insertInto('pushed_requests')
      .values({ request_hash: r.requestHash, client_id: r.clientId, params: JSON.stringify(r.params), created_at: now, expires_at: r.expiresAt, used_at: null })
      .execute();
  }

  /**
   * Marks the request used and returns its parameters, exactly once, and only to the
   * client it was pushed by: another client's attempt neither opens nor uses it up.
   */
  async consume(requestHash: string, clientId: string, now = Date.now()): Promise<ConsumeOutcome> {
    const result = await this.db
      .updateTable('pushed_requests')
      .set({ used_at: now })
      .where('request_hash', '=', requestHash)
      .where('client_id', '=', clientId)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    const row = await this.db.selectFrom('pushed_requests').selectAll().where('request_hash', '=', requestHash).where('client_id', '=', clientId).executeTakeFirst();
    if (!row) return { kind: 'unknown' };
    if (Number(result.numUpdatedRows) === 1) return { kind: 'ok', params: JSON.parse(row.params) as unknown };
    return { kind: row.expires_at <= now ? 'expired' : 'used' };
  }

  async deleteExpired(before: number): Promise<number> {
    const result = await this.db.deleteFrom('pushed_requests').where('expires_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
