import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface ClientRecord {
  clientId: string;
  name: string;
  displayName: string | null;
  secretHash: string;
  redirectUris: string[];
  webhookUrl: string | null;
  branding: Record<string, unknown>;
  /** Plain authorize requests are refused: only pushed ones (RFC 9126) start a connect session. */
  requirePar: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface ClientChanges {
  name?: string;
  displayName?: string | null;
  secretHash?: string;
  redirectUris?: string[];
  webhookUrl?: string | null;
  branding?: Record<string, unknown>;
  requirePar?: boolean;
}

type Row = Database['clients'];

function toRecord(row: Row): ClientRecord {
  return {
    clientId: row.client_id,
    name: row.name,
    displayName: row.display_name,
    secretHash: row.secret_hash,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    webhookUrl: row.webhook_url,
    branding: JSON.parse(row.branding) as Record<string, unknown>,
    requirePar: row.require_par === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Registered client applications. Secrets arrive here already hashed. */
export class ClientsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(record: Omit<ClientRecord, 'createdAt' | 'updatedAt'>, now = Date.now()): Promise<ClientRecord> {
    const row: Row = {
      client_id: record.clientId,
      name: record.name,
      display_name: record.displayName,
      secret_hash: record.secretHash,
      redirect_uris: JSON.stringify(record.redirectUris),
      webhook_url: record.webhookUrl,
      branding: JSON.stringify(record.branding),
      require_par: record.requirePar ? 1 : 0,
      created_at: now,
      updated_at: now,
    };
    await this.db.insertInto('clients').values(row).execute();
    return toRecord(row);
  }

  async find(clientId: string): Promise<ClientRecord | undefined> {
    const row = await this.db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    return row && toRecord(row);
  }

  async list(): Promise<ClientRecord[]> {
    const rows = await this.db.selectFrom('clients').selectAll().orderBy('created_at').orderBy('client_id').execute();
    return rows.map(toRecord);
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom('clients').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async update(clientId: string, changes: ClientChanges, now = Date.now()): Promise<ClientRecord | undefined> {
    const set: Partial<Row> = { updated_at: now };
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.displayName !== undefined) set.display_name = changes.displayName;
    if (changes.secretHash !== undefined) set.secret_hash = changes.secretHash;
    if (changes.redirectUris !== undefined) set.redirect_uris = JSON.stringify(changes.redirectUris);
    if (changes.webhookUrl !== undefined) set.webhook_url = changes.webhookUrl;
    if (changes.branding !== undefined) set.branding = JSON.stringify(changes.branding);
    if (changes.requirePar !== undefined) set.require_par = changes.requirePar ? 1 : 0;
    const result = await this.db.updateTable('clients').set(set).where('client_id', '=', clientId).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return undefined;
    return this.find(clientId);
  }

  /** Swaps the stored secret hash only if it is still `expected` (a rotation in between wins). */
  async replaceSecretHash(clientId: string, expected: string, next: string, now = Date.now()): Promise<boolean> {
    const result = await this.db
      .updateTable('clients')
      .set({ secret_hash: next, updated_at: now })
      .where('client_id', '=', clientId)
      .where('secret_hash', '=', expected)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** What deleting the client takes with it (the rows that cascade). */
  async dependents(clientId: string): Promise<{ users: number; accounts: number; liveTokenFamilies: number }> {
    const count = (n: { n: number | string | bigint } | undefined) => Number(n?.n ?? 0);
    const users = await this.db.selectFrom('end_users').where('client_id', '=', clientId).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    const accounts = await this.db
      .selectFrom('accounts')
      .innerJoin('end_users', 'end_users.id', 'accounts.user_id')
      .where('end_users.client_id', '=', clientId)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    const families = await this.db
      .selectFrom('token_families')
      .where('client_id', '=', clientId)
      .where('revoked_at', 'is', null)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return { users: count(users), accounts: count(accounts), liveTokenFamilies: count(families) };
  }

  async delete(clientId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
