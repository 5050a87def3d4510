import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface EndUserRecord {
  id: string;
  clientId: string;
  externalId: string;
}

/** The applications' users: one row per (client, the application's user_id). */
export class EndUsersRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async findOrCreate(clientId: string, externalId: string): Promise<EndUserRecord> {
    const existing = await this.find(clientId, externalId);
    if (existing) return existing;
    // Two authorize requests for a new user can race; the unique constraint settles it.
    await this.db
      .insertInto('end_users')
      .values({ id: randomUUID(), client_id: clientId, external_id: externalId, created_at: Date.now() })
      .onConflict((oc) => oc.columns(['client_id', 'external_id']).doNothing())
      .execute();
    const row = await this.find(clientId, externalId);
    if (!row) throw new Error('end user vanished after insert');
    return row;
  }

  async find(clientId: string, externalId: string): Promise<EndUserRecord | undefined> {
    const row = await this.db
      .selectFrom('end_users')
      .select(['id', 'client_id', 'external_id'])
      .where('client_id', '=', clientId)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
    return row && { id: row.id, clientId: row.client_id, externalId: row.external_id };
  }

  async findById(id: string): Promise<EndUserRecord | undefined> {
    const row = await this.db.selectFrom('end_users').select(['id', 'client_id', 'external_id']).where('id', '=', id).executeTakeFirst();
    return row && { id: row.id, clientId: row.client_id, externalId: row.external_id };
  }
}
