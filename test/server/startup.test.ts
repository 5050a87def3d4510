/** `npm start` as a newcomer meets it: embedded SQLite, a generated key, a demo client, docs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../src/config/config.js';
import { authorizeAndContinue, tokenRequest } from '../support/oauth-flow.js';

/** Starts src/main.ts on a free port and resolves with its printed output once it listens. */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function start(dataDir: string, port: number): Promise<{ url: string; output: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, NODE_OPTIONS: '', PORT: String(port), ALMANAC_PUBLIC_URL: `http://127.0.0.1:${port}`, HOST: '127.0.0.1', ALMANAC_DATA_DIR: dataDir, ALMANAC_SECRET_KEY: '', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const stop = () => new Promise<void>((r) => (child.exitCode !== null ? r() : (child.once('exit', () => r()), child.kill('SIGTERM'))));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
    const check = () => {
      const m = /Almanac listening on (http:\/\/[^\s]+)/.exec(out);
      if (m && (out.includes('API docs') || out.includes('First run'))) {
        // The demo client lines come right after; give them a moment.
        setTimeout(() => {
          clearTimeout(timer);
          resolve({ url: m[1]!, output: () => out, stop });
        }, 300);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

test('first start: key generated with mode 0600, demo client printed and usable; second start reuses both', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'almanac-start-'));
  try {
    // The same public URL both times, as a real deployment has (it is the tokens' issuer).
    const port = await freePort();
    const first = await start(dir, port);
    const out = first.output();
    const keyFile = join(dir, 'secret.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const key = readFileSync(keyFile, 'utf8');
    const clientId = /client_id:\s+(\S+)/.exec(out)?.[1];
    const clientSecret = /client_secret:\s+(\S+)/.exec(out)?.[1];
    assert.ok(clientId && clientSecret, out);
    assert.match(out, /api\/oauth\/authorize\?response_type=code&client_id=/);
    // The printed credentials complete the flow (the demo callback is Almanac's own page).
    const q = await authorizeAndContinue(first.url, { client_id: clientId, user_id: 'demo-user', state: 'demo' });
    const callback = await fetch(`${first.url}/demo/callback?${q}`);
    assert.match(await callback.text(), /Authorization code received/);
    const tokens = await tokenRequest(first.url, { grant_type: 'authorization_code', code: q.get('code')! }, { basic: [clientId, clientSecret] });
    assert.equal(tokens.status, 200);
    assert.deepEqual(await (await fetch(`${first.url}/api/health`)).json(), { status: 'ok', rateLimits: 'memory' });
    const openapi = (await (await fetch(`${first.url}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const path of ['/api/oauth/token', '/api/oauth/revoke', '/api/oauth/authorize', '/api/oauth/connection-status', '/api/oauth/disconnect', '/api/calendars', '/api/events', '/api/event', '/api/health']) {
      assert.ok(openapi.paths[path], `OpenAPI documents ${path}`);
    }
    assert.equal((await fetch(`${first.url}/api/docs`)).status, 200);
    await first.stop();

    const second = await start(dir, port);
    assert.doesNotMatch(second.output(), /First run/);
    assert.equal(readFileSync(keyFile, 'utf8'), key);
    const again = await tokenRequest(second.url, { grant_type: 'refresh_token', refresh_token: ((await tokens.json()) as { refresh_token: string }).refresh_token }, { basic: [clientId, clientSecret] });
    assert.equal(again.status, 200, 'tokens survive a restart (same key)');
    await second.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('configuration is validated once with clear messages', () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ PORT: 'eighty' }, /PORT must be a whole number/],
    [{ PORT: '70000' }, /PORT must be between/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must use postgres/],
    [{ ALMANAC_SECRET_KEY: 'short' }, /at least 32 characters/],
    [{ ALMANAC_ALLOW_PRIVATE_NETWORKS: 'maybe' }, /true or false/],
    [{ GOOGLE_CLIENT_ID: 'x' }, /must be set together/],
    [{ ALMANAC_PUBLIC_URL: 'ftp://x' }, /http/],
    [{ ALMANAC_PROVIDER_MAX_RESPONSE_BYTES: '1000' }, /ALMANAC_PROVIDER_MAX_RESPONSE_BYTES must be between 65536/],
    [{ ALMANAC_REFRESH_GRACE_SECONDS: '-1' }, /ALMANAC_REFRESH_GRACE_SECONDS must be a whole number/],
    [{ ALMANAC_REFRESH_GRACE_SECONDS: '7200' }, /ALMANAC_REFRESH_GRACE_SECONDS must be between 0 and 3600/],
  ];
  for (const [env, message] of bad) assert.throws(() => loadConfig(env), (e: Error) => e instanceof ConfigError && message.test(e.message), JSON.stringify(env));
  const c = loadConfig({});
  assert.equal(c.port, 3000);
  assert.equal(c.publicUrl, 'http://localhost:3000');
  assert.equal(c.allowPrivateNetworks, false);
  assert.equal(c.google, undefined);
  assert.equal(c.providerMaxResponseBytes, 10 * 1024 * 1024);
  assert.equal(c.refreshGraceSeconds, 30);
  assert.equal(loadConfig({ ALMANAC_REFRESH_GRACE_SECONDS: '0' }).refreshGraceSeconds, 0);
});
