/**
 * Which database a command used, said on stderr (stdout stays parseable for --json)
 * whenever it is not the default ./data SQLite file, or when it did not exist before:
 * a command run from the wrong directory should not silently work on an empty database.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_DATA_DIR, type Config } from '../config/config.js';
import { describeDatabase, sqliteFile } from '../storage/db.js';

/** To call before opening storage (opening creates the SQLite file). */
export function databaseNote(config: Pick<Config, 'databaseUrl' | 'dataDir'>): string | undefined {
  const described = describeDatabase(config);
  if (config.databaseUrl) return `Database: ${described}`;
  if (!existsSync(sqliteFile(config.dataDir))) return `Database: ${described} (new: it did not exist yet)`;
  if (config.dataDir !== resolve(DEFAULT_DATA_DIR)) return `Database: ${described}`;
  return undefined;
}
