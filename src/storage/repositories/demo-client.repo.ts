import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface DemoClientRecord {
  clientId: string;
  /** Sealed by the caller (storage never sees the plaintext); null when unknown. */
  secretSealed: string | null;
}

/** Which client is the demo client (at most one), with its sealed secret. */
export class DemoClientRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async find(): Promise<DemoClientRecord | undefined> {
    const row = await this.db.selectFrom('demo_client').selectAll().orderBy('updated_at', 'desc').executeTakeFirst();
    return row && { clientId: row.client_id, secretSealed: row.secret_sealed };
  }

  /** Makes `clientId` the demo client (replacing any other) with this sealed secret. */
  async save(clientId: string, secretSealed: string | null, now = Date.now()): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('demo_client').where('client_id', '!=', clientId).execute();
      await tx
        .insertInto('demo_client')
        .values({ client_id: clientId, secret_sealed: secretSealed, updated_at: now })
        .onConflict((oc) => oc.column('client_id').doUpdateSet({ secret_sealed: secretSealed, updated_at: now }))
        .execute();
    });
  }
}
