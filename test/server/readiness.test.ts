/**
 * /api/health stays Mobiscroll's `{ "status": "ok" }`; /api/health/ready tells a load
 * balancer whether this instance can serve: database (critical), Redis (reported; the
 * rate limits ride out its outage), and draining during shutdown.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dialects } from '../support/databases.js';
import { freePort } from '../support/server-process.js';
import { startServer, type TestServer } from '../support/server.js';

const REDIS_SKIP = spawnSync('redis-server', ['--version']).status === 0 ? false : 'redis-server not installed: apt-get install -y redis-server';

async function ready(server: TestServer) {
  const res = await fetch(`${server.url}/api/health/ready`);
  return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, { status: string; critical: boolean; latencyMs: number; message?: string }> } };
}

/** Readiness results are shared for a second; wait that out between observations. */
const nextRound = () => new Promise((r) => setTimeout(r, 1100));

for (const { dialect, skip } of await dialects()) {
  describe(`readiness on ${dialect}`, { skip }, () => {
    test('ready with the database up; 503 "unavailable" once it is gone; /api/health keeps its shape throughout', async () => {
      const server = await startServer({ dialect });
      try {
        const up = await ready(server);
        assert.equal(up.status, 200);
        assert.equal(up.body.status, 'ready');
        assert.deepEqual(Object.keys(up.body.checks), ['database'], 'no Redis configured, no Redis check');
        assert.equal(up.body.checks.database!.status, 'ok');
        assert.equal(up.body.checks.database!.critical, true);

        await server.runtime.storage.db.destroy();
        await nextRound();
        const down = await ready(server);
        assert.equal(down.status, 503);
        assert.equal(down.body.status, 'unavailable');
        assert.equal(down.body.checks.database!.status, 'failing');
        assert.equal(down.body.checks.database!.message, 'unreachable', 'generic: the endpoint is public');
        assert.deepEqual(await (await fetch(`${server.url}/api/health`)).json(), { status: 'ok', rateLimits: 'memory' });
      } finally {
        await server.runtime.app.close();
        await server.db.drop();
      }
    });
  });
}

describe('the sync worker in readiness', () => {
  test('reported where it runs: not critical for an "all" instance, critical for a worker-only one; stopped means unready there', async () => {
    const all = await startServer({ sync: true });
    try {
      await nextRound();
      const r = await ready(all);
      assert.equal(r.status, 200);
      assert.equal(r.body.checks.worker?.status, 'ok');
      assert.equal(r.body.checks.worker?.critical, false);
    } finally {
      await all.close();
    }

    const worker = await startServer({ sync: true, env: { ALMANAC_ROLE: 'worker' } });
    try {
      await nextRound();
      assert.equal((await ready(worker)).body.checks.worker?.critical, true);
      await worker.runtime.stopBackground(1000);
      await nextRound();
      const stopped = await ready(worker);
      assert.equal(stopped.status, 503);
      assert.equal(stopped.body.status, 'unavailable');
      assert.equal(stopped.body.checks.worker?.status, 'failing');
    } finally {
      await worker.close();
    }

    const api = await startServer({ sync: true, env: { ALMANAC_ROLE: 'api' } });
    try {
      assert.equal((await ready(api)).body.checks.worker, undefined, 'no worker runs on an api-only instance');
    } finally {
      await api.close();
    }
  });
});

describe('draining', () => {
  test('once shutdown starts, readiness answers 503 "draining" while liveness stays ok', async () => {
    const server = await startServer();
    try {
      assert.equal((await ready(server)).status, 200);
      server.runtime.readiness.startDraining();
      const r = await ready(server);
      assert.equal(r.status, 503);
      assert.equal(r.body.status, 'draining');
      assert.equal(r.body.checks.database!.status, 'ok');
      assert.equal((await fetch(`${server.url}/api/health`)).status, 200);
    } finally {
      await server.close();
    }
  });
});

describe('Redis in readiness', { skip: REDIS_SKIP }, () => {
  let redis: ChildProcess | undefined;
  after(() => {
    redis?.kill('SIGKILL');
  });

  test('reported while up and while down; its outage alone does not make the instance unready', async () => {
    const port = await freePort();
    // Our own Redis, never the shared one: this test stops it.
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 50 && spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() !== 'PONG'; i += 1) await new Promise((r) => setTimeout(r, 100));
    const server = await startServer({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    try {
      // The connection to Redis is made in the background: wait for the first round that sees it.
      let up = await ready(server);
      for (let i = 0; i < 10 && up.body.checks.redis?.status !== 'ok'; i += 1) {
        await nextRound();
        up = await ready(server);
      }
      assert.equal(up.status, 200);
      assert.equal(up.body.checks.redis!.status, 'ok');
      assert.equal(up.body.checks.redis!.critical, false);

      redis.kill('SIGKILL');
      await new Promise((r) => redis!.once('exit', r));
      await nextRound();
      const started = Date.now();
      const down = await ready(server);
      assert.ok(Date.now() - started < 5000, 'a dead Redis cannot hang the probe');
      assert.equal(down.body.checks.redis!.status, 'failing');
      assert.equal(down.body.checks.database!.status, 'ok');
      assert.equal(down.status, 200, 'shared by every instance: taking this one out would not help');
      assert.equal(down.body.status, 'ready');
    } finally {
      await server.close();
    }
  });
});
