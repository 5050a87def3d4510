/**
 * The accounts repository's pending connections on SQLite and PostgreSQL: staged rows
 * stay out of the user's accounts; promotion adds new ones under a free public id and
 * repairs existing ones in place; concurrent promotions for one user never collide;
 * the sweep only deletes what can no longer join; and a token refresh that raced a
 * reconnect cannot write the old grant back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/config.js';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { caldavIdentity } from '../../src/domain/account-identity.js';
import { openStorageMigrated } from '../../src/runtime.js';
import type { Storage } from '../../src/storage/db.js';
import { AccountsRepository, type PendingConnection } from '../../src/storage/repositories/accounts.repo.js';
import { ClientsRepository } from '../../src/storage/repositories/clients.repo.js';
import { EndUsersRepository } from '../../src/storage/repositories/end-users.repo.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/databases.js';

const V = 'https://cal.victim.example/dav/alice/';
const A = 'https://evil.example:8443/alice/';

for (const { dialect, skip } of await dialects()) describe(`pending connections in the accounts repository (${dialect})`, { skip }, () => {
  let db: TestDatabase;
  let storage: Storage;
  let accounts: AccountsRepository;
  let users: EndUsersRepository;
  let n = 0;

  before(async () => {
    db = await createTestDatabase(dialect);
    storage = await openStorageMigrated(loadConfig({ ...db.env, ALMANAC_SECRET_KEY: 'k'.repeat(40) }));
    accounts = new AccountsRepository(storage.db, new SecretBox(Buffer.alloc(32, 7)));
    users = new EndUsersRepository(storage.db);
    await new ClientsRepository(storage.db).insert({ clientId: 'c', name: 'c', displayName: null, secretHash: 'x', redirectUris: ['https://a.example/cb'], webhookUrl: null, branding: {}, requirePar: false });
  });
  after(async () => {
    await storage?.close();
    await db?.drop();
  });

  const newUser = async () => (await users.findOrCreate('c', `user-${++n}`)).id;
  const caldav = (userId: string, sessionId: string, principal: string, password: string, expiresAt = Date.now() + 60_000): PendingConnection => ({
    sessionId,
    expiresAt,
    userId,
    provider: 'caldav',
    identity: caldavIdentity(principal, 'alice'),
    plainId: 'alice',
    display: null,
    credentials: { kind: 'basic', serverUrl: principal, username: 'alice', password },
    grantedScopes: ['caldav'],
    calendarPermissionGranted: true,
  });
  const promote = (userId: string, sessionId: string) => storage.db.transaction().execute((trx) => accounts.inTransaction(trx).promote(userId, sessionId));

  test('staged rows are not the user’s accounts until promoted; then they are, under the plain id', async () => {
    const user = await newUser();
    const staged = await accounts.stagePending(caldav(user, 's1', V, 'pw'));
    assert.equal(staged.pendingSession, 's1');
    assert.deepEqual(await accounts.listForUser(user), []);
    assert.deepEqual((await accounts.listPending(user, 's1')).map((a) => a.accountId), ['alice']);
    assert.deepEqual(await accounts.listPending(user, 'other-session'), []);
    assert.deepEqual(await promote(user, 's1'), { added: 1, replaced: 0 });
    const [active] = await accounts.listForUser(user);
    assert.equal(active?.id, staged.id);
    assert.equal(active?.accountId, 'alice');
    assert.equal(active?.pendingSession, null);
    assert.deepEqual(await accounts.listPending(user, 's1'), []);
  });

  test('the same user name on another server joins as another account, named after its host', async () => {
    const user = await newUser();
    await accounts.stagePending(caldav(user, 's1', V, 'pw'));
    await promote(user, 's1');
    // A later plain session chose "alice" among its own connections: only the promotion sees the clash.
    const other = await accounts.stagePending(caldav(user, 's2', A, 'evil'));
    assert.equal(other.accountId, 'alice');
    await promote(user, 's2');
    const list = await accounts.listForUser(user);
    assert.deepEqual(list.map((a) => a.accountId), ['alice', 'alice (evil.example:8443)']);
    assert.equal((await accounts.readCredentials<{ password: string }>(list[0]!.id)).password, 'pw', 'the first account is untouched');
  });

  test('promoting a reconnect repairs the account in place: same row, same public id, new credentials, sync state ok', async () => {
    const user = await newUser();
    await accounts.stagePending(caldav(user, 's1', V, 'old'));
    await promote(user, 's1');
    const [before] = await accounts.listForUser(user);
    await accounts.setSyncState(before!.id, 'reauth_required');
    // Connecting the same account twice in one session updates its pending row.
    await accounts.stagePending(caldav(user, 's2', V, 'typo'));
    await accounts.stagePending(caldav(user, 's2', V, 'new'));
    assert.equal((await accounts.listPending(user, 's2')).length, 1);
    assert.deepEqual(await promote(user, 's2'), { added: 0, replaced: 1 });
    const after = await accounts.listForUser(user);
    assert.deepEqual(after.map((a) => [a.id, a.accountId, a.syncState]), [[before!.id, 'alice', 'ok']]);
    assert.equal((await accounts.readCredentials<{ password: string }>(before!.id)).password, 'new');
    const rows = await storage.db.selectFrom('accounts').select('id').where('user_id', '=', user).execute();
    assert.equal(rows.length, 1, 'the pending row is gone');
  });

  test('concurrent promotions for one user never pick the same public id', async () => {
    const user = await newUser();
    const servers = Array.from({ length: 6 }, (_, i) => `https://s${i}.example/alice/`);
    await Promise.all(servers.map((s, i) => accounts.stagePending(caldav(user, `p${i}`, s, 'pw'))));
    const results = await Promise.all(servers.map((_, i) => promote(user, `p${i}`)));
    assert.deepEqual(results.map((r) => r.added), [1, 1, 1, 1, 1, 1]);
    const ids = (await accounts.listForUser(user)).map((a) => a.accountId);
    assert.equal(new Set(ids).size, 6, ids.join(', '));
    assert.ok(ids.includes('alice'));
  });

  test('the sweep deletes only pending rows past their deadline; forgetting a session touches only that session', async () => {
    const user = await newUser();
    await accounts.stagePending(caldav(user, 'live', V, 'pw', Date.now() + 3_600_000));
    await accounts.stagePending(caldav(user, 'dead', A, 'pw', Date.now() - 1));
    await accounts.stagePending(caldav(user, 'joined', 'https://j.example/alice/', 'pw', Date.now() - 1));
    await promote(user, 'joined');
    assert.ok((await accounts.pruneExpiredPending()) >= 1);
    assert.equal((await accounts.listPending(user, 'dead')).length, 0);
    assert.equal((await accounts.listPending(user, 'live')).length, 1);
    assert.equal((await accounts.listForUser(user)).length, 1, 'a promoted account is never swept');
    assert.equal(await accounts.deletePending(user, 'other'), 0);
    assert.equal(await accounts.deletePending(user, 'live'), 1);
    assert.equal((await accounts.listForUser(user)).length, 1);
  });

  test('a refresh that started before a reconnect cannot write the old grant’s tokens back', async () => {
    const user = await newUser();
    await accounts.stagePending(caldav(user, 's1', V, 'old'));
    await promote(user, 's1');
    const [account] = await accounts.listForUser(user);
    const read = (await accounts.readVersioned<{ password: string }>(account!.id))!;
    assert.equal(await accounts.acquireRefreshLease(account!.id, 'refreshing-instance', 60_000), true);
    // The reconnect lands while the refresh is in flight…
    await accounts.stagePending(caldav(user, 's2', V, 'reconnected'));
    await promote(user, 's2');
    assert.deepEqual(await accounts.credentialsState(account!.id), { version: read.version + 1 }, 'the new grant is not kept waiting by the old grant’s lease');
    // … and the refresh's conditional write is refused.
    assert.equal(await accounts.compareAndSetCredentials(account!.id, { ...read.credentials, password: 'refreshed-old' }, read.version), undefined);
    assert.equal((await accounts.readCredentials<{ password: string }>(account!.id)).password, 'reconnected');
    // Without a reconnect in between, consecutive refreshes of one handle each succeed, each moving the version on.
    const fresh = (await accounts.readVersioned<{ password: string }>(account!.id))!;
    assert.equal(fresh.version, read.version + 1, 'the reconnect moved the version on');
    const first = await accounts.compareAndSetCredentials(account!.id, { ...fresh.credentials, password: 'r1' }, fresh.version);
    assert.equal(first, fresh.version + 1);
    assert.equal(await accounts.compareAndSetCredentials(account!.id, { ...fresh.credentials, password: 'stale' }, fresh.version), undefined, 'a stale writer loses');
    assert.equal(await accounts.compareAndSetCredentials(account!.id, { ...fresh.credentials, password: 'r2' }, first!), first! + 1);
    assert.equal((await accounts.readCredentials<{ password: string }>(account!.id)).password, 'r2');
  });
});
