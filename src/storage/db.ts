/**
 * The storage seam: one Kysely instance over SQLite (embedded default) or PostgreSQL
 * (DATABASE_URL). Repositories are written once against Kysely and run on both.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Storage {
  db: Kysely<Database>;
  dialect: Dialect;
  /**
   * The unit of work: runs `work` in one transaction and commits when it resolves.
   * Repositories built on `tx` join it, so several of them change state atomically.
   */
  transaction<T>(work: (tx: Kysely<Database>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function withTransactions(db: Kysely<Database>, dialect: Dialect): Storage {
  return {
    db,
    dialect,
    transaction: (work) => db.transaction().execute(work),
    close: () => db.destroy(),
  };
}

// int8 (bigint) columns hold epoch milliseconds: well inside Number's exact range.
pg.types.setTypeParser(20, (value) => Number(value));

/** The embedded database file inside the data directory. */
export function sqliteFile(dataDir: string): string {
  return join(dataDir, 'almanac.sqlite');
}

/**
 * Which database a configuration opens, fit to print: the SQLite file, or the
 * PostgreSQL URL with its password replaced (user, host, port and name stay visible).
 */
export function describeDatabase(options: { databaseUrl?: string; dataDir: string }): string {
  if (!options.databaseUrl) return `SQLite ${sqliteFile(options.dataDir)}`;
  try {
    const url = new URL(options.databaseUrl);
    if (url.password) url.password = '***';
    url.search = '';
    return `PostgreSQL ${url.toString()}`;
  } catch {
    return 'PostgreSQL (DATABASE_URL)';
  }
}

export function openStorage(options: { databaseUrl?: string; dataDir: string }): Storage {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // An idle connection the server ends (restart, failover, pg_terminate_backend, a dropped test
    // database) is reported here after pg-pool has already discarded it; the next query opens a
    // new one. Without a listener the EventEmitter would throw and end the process.
    pool.on('error', () => undefined);
    return withTransactions(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const file = sqliteFile(options.dataDir);
  // Owner-only like the key beside it: SQLite gives the -wal and -shm files the mode of
  // the database file, so creating that one 0600 covers all three.
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  const sqlite = new SQLite(file);
  // WAL lets the CLI read while the server writes; busy_timeout waits instead of failing on a lock.
  sqlite.pragma('journal_mode = WAL');
  // Files made by an earlier version (0644) are tightened too.
  for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) chmodSync(path, 0o600);
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return withTransactions(new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) }), 'sqlite');
}

/**
 * Kysely asks better-sqlite3 to prepare every query anew; the queries are a small fixed
 * set, so their statements are kept (preparing was about a third of a small query's cost).
 * Safe because Kysely runs one query at a time on its single SQLite connection.
 */
function withStatementCache(sqlite: SQLite.Database, max = 500): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => sqlite.close(),
    prepare(sql) {
      let statement = statements.get(sql);
      if (!statement) {
        if (statements.size >= max) statements.clear();
        statement = withRowsBuiltInJs(sqlite.prepare(sql));
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * better-sqlite3 builds each row object in C++, setting every column by name through
 * V8's API (the name internalised again per row): for a page of mirror rows that was a
 * quarter of the read. The same statement in raw mode returns arrays, and the objects
 * are built here from the column names read once. Same rows, same order of keys; a name
 * selected twice keeps its last value, as better-sqlite3 does.
 */
function withRowsBuiltInJs(statement: SQLite.Statement): SqliteStatement {
  if (!statement.reader) return statement;
  const names = statement.columns().map((c) => c.name);
  statement.raw(true);
  // One object literal per statement (`{"id": v[0], …}`): every row of it gets the same
  // shape at once, where assigning names in a loop shared one slow, megamorphic store
  // among all statements. The names are the statement's own columns, quoted by JSON.
  const toRow = new Function('v', `return {${names.map((n, i) => `${JSON.stringify(n)}: v[${i}]`).join(', ')}};`) as (values: unknown[]) => Record<string, unknown>;
  return {
    reader: true,
    all: (parameters) => (statement.all(parameters) as unknown[][]).map(toRow),
    run: (parameters) => statement.run(parameters),
    *iterate(parameters) {
      for (const values of statement.iterate(parameters) as IterableIterator<unknown[]>) yield toRow(values);
    },
  };
}

/**
 * Migration numbers are handed out per piece of work and land in any order, so a
 * database may have run 006 before 004 arrived: unordered migrations are allowed and
 * the missing ones run. (Each migration touches only its own tables and columns.)
 */
export async function migrateToLatest(storage: Storage): Promise<string[]> {
  const migrator = new Migrator({ db: storage.db, provider: migrationProvider, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
