import type { Migration, MigrationProvider } from 'kysely';
import * as m001 from './001-initial.js';
import * as m002 from './002-connect-trust.js';
import * as m004 from './004-demo-client.js';
import * as m006 from './006-sync-mirror.js';
import * as m007 from './007-credentials-version.js';
import * as m008 from './008-webhooks.js';

/** Migrations are compiled in (no directory scan), so dist/ and tsx behave the same. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return { '001-initial': m001, '002-connect-trust': m002, '004-demo-client': m004, '006-sync-mirror': m006, '007-credentials-version': m007, '008-webhooks': m008 };
  },
};
