/**
 * Rate limits in Redis must not take the API down with Redis. A redis-server of this
 * test's own (never the shared one) is stopped mid-test, frozen, and started again:
 * rate-limited endpoints keep answering quickly (limits counted in memory meanwhile),
 * /api/health says so, one warning is logged, and counting returns to Redis.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { fullTokens, tokenRequest } from '../support/oauth-flow.js';
import { startServer, type TestServer } from '../support/server.js';
import { freePort } from '../support/free-port.js';

const REDIS_BIN = 'redis-server';
const installed = spawnSync(REDIS_BIN, ['--version']).status === 0;
const skip = installed ? false : 'redis-server not installed: apt-get install -y redis-server';


async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  for (let i = 0; i < 100; i++) {
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      return child;
    } catch {
      probe.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('redis-server did not start');
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('Redis outage', { skip }, () => {
  let port: number;
  let redis: ChildProcess;
  let server: TestServer;
  let client: { clientId: string; clientSecret: string };
  let access: string;

  before(async () => {
    port = await freePort();
    redis = await startRedis(port);
    server = await startServer({ env: { REDIS_URL: `redis://127.0.0.1:${port}`, ALMANAC_RATE_LIMIT_PER_TOKEN: '1000' } });
    client = await server.createClient();
    access = (await fullTokens(server.url, client, { user_id: 'outage' })).access_token;
  });
  after(async () => {
    await server?.close();
    if (redis) await stop(redis);
  });

  const health = async (): Promise<{ status: string; rateLimits: string }> => (await (await fetch(`${server.url}/api/health`)).json()) as never;
  const timed = async (call: () => Promise<Response>): Promise<{ status: number; ms: number }> => {
    const started = Date.now();
    const res = await call();
    await res.arrayBuffer();
    return { status: res.status, ms: Date.now() - started };
  };
  const apiCall = () => fetch(`${server.url}/api/oauth/connection-status`, { headers: { authorization: `Bearer ${access}` } });
  const tokenCall = () => tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: 'x', client_id: client.clientId, client_secret: client.clientSecret });
  const redisKeys = async (): Promise<string[]> => {
    const r = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0 });
    r.on('error', () => undefined);
    try {
      return await r.keys('almanac:rl:*');
    } finally {
      r.disconnect();
    }
  };
  const warnings = (): number => server.logs.filter((l) => l.includes('Redis is unavailable')).length;

  test('with Redis up, counts live in Redis', async () => {
    assert.equal((await apiCall()).status, 200);
    assert.deepEqual(await health(), { status: 'ok', rateLimits: 'redis' });
    assert.ok((await redisKeys()).some((k) => k.startsWith('almanac:rl:user:')));
  });

  test('Redis stopped: rate-limited endpoints answer quickly, health says memory-fallback, one warning', async () => {
    await stop(redis);
    for (let i = 0; i < 5; i++) {
      const api = await timed(apiCall);
      assert.equal(api.status, 200);
      assert.ok(api.ms < 1500, `API answered in ${api.ms} ms`);
      const token = await timed(tokenCall);
      assert.equal(token.status, 400, 'the token endpoint answers its own error, not a 500');
      assert.ok(token.ms < 1500, `token answered in ${token.ms} ms`);
    }
    assert.deepEqual(await health(), { status: 'ok', rateLimits: 'memory-fallback' });
    assert.equal(warnings(), 1);
  });

  test('Redis back: counting returns to Redis', async () => {
    redis = await startRedis(port);
    const deadline = Date.now() + 15_000;
    while ((await health()).rateLimits !== 'redis') {
      assert.ok(Date.now() < deadline, 'recovered within 15 s');
      assert.equal((await apiCall()).status, 200);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal((await apiCall()).status, 200);
    assert.ok((await redisKeys()).some((k) => k.startsWith('almanac:rl:user:')), 'a fresh Redis got counters again');
    assert.ok(server.logs.some((l) => l.includes('Redis is back')));
  });

  test('Redis frozen (SIGSTOP): requests are bounded by the command timeout, then skip it', async () => {
    redis.kill('SIGSTOP');
    try {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const api = await timed(apiCall);
        assert.equal(api.status, 200);
        times.push(api.ms);
      }
      assert.ok(times.every((ms) => ms < 1500), `times ${times.join(',')}`);
      assert.equal((await health()).rateLimits, 'memory-fallback');
    } finally {
      redis.kill('SIGCONT');
    }
  });
});
