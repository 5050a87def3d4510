/** `npm start` as a newcomer meets it: embedded SQLite, a generated key, a demo client, clear lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../src/config/config.js';
import { authorizeAndContinue, csrfFrom, postForm, startAuthorize, tokenRequest } from '../support/oauth-flow.js';
import { freePort, startServerProcess } from '../support/server-process.js';

function field(out: string, name: string): string {
  const value = new RegExp(`${name}:\\s+(\\S+)`).exec(out)?.[1];
  assert.ok(value, `${name} printed in:\n${out}`);
  return value;
}

test('first start: says where it listens, which database and key, the demo client and a ready authorize URL; second start reuses both', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'almanac-start-'));
  try {
    const port = await freePort();
    const first = await startServerProcess({ PORT: String(port), ALMANAC_DATA_DIR: dir });
    const out = first.output();
    assert.match(out, new RegExp(`Almanac \\d+\\.\\d+\\.\\d+ is listening on 127\\.0\\.0\\.1:${port}: open http://127\\.0\\.0\\.1:${port}/`));
    assert.match(out, new RegExp(`database:  SQLite ${join(dir, 'almanac.sqlite').replace(/[.]/g, '\\.')} \\(key: ${join(dir, 'secret.key').replace(/[.]/g, '\\.')}\\)`));
    assert.match(out, /ALMANAC_ALLOW_PRIVATE_NETWORKS=true/, 'says what a local CalDAV server needs');
    const keyFile = join(dir, 'secret.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const key = readFileSync(keyFile, 'utf8');
    const clientId = field(out, 'client_id');
    const clientSecret = field(out, 'client_secret');
    const authorizeUrl = new RegExp(`  (http://127\\.0\\.0\\.1:${port}/api/oauth/authorize\\?response_type=code&client_id=${clientId}&user_id=demo-user&scope=read-write&state=demo)\\n`).exec(out)?.[1];
    assert.ok(authorizeUrl, `a ready authorize URL in:\n${out}`);
    // The printed credentials complete the flow (the demo callback is Almanac's own page).
    const q = await authorizeAndContinue(first.url, Object.fromEntries(new URL(authorizeUrl).searchParams));
    const callback = await fetch(`${first.url}/demo/callback?${q}`);
    assert.match(await callback.text(), /<h1 class="title">Authorization code received<\/h1>/);
    const tokens = await tokenRequest(first.url, { grant_type: 'authorization_code', code: q.get('code')! }, { basic: [clientId, clientSecret] });
    assert.equal(tokens.status, 200);
    assert.deepEqual(await (await fetch(`${first.url}/api/health`)).json(), { status: 'ok', rateLimits: 'memory' });
    assert.equal((await fetch(`${first.url}/api/docs`)).status, 200);
    assert.equal(await first.stop(), 0, 'SIGTERM: a clean exit');

    const second = await startServerProcess({ PORT: String(port), ALMANAC_DATA_DIR: dir });
    assert.doesNotMatch(second.output(), /First run/);
    assert.match(second.output(), new RegExp(`Demo client ${clientId} \\(\`npx almanac demo\` shows its secret\\)`));
    assert.doesNotMatch(second.output(), new RegExp(clientSecret), 'later starts do not print the secret');
    assert.equal(readFileSync(keyFile, 'utf8'), key);
    const again = await tokenRequest(second.url, { grant_type: 'refresh_token', refresh_token: ((await tokens.json()) as { refresh_token: string }).refresh_token }, { basic: [clientId, clientSecret] });
    assert.equal(again.status, 200, 'tokens survive a restart (same key)');
    assert.equal(await second.stop(), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the demo client follows PORT and ALMANAC_PUBLIC_URL: started again elsewhere, its flow ends on the new address', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'almanac-move-'));
  try {
    const first = await startServerProcess({ ALMANAC_DATA_DIR: dir });
    const clientId = field(first.output(), 'client_id');
    const clientSecret = field(first.output(), 'client_secret');
    await first.stop();

    const port = await freePort();
    const moved = await startServerProcess({ ALMANAC_DATA_DIR: dir, PORT: String(port), ALMANAC_PUBLIC_URL: `http://localhost:${port}` });
    assert.match(moved.output(), new RegExp(`http://localhost:${port}/api/oauth/authorize\\?response_type=code&client_id=${clientId}&`));
    const { res, cookie } = await startAuthorize(moved.url, { response_type: 'code', client_id: clientId, user_id: 'demo-user', state: 'demo' });
    assert.equal(res.status, 302, await res.text());
    const page = await fetch(`${moved.url}/connect`, { headers: { cookie: cookie! } });
    const done = await postForm(`${moved.url}/connect/continue`, cookie, { csrf: csrfFrom(await page.text()) });
    const location = new URL(done.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, `http://localhost:${port}/demo/callback`, 'the redirect moved with the server');
    const tokens = await tokenRequest(moved.url, { grant_type: 'authorization_code', code: location.searchParams.get('code')! }, { basic: [clientId, clientSecret] });
    assert.equal(tokens.status, 200, 'same client, same secret');
    assert.equal(await moved.stop(), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a busy port is one clear line on stderr and exit code 1, not a stack trace', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'almanac-busy-'));
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: new URL('../../', import.meta.url).pathname,
      env: { ...process.env, NODE_OPTIONS: '', HOST: '127.0.0.1', PORT: String(port), ALMANAC_DATA_DIR: dir, ALMANAC_SECRET_KEY: '', DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `Port ${port} is already in use on 127.0.0.1: stop the program using it, or start Almanac on another port (PORT=${port + 1} npm start).\n`);
    assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad setting is one line and exit code 2', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: new URL('../../', import.meta.url).pathname,
    env: { ...process.env, NODE_OPTIONS: '', PORT: 'eighty' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'Configuration error: PORT must be a whole number, got "eighty"\n');
});

test('an unreachable database is one line naming it (never its password) and exit code 1', async () => {
  const { spawnSync } = await import('node:child_process');
  const port = await freePort();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: new URL('../../', import.meta.url).pathname,
    env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: `postgres://almanac:hunter2@127.0.0.1:${port}/almanac`, ALMANAC_SECRET_KEY: 'k'.repeat(40) },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`^Cannot start: PostgreSQL postgres://almanac:\\*\\*\\*@127\\.0\\.0\\.1:${port}/almanac could not be opened: .*ECONNREFUSED.*\\n$`));
  assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
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
    [{ ALMANAC_METRICS_TOKEN: 'short' }, /ALMANAC_METRICS_TOKEN must be at least 16 characters/],
    [{ ALMANAC_METRICS_TOKEN: 'has a space in it, long enough' }, /without spaces/],
    [{ ALMANAC_SHUTDOWN_TIMEOUT_SECONDS: '0' }, /ALMANAC_SHUTDOWN_TIMEOUT_SECONDS must be between 1 and 600/],
    [{ LOG_LEVEL: 'verbose' }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/],
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
  assert.equal(c.metricsToken, undefined);
  assert.equal(c.shutdownTimeoutMs, 20_000);
});
