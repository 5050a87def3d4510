/**
 * ALMANAC_ROLE: an `api` instance serves requests and never runs sync jobs; a `worker`
 * instance runs them and answers nothing but health checks.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../support/server.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

describe('instance roles', () => {
  let db: TestDatabase;
  let api: TestServer;
  let worker: TestServer;

  before(async () => {
    db = await createTestDatabase('sqlite');
    api = await startServer({ db, sync: true, env: { ALMANAC_ROLE: 'api' } });
    worker = await startServer({ db, sync: true, env: { ALMANAC_ROLE: 'worker' } });
  });
  after(async () => {
    await api?.close();
    await worker?.close();
    await db?.drop();
  });

  test('only the worker runs the sync schedule', () => {
    assert.equal(api.runtime.sync.worker.status().running, false);
    assert.equal(worker.runtime.sync.worker.status().running, true);
  });

  test('the worker answers health checks and nothing else; the api instance serves the API', async () => {
    assert.equal((await fetch(`${worker.url}/api/health`)).status, 200);
    for (const path of ['/api/events', '/api/calendars', '/api/oauth/authorize?client_id=x&user_id=y', '/connect']) {
      assert.equal((await fetch(`${worker.url}${path}`, { redirect: 'manual' })).status, 404, path);
    }
    assert.equal((await fetch(`${api.url}/api/events`)).status, 401);
  });
});
