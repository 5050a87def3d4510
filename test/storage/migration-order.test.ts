/**
 * Migrations are numbered per branch of work and land on main in any order, so a
 * database may already have run a later-numbered migration (006) when an earlier one
 * (004) arrives. Starting the newer server must run the missing one, on SQLite and
 * PostgreSQL, instead of refusing the database as "corrupted".
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import { loadConfig } from '../../src/config/config.js';
import { migrationProvider } from '../../src/storage/migrations/index.js';
import { migrateToLatest, openStorage } from '../../src/storage/db.js';
import { createTestDatabase, dialects } from '../support/databases.js';

/** The migrations as a server without `missing` knew them. */
function without(missing: string): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      const all = await migrationProvider.getMigrations();
      return Object.fromEntries(Object.entries(all).filter(([name]) => name !== missing));
    },
  };
}

for (const { dialect, skip } of await dialects()) {
  describe(`migrations out of order on ${dialect}`, { skip }, () => {
    test('a database that ran 006 before 004 existed gets 004 on the next start', async () => {
      const db = await createTestDatabase(dialect);
      const config = loadConfig({ ...db.env, ALMANAC_SECRET_KEY: 'k'.repeat(40) });
      const storage = openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      try {
        const older = await new Migrator({ db: storage.db, provider: without('004-demo-client') }).migrateToLatest();
        assert.equal(older.error, undefined);
        assert.ok(older.results?.some((r) => r.migrationName === '006-sync-mirror'), 'the later migration ran first');
        assert.deepEqual(await migrateToLatest(storage), ['004-demo-client']);
        await storage.db.insertInto('clients').values({ client_id: 'alm_x', name: 'x', display_name: null, secret_hash: 'h', redirect_uris: '[]', webhook_url: null, branding: '{}', require_par: 0, created_at: 1, updated_at: 1 } as never).execute();
        await storage.db.insertInto('demo_client').values({ client_id: 'alm_x', secret_sealed: null, updated_at: 1 }).execute();
        assert.equal((await storage.db.selectFrom('demo_client').selectAll().execute()).length, 1);
        assert.deepEqual(await migrateToLatest(storage), [], 'nothing left to run');
      } finally {
        await storage.close();
        await db.drop();
      }
    });
  });
}
