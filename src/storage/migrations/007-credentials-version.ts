import type { Kysely } from 'kysely';

/**
 * A version for each account's credentials: every write increments it, and a token
 * refresh stores its tokens only if the version is still the one it read (compare and
 * set), so two instances refreshing one rotating refresh token cannot lose the newer one.
 * The refresh lease columns (who refreshes now, until when) came with the sync mirror.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('credentials_version', 'integer', (c) => c.notNull().defaultTo(0)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('accounts').dropColumn('credentials_version').execute();
}
