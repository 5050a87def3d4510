import type { Kysely } from 'kysely';

/**
 * Marks which client is the demo client (so its redirect can follow the server's public
 * URL on every start) and keeps its secret sealed with the credentials key, so the
 * CLI can show it again: client secrets themselves are only stored hashed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('demo_client')
    .addColumn('client_id', 'text', (c) => c.primaryKey().references('clients.client_id').onDelete('cascade'))
    .addColumn('secret_sealed', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('demo_client').execute();
}
