/**
 * The webhook outbox and secrets in storage, on SQLite and PostgreSQL: only the head of
 * each order key is claimable, a leased delivery is not claimed again until its lease
 * expires, outcomes need the lease, replay and purge touch what they should, and
 * secrets and bodies are sealed at rest.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config/config.js';
import { deriveKeys } from '../../src/crypto/keys.js';
import { SecretBox } from '../../src/crypto/secret-box.js';
import { openStorageMigrated } from '../../src/runtime.js';
import type { Storage } from '../../src/storage/db.js';
import { WebhooksRepository, type NewDelivery } from '../../src/storage/repositories/webhooks.repo.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/databases.js';

const SECRET = 'k'.repeat(40);

for (const { dialect, skip } of await dialects()) {
  describe(`webhook outbox on ${dialect}`, { skip }, () => {
    let db: TestDatabase;
    let storage: Storage;
    let repo: WebhooksRepository;
    let n = 0;
    const lease = () => `lease-${++n}`;
    const delivery = (id: string, orderKey: string, body = `{"n":"${id}"}`): NewDelivery => ({ id, clientId: 'alm_c', subscriptionId: null, type: 'calendar.changed', orderKey, eventCount: 1, body });

    before(async () => {
      db = await createTestDatabase(dialect);
      storage = await openStorageMigrated(loadConfig({ ...db.env, ALMANAC_SECRET_KEY: SECRET }));
      repo = new WebhooksRepository(storage.db, storage.dialect, new SecretBox(deriveKeys(SECRET).webhooks));
      await storage.db.insertInto('clients').values({ client_id: 'alm_c', name: 'c', display_name: null, secret_hash: 'h', redirect_uris: '[]', webhook_url: 'https://app.example/hooks', branding: '{}', require_par: 0, created_at: 1, updated_at: 1 }).execute();
    });
    after(async () => {
      await storage?.close();
      await db?.drop();
    });

    test('only the oldest pending delivery of each order key is claimable; a lease keeps others off', async () => {
      await repo.enqueue([delivery('a1', 'cal-a', '{"secret":"Budget figures"}'), delivery('a2', 'cal-a'), delivery('b1', 'cal-b')], 1000);
      const first = await repo.claimDue(lease, { now: 1000, leaseMs: 100, limit: 10 });
      assert.deepEqual(first.map((d) => d.id).sort(), ['a1', 'b1']);
      assert.equal(first.find((d) => d.id === 'a1')!.body, '{"secret":"Budget figures"}');
      assert.deepEqual(await repo.claimDue(lease, { now: 1050, leaseMs: 100, limit: 10 }), [], 'leased heads are not claimed again; a2 waits for a1');
      const a1 = first.find((d) => d.id === 'a1')!;
      // A retry keeps a1 pending: a2 still waits.
      assert.equal(await repo.markRetry(a1, { at: 1060, status: 500, error: 'the receiver answered 500' }, 5000), true);
      assert.deepEqual((await repo.claimDue(lease, { now: 1100, leaseMs: 100, limit: 10 })).map((d) => d.id), []);
      // After its lease expired, b1 can be taken over; the stale holder's outcome is refused.
      const b1 = first.find((d) => d.id === 'b1')!;
      const again = await repo.claimDue(lease, { now: 1200, leaseMs: 100, limit: 10 });
      assert.deepEqual(again.map((d) => d.id), ['b1']);
      assert.equal(await repo.markDelivered(b1, { at: 1210, status: 204, error: null }), false, 'the old lease no longer counts');
      assert.equal(await repo.markDelivered(again[0]!, { at: 1210, status: 204, error: null }), true);
      const a1Again = await repo.claimDue(lease, { now: 5000, leaseMs: 100, limit: 10 });
      assert.deepEqual(a1Again.map((d) => [d.id, d.attempts]), [['a1', 1]]);
      await repo.markDelivered(a1Again[0]!, { at: 5001, status: 200, error: null });
      assert.deepEqual((await repo.claimDue(lease, { now: 5002, leaseMs: 100, limit: 10 })).map((d) => d.id), ['a2'], 'a2 follows once a1 is delivered');
    });

    test('bodies and secrets are sealed at rest', async () => {
      const rows = await sql<{ payload: string }>`select payload from webhook_deliveries`.execute(storage.db);
      assert.ok(rows.rows.length > 0);
      assert.ok(rows.rows.every((r) => !r.payload.includes('Budget')));
      const secret = await repo.ensureSecret('alm_c', 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0', 1);
      assert.equal(secret, 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0');
      assert.equal(await repo.ensureSecret('alm_c', 'whsec_other', 2), secret, 'a second writer keeps the first secret');
      const stored = await storage.db.selectFrom('webhook_endpoints').select('secret_sealed').executeTakeFirstOrThrow();
      assert.ok(!stored.secret_sealed!.includes('c2VjcmV0'));
      await repo.rotateSecret('alm_c', 'whsec_bmV3', 99, 3);
      const endpoint = await repo.endpoint('alm_c');
      assert.deepEqual([endpoint!.secret, endpoint!.previousSecret, endpoint!.previousUntil], ['whsec_bmV3', secret, 99]);
    });

    test('replay queues finished deliveries again; purge removes only old finished ones', async () => {
      assert.equal(await repo.replay({ id: 'a1' }, 6000), 1);
      const a1 = await repo.getDelivery('a1');
      assert.deepEqual([a1!.status, a1!.attempts, a1!.nextAttemptAt], ['pending', 0, 6000]);
      await repo.enqueue([delivery('old', 'cal-old')], 10);
      const [old] = await repo.claimDue(lease, { now: 7000, leaseMs: 100, limit: 10 }).then((c) => c.filter((d) => d.id === 'old'));
      await repo.markFailed(old!, { at: 7001, status: 500, error: 'x' });
      assert.equal(await repo.purgeFinished(100), 1, 'the failed delivery made at 10 is purged');
      assert.equal(await repo.getDelivery('old'), undefined);
      assert.ok(await repo.getDelivery('a1'), 'pending deliveries are never purged');
    });
  });
}
