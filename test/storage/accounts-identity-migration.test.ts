/**
 * Migration 002 on a database that already has accounts, on SQLite and PostgreSQL:
 * every account survives with its row id, public id and sealed credentials; Google and
 * iCloud rows get their email as identity at once; CalDAV rows (whose server is inside
 * the sealed credentials) get a legacy marker that the server's start replaces with
 * server + user name. After that, reconnecting such an account repairs it in place.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Migrator, type Kysely } from 'kysely';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { deriveKeys } from '../../src/crypto/keys.js';
import { caldavIdentity } from '../../src/domain/account-identity.js';
import { migrationProvider } from '../../src/storage/migrations/index.js';
import { openStorage } from '../../src/storage/db.js';
import { loadConfig } from '../../src/config/config.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/databases.js';
import { startServer, TEST_SECRET, type TestServer } from '../support/server.js';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { api, connectCaldav, continueConnect, exchangeCode, openConnect } from '../support/connect-flow.js';

for (const { dialect, skip } of await dialects()) describe(`accounts stored before migration 002 (${dialect})`, { skip: RADICALE_SKIP || skip }, () => {
  let db: TestDatabase;
  let server: TestServer;
  let rad: RadicaleServer;
  const clientId = 'alm_legacyclient';

  before(async () => {
    rad = await startRadicale({ users: { olga: 'olga-pw' } });
    await rad.mkcalendar('olga', 'cal', { displayName: 'Cal' });
    db = await createTestDatabase(dialect);
    // The schema as it was (001 only), with accounts written the way the old code wrote them.
    const config = loadConfig({ ...db.env, ALMANAC_SECRET_KEY: TEST_SECRET });
    const old = openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    const { error } = await new Migrator({ db: old.db, provider: migrationProvider }).migrateTo('001-initial');
    if (error) throw error;
    const box = new SecretBox(deriveKeys(TEST_SECRET).credentials);
    const now = Date.now();
    // Written with the old table shapes, which the current schema types no longer describe.
    const legacy = old.db as unknown as Kysely<Record<string, Record<string, unknown>>>;
    await legacy.insertInto('clients').values({ client_id: clientId, name: 'Legacy', display_name: null, secret_hash: 'scrypt$16384$AAAA$AAAA', redirect_uris: JSON.stringify(['https://app.example/callback']), webhook_url: null, branding: '{}', created_at: now, updated_at: now }).execute();
    await legacy.insertInto('end_users').values({ id: 'user-1', client_id: clientId, external_id: 'olga', created_at: now }).execute();
    const caldav = { kind: 'basic', serverUrl: rad.url, username: 'olga', password: 'stale-pw', principalUrl: `${rad.url}olga/`, calendarHomeUrl: `${rad.url}olga/` };
    const google = { kind: 'oauth', accessToken: 'a', refreshToken: 'r', expiresAt: now, grantedScopes: [] };
    for (const [id, provider, accountId, credentials] of [['row-caldav', 'caldav', 'olga', caldav], ['row-google', 'google', 'olga@example.com', google]] as const) {
      await legacy
        .insertInto('accounts')
        .values({ id, user_id: 'user-1', provider, account_id: accountId, display: null, credentials: box.seal(JSON.stringify(credentials), `account:${id}`), granted_scopes: '[]', calendar_permission: 1, sync_state: 'reauth_required', created_at: now, updated_at: now })
        .execute();
    }
    await old.close();
    server = await startServer({ db });
  });
  after(async () => {
    await server?.close();
    await db?.drop();
    await rad?.stop();
  });

  test('every account keeps its row, public id and credentials; CalDAV rows are upgraded to server + user name at start', async () => {
    const rows = await server.runtime.storage.db.selectFrom('accounts').selectAll().orderBy('id').execute();
    assert.deepEqual(
      rows.map((r) => [r.id, r.provider, r.account_id, r.identity, r.pending_session]),
      [
        ['row-caldav', 'caldav', 'olga', caldavIdentity(`${rad.url}olga/`, 'olga'), null],
        ['row-google', 'google', 'olga@example.com', 'olga@example.com', null],
      ],
    );
    const creds = await server.runtime.services.accounts.readCredentials<{ password: string }>('row-caldav');
    assert.equal(creds.password, 'stale-pw', 'the sealed credentials still open (bound to the same row id)');
  });

  test('reconnecting the legacy CalDAV account repairs it in place', async () => {
    const client = await server.runtime.services.clients.rotateSecret(clientId);
    const s = await openConnect(server.url, { client_id: clientId, user_id: 'olga' });
    assert.equal((await connectCaldav(server.url, s, { server_url: rad.url, username: 'olga', password: 'olga-pw' })).status, 303);
    const tokens = await exchangeCode(server.url, { clientId, clientSecret: client }, (await continueConnect(server.url, s)).get('code')!);
    const status = await api(server.url, tokens.access_token).get('/api/oauth/connection-status');
    assert.deepEqual(status.body.connections.caldav.map((c: { id: string; syncState: string }) => [c.id, c.syncState]), [['olga', 'ok']]);
    const rows = await server.runtime.storage.db.selectFrom('accounts').select('id').where('provider', '=', 'caldav').execute();
    assert.deepEqual(rows.map((r) => r.id), ['row-caldav']);
    assert.equal((await server.runtime.services.accounts.readCredentials<{ password: string }>('row-caldav')).password, 'olga-pw');
  });
});
