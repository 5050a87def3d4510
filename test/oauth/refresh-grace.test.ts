/**
 * The refresh reuse grace (ALMANAC_REFRESH_GRACE_SECONDS): a client whose refresh
 * response was lost presents the same refresh token again and gets the same successor
 * (the very same refresh token, a valid access token), so the family keeps exactly one
 * live refresh token; after the grace, or for a token rotated twice, reuse still revokes.
 * The last test kills a real server process with SIGKILL in the middle of refreshes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { decodeJwt } from 'jose';
import { loadConfig } from '../../src/config/config.js';
import { deriveKeys } from '../../src/crypto/keys.js';
import { lookupHash } from '../../src/crypto/secret-hash.js';
import { createRuntime } from '../../src/runtime.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/databases.js';
import { fullTokens, tokenRequest } from '../support/oauth-flow.js';
import { startServer, TEST_SECRET, type TestServer } from '../support/server.js';
import { freePort, startChild } from '../support/spawn-server.js';

type Tokens = { access_token: string; refresh_token: string };

for (const { dialect, skip } of await dialects()) describe(`refresh reuse grace on ${dialect}`, { skip }, () => {
  let server: TestServer;
  let strict: TestServer;
  let short: TestServer;
  let client: { clientId: string; clientSecret: string };

  before(async () => {
    server = await startServer({ dialect });
    strict = await startServer({ dialect, env: { ALMANAC_REFRESH_GRACE_SECONDS: '0' } });
    short = await startServer({ dialect, env: { ALMANAC_REFRESH_GRACE_SECONDS: '1' } });
  });
  after(async () => {
    await server?.close();
    await strict?.close();
    await short?.close();
  });

  const refresh = (on: TestServer, c: { clientId: string; clientSecret: string }, token: string) =>
    tokenRequest(on.url, { grant_type: 'refresh_token', refresh_token: token, client_id: c.clientId, client_secret: c.clientSecret });
  const apiStatus = async (on: TestServer, token: string) =>
    (await fetch(`${on.url}/api/oauth/connection-status`, { headers: { authorization: `Bearer ${token}` } })).status;
  const liveRefreshTokens = async (on: TestServer, refreshToken: string): Promise<number> => {
    const rows = await on.runtime.storage.db.selectFrom('refresh_tokens').select('rotated_at').where('family_id', '=', String(decodeJwt(refreshToken).fid)).execute();
    return rows.filter((r) => r.rotated_at === null).length;
  };

  test('a repeat within the grace returns the same refresh token and a working access token', async () => {
    client = await server.createClient();
    const first = await fullTokens(server.url, client, { user_id: 'g-1' });
    const rotated = (await (await refresh(server, client, first.refresh_token)).json()) as Tokens;
    const repeat = await refresh(server, client, first.refresh_token);
    assert.equal(repeat.status, 200);
    const again = (await repeat.json()) as Tokens;
    assert.equal(again.refresh_token, rotated.refresh_token, 'the same refresh token, byte for byte');
    assert.equal(await apiStatus(server, again.access_token), 200);
    assert.equal(await apiStatus(server, rotated.access_token), 200);
    assert.equal(await liveRefreshTokens(server, again.refresh_token), 1, 'the family has one live refresh token');
    // The successor rotates normally afterwards.
    const next = await refresh(server, client, again.refresh_token);
    assert.equal(next.status, 200);
  });

  test('a token rotated twice is reuse even within the grace: the family is revoked', async () => {
    const first = await fullTokens(server.url, client, { user_id: 'g-2' });
    const second = (await (await refresh(server, client, first.refresh_token)).json()) as Tokens;
    const third = (await (await refresh(server, client, second.refresh_token)).json()) as Tokens;
    assert.equal((await refresh(server, client, first.refresh_token)).status, 400);
    assert.equal(await apiStatus(server, third.access_token), 401);
    assert.equal((await refresh(server, client, third.refresh_token)).status, 400);
  });

  test('after the grace, a repeat is reuse', async () => {
    const c = await short.createClient();
    const first = await fullTokens(short.url, c, { user_id: 'g-3' });
    const rotated = (await (await refresh(short, c, first.refresh_token)).json()) as Tokens;
    await new Promise((resolve) => setTimeout(resolve, 1300));
    assert.equal((await refresh(short, c, first.refresh_token)).status, 400);
    assert.equal(await apiStatus(short, rotated.access_token), 401);
  });

  test('grace 0 is strict: of 20 parallel refreshes one succeeds, and the repeats revoke', async () => {
    const c = await strict.createClient();
    const first = await fullTokens(strict.url, c, { user_id: 'g-4' });
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(strict, c, first.refresh_token)));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1, results.map((r) => r.status).join(','));
    assert.equal(await apiStatus(strict, ((await ok[0]!.json()) as Tokens).access_token), 401);
  });

  test('with the grace, 20 parallel refreshes all get the one successor', async () => {
    const first = await fullTokens(server.url, client, { user_id: 'g-5' });
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(server, client, first.refresh_token)));
    assert.deepEqual(results.map((r) => r.status), new Array(20).fill(200));
    const bodies = (await Promise.all(results.map((r) => r.json()))) as Tokens[];
    assert.equal(new Set(bodies.map((b) => b.refresh_token)).size, 1);
    assert.equal(await liveRefreshTokens(server, bodies[0]!.refresh_token), 1);
    for (const b of bodies.slice(0, 3)) assert.equal(await apiStatus(server, b.access_token), 200);
  });
});

for (const { dialect, skip } of await dialects()) describe(`kill -9 during refreshes on ${dialect}`, { skip }, () => {
  let db: TestDatabase;
  let child: ChildProcess | undefined;

  before(async () => {
    db = await createTestDatabase(dialect);
  });
  after(async () => {
    child?.kill('SIGKILL');
    await db?.drop();
  });

  test('every family survives the client retrying the refresh whose answer was lost', async () => {
    const port = await freePort();
    const env = {
      ...db.env, ALMANAC_SECRET_KEY: TEST_SECRET, ALMANAC_DEMO_CLIENT: 'false', LOG_LEVEL: 'silent', PORT: String(port), HOST: '127.0.0.1',
      ALMANAC_PUBLIC_URL: `http://127.0.0.1:${port}`, ALMANAC_RATE_LIMIT_PER_IP: '1000000',
    };
    // Twenty token families, issued directly (the child is not running yet).
    const setup = await createRuntime(loadConfig(env));
    const { client, clientSecret } = await setup.services.clients.create({ name: 'kill', redirectUris: ['https://k.example/cb'] });
    const current: string[] = [];
    for (let i = 0; i < 20; i++) {
      const user = await setup.services.users.findOrCreate(client.clientId, `k-${i}`);
      const code = await setup.services.tokens.issueCode({ clientId: client.clientId, userId: user.id, sessionId: `kill-${i}`, scope: 'read', redirectUri: 'https://k.example/cb', redirectUriExplicit: false, codeChallenge: null });
      current.push((await setup.services.tokens.exchangeCode(client, { code })).refresh_token);
    }
    const lookup = deriveKeys(TEST_SECRET).lookup;

    let committedButLost = 0;
    for (let cycle = 0; cycle < 6 && committedButLost === 0; cycle++) {
      if (dialect === 'sqlite') await setup.storage.close().catch(() => undefined);
      const started = await startChild(env);
      child = started.child;
      const lost: Array<string | undefined> = new Array(20).fill(undefined);
      let stop = false;
      const workers = current.map(async (_, i) => {
        while (!stop) {
          try {
            const res = await tokenRequest(started.url, { grant_type: 'refresh_token', refresh_token: current[i]!, client_id: client.clientId, client_secret: clientSecret });
            assert.equal(res.status, 200, await res.clone().text());
            current[i] = ((await res.json()) as Tokens).refresh_token;
          } catch (err) {
            if (err instanceof assert.AssertionError) throw err;
            lost[i] = current[i];
            return;
          }
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 300 + cycle * 150));
      child.kill('SIGKILL');
      await new Promise((resolve) => child!.once('exit', resolve));
      stop = true;
      await Promise.all(workers);

      // Which lost answers belonged to rotations the database had committed?
      const check = dialect === 'sqlite' ? await createRuntime(loadConfig(env)) : setup;
      for (const token of lost) if (token && (await check.storage.db.selectFrom('refresh_tokens').select('rotated_at').where('jti_hash', '=', lookupHash(lookup, String(decodeJwt(token).jti))).executeTakeFirst())?.rotated_at != null) committedButLost += 1;
      if (check !== setup) await check.close();

      // The clients retry what they sent, as any client would after a dropped connection.
      const restarted = await startChild(env);
      child = restarted.child;
      for (let i = 0; i < 20; i++) {
        const res = await tokenRequest(restarted.url, { grant_type: 'refresh_token', refresh_token: current[i]!, client_id: client.clientId, client_secret: clientSecret });
        assert.equal(res.status, 200, `family ${i}: ${await res.clone().text()}`);
        const body = (await res.json()) as Tokens;
        assert.equal((await fetch(`${restarted.url}/api/oauth/connection-status`, { headers: { authorization: `Bearer ${body.access_token}` } })).status, 200);
        current[i] = body.refresh_token;
      }
      child.kill('SIGKILL');
      await new Promise((resolve) => child!.once('exit', resolve));
      child = undefined;
    }
    assert.ok(committedButLost > 0, 'at least one rotation committed without its answer arriving (otherwise the run proved nothing)');

    const final = dialect === 'sqlite' ? await createRuntime(loadConfig(env)) : setup;
    const families = await final.storage.db.selectFrom('token_families').select(['id', 'revoked_at']).where('client_id', '=', client.clientId).execute();
    assert.equal(families.length, 20);
    assert.deepEqual(families.filter((f) => f.revoked_at !== null), [], 'no family was revoked');
    for (const f of families) {
      const live = await final.storage.db.selectFrom('refresh_tokens').select('jti_hash').where('family_id', '=', f.id).where('rotated_at', 'is', null).execute();
      assert.equal(live.length, 1, `family ${f.id} has exactly one live refresh token`);
    }
    await final.close();
    if (final !== setup) await setup.close().catch(() => undefined);
  });
});
