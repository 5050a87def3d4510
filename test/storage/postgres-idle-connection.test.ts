/**
 * PostgreSQL ends an idle pooled connection (a restart, a failover, pg_terminate_backend):
 * the process must not die of pg-pool's unhandled `error` event, and the next query must
 * simply get a new connection.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { sql } from 'kysely';
import { openStorage, type Storage } from '../../src/storage/db.js';
import { createTestDatabase, PG_ADMIN_URL, PG_SKIP_MESSAGE, postgresAvailable, type TestDatabase } from '../support/databases.js';

describe('an idle PostgreSQL connection ended by the server', { skip: (await postgresAvailable()) ? false : PG_SKIP_MESSAGE }, () => {
  let db: TestDatabase;
  let storage: Storage;
  before(async () => {
    db = await createTestDatabase('postgres');
    storage = openStorage({ databaseUrl: db.env.DATABASE_URL, dataDir: db.env.ALMANAC_DATA_DIR! });
  });
  after(async () => {
    await storage?.close();
    await db?.drop();
  });

  test('neither crashes the process nor breaks the next query', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      assert.equal((await sql<{ n: number }>`select 1 as n`.execute(storage.db)).rows[0]?.n, 1);
      const name = new URL(db.env.DATABASE_URL!).pathname.slice(1);
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      const killed = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
      await admin.end();
      assert.ok(killed.rowCount! >= 1, 'the pool had an idle connection to end');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(uncaught, []);
      assert.equal((await sql<{ n: number }>`select 2 as n`.execute(storage.db)).rows[0]?.n, 2, 'the next query reconnects');
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
