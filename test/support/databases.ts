/**
 * Storage targets for tests: every storage test runs on SQLite and, when reachable,
 * on PostgreSQL (CI always has it). Each PostgreSQL use gets a fresh database.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.ALMANAC_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_TEST_URL = process.env.ALMANAC_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let pgAvailable: Promise<boolean> | undefined;

/** One connection attempt; a loaded machine can take seconds to accept, so the bound is generous. */
async function canConnect(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function postgresAvailable(): Promise<boolean> {
  // A second attempt before skipping: a momentary refusal (connection slots of parallel test
  // files) must not silently turn a whole file's PostgreSQL half into skips.
  pgAvailable ??= (async () => (await canConnect()) || (await new Promise((r) => setTimeout(r, 1000)), await canConnect()))();
  return pgAvailable;
}

export const PG_SKIP_MESSAGE = `PostgreSQL not reachable at ${PG_ADMIN_URL}: install and start it (apt-get install -y postgresql) or set ALMANAC_TEST_PG_URL`;

export interface TestDatabase {
  dialect: 'sqlite' | 'postgres';
  env: Record<string, string>;
  drop(): Promise<void>;
}

export async function createTestDatabase(dialect: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'almanac-test-'));
    return { dialect, env: { ALMANAC_DATA_DIR: dir }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `almanac_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const dir = mkdtempSync(join(tmpdir(), 'almanac-test-'));
  return {
    dialect,
    env: { DATABASE_URL: url.toString(), ALMANAC_DATA_DIR: dir },
    async drop() {
      const a = new pg.Client({ connectionString: PG_ADMIN_URL });
      await a.connect();
      // A closed pool's connections say goodbye asynchronously: let them go before FORCE
      // would terminate them (their clients would report that as an uncaught error).
      for (let waited = 0; waited < 2000; waited += 20) {
        const { rows } = await a.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
        if (rows[0].n === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The dialects to run a storage suite on, with the reason when PostgreSQL is skipped. */
export async function dialects(): Promise<{ dialect: 'sqlite' | 'postgres'; skip: string | false }[]> {
  const hasPg = await postgresAvailable();
  return [
    { dialect: 'sqlite', skip: false },
    { dialect: 'postgres', skip: hasPg ? false : PG_SKIP_MESSAGE },
  ];
}
