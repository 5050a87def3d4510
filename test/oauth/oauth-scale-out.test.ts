/** Two instances over one PostgreSQL and one Redis: revocation and rate limits hold across them. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createTestDatabase, postgresAvailable, PG_SKIP_MESSAGE, REDIS_TEST_URL, type TestDatabase } from '../support/databases.js';
import { startServer, type TestServer } from '../support/server.js';
import { fullTokens, tokenRequest } from '../support/oauth-flow.js';

async function redisAvailable(): Promise<boolean> {
  const r = new Redis(REDIS_TEST_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

const hasPg = await postgresAvailable();
const hasRedis = await redisAvailable();
const skip = !hasPg ? PG_SKIP_MESSAGE : !hasRedis ? `Redis not reachable at ${REDIS_TEST_URL}: apt-get install -y redis-server and start it, or set ALMANAC_TEST_REDIS_URL` : false;

describe('scale-out: two instances sharing PostgreSQL and Redis', { skip }, () => {
  let db: TestDatabase;
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    db = await createTestDatabase('postgres');
    const env = { REDIS_URL: REDIS_TEST_URL, ALMANAC_RATE_LIMIT_PER_TOKEN: '5', ALMANAC_RATE_LIMIT_WINDOW_SECONDS: '60' };
    a = await startServer({ db, env });
    b = await startServer({ db, env });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  test('a token revoked through one instance is refused by the other on the next request', async () => {
    const client = await a.createClient();
    const t = await fullTokens(a.url, client, { user_id: 'multi' });
    assert.equal((await fetch(`${b.url}/api/oauth/connection-status`, { headers: { authorization: `Bearer ${t.access_token}` } })).status, 200);
    const rev = await fetch(`${a.url}/api/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: t.refresh_token }) });
    assert.equal(rev.status, 200);
    assert.equal((await fetch(`${b.url}/api/oauth/connection-status`, { headers: { authorization: `Bearer ${t.access_token}` } })).status, 401);
  });

  test('a refresh token rotated on one instance: repeated on the other within the grace it gets the same successor; rotated twice it is reuse', async () => {
    const client = await a.createClient();
    const t = await fullTokens(a.url, client, { user_id: 'multi-2' });
    const creds = { client_id: client.clientId, client_secret: client.clientSecret };
    const first = await tokenRequest(a.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token, ...creds });
    assert.equal(first.status, 200);
    const successor = ((await first.json()) as { refresh_token: string }).refresh_token;
    const repeat = await tokenRequest(b.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token, ...creds });
    assert.equal(repeat.status, 200);
    assert.equal(((await repeat.json()) as { refresh_token: string }).refresh_token, successor);
    assert.equal((await tokenRequest(b.url, { grant_type: 'refresh_token', refresh_token: successor, ...creds })).status, 200);
    assert.equal((await tokenRequest(a.url, { grant_type: 'refresh_token', refresh_token: t.refresh_token, ...creds })).status, 400);
  });

  test('per-token rate limit counts requests on both instances together (Redis), with 429 and headers', async () => {
    const client = await a.createClient();
    const t = await fullTokens(a.url, client, { user_id: 'limited' });
    const h = { authorization: `Bearer ${t.access_token}` };
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 6; i++) {
      last = await fetch(`${(i % 2 ? a : b).url}/api/oauth/connection-status`, { headers: h });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    assert.ok(Number(last!.headers.get('retry-after')) >= 1);
    assert.equal(last!.headers.get('ratelimit-limit'), '5');
    assert.equal(last!.headers.get('ratelimit-remaining'), '0');
    assert.ok(Number(last!.headers.get('ratelimit-reset')) >= 1);
    const body = (await last!.json()) as { error: string; message: string };
    assert.equal(body.error, 'rate_limited');
  });
});
