/** GET /metrics: protected by ALMANAC_METRICS_TOKEN, and counting what happens (requests, provider calls, rate-limit refusals). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, connectCaldav, finishConnect, openConnect } from '../support/connect-flow.js';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServer, type TestServer } from '../support/server.js';
import { syncNow } from '../support/sync-now.js';
import { dialects } from '../support/databases.js';

const TOKEN = 'metrics-token-0123456789abcdef';

/** The value of one sample (0 when the series does not exist yet). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelPart = line.slice(name.length + 1, line.indexOf('}'));
    const have = labelPart.split(',');
    if (wanted.every((w) => have.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/** The value of a metric without labels. */
function plain(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function scrape(server: TestServer): Promise<string> {
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(res.status, 200);
  return res.text();
}

describe('metrics', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ env: { ALMANAC_METRICS_TOKEN: TOKEN, ALMANAC_RATE_LIMIT_PER_IP: '3' } });
  });
  after(async () => server?.close());

  test('only the configured token gets the metrics', async () => {
    const anonymous = await fetch(`${server.url}/metrics`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
    assert.deepEqual(Object.keys((await anonymous.json()) as object).sort(), ['error', 'message']);
    for (const header of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, TOKEN]) {
      assert.equal((await fetch(`${server.url}/metrics`, { headers: { authorization: header } })).status, 401, header);
    }
    const ok = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await ok.text(), /# TYPE almanac_http_requests_total counter/);
  });

  test('a request is counted by route pattern and status, with its latency; raw URLs never become labels', async () => {
    const labels = { method: 'GET', route: '/api/health', status: '200' };
    const before = await scrape(server);
    for (let i = 0; i < 3; i += 1) assert.equal((await fetch(`${server.url}/api/health`)).status, 200);
    await fetch(`${server.url}/no/such/path-with-an-id-123`);
    const after = await scrape(server);
    assert.equal(sample(after, 'almanac_http_requests_total', labels) - sample(before, 'almanac_http_requests_total', labels), 3);
    assert.equal(sample(after, 'almanac_http_request_duration_seconds_count', labels) - sample(before, 'almanac_http_request_duration_seconds_count', labels), 3);
    assert.equal(sample(after, 'almanac_http_requests_total', { route: '(unmatched)', status: '404' }), 1);
    assert.doesNotMatch(after, /path-with-an-id-123/);
  });

  test("Almanac's own rate-limit refusals are counted by limit", async () => {
    const before = sample(await scrape(server), 'almanac_rate_limit_rejections_total', { limit: 'ip' });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      statuses.push((await fetch(`${server.url}/api/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token":"x"}' })).status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.equal(sample(await scrape(server), 'almanac_rate_limit_rejections_total', { limit: 'ip' }) - before, 2);
  });

  test('without ALMANAC_METRICS_TOKEN there is no /metrics at all', async () => {
    const plain = await startServer();
    try {
      assert.equal((await fetch(`${plain.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 404);
    } finally {
      await plain.close();
    }
  });
});

describe('provider call metrics', { skip: RADICALE_SKIP }, () => {
  let rad: RadicaleServer;
  let server: TestServer;
  before(async () => {
    rad = await startRadicale({ users: { alice: 'alice-pw' } });
    await rad.mkcalendar('alice', 'work', { displayName: 'Work' });
    server = await startServer({ env: { ALMANAC_METRICS_TOKEN: TOKEN } });
  });
  after(async () => {
    await server?.close();
    await rad?.stop();
  });

  test('provider operations are counted by provider and outcome (ok, or the error code)', async () => {
    const client = await server.createClient();
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'metrics-user' });
    assert.equal((await connectCaldav(server.url, s, { server_url: rad.url, username: 'alice', password: 'alice-pw' })).status, 303);
    const tokens = await finishConnect(server.url, s, client);
    const a = api(server.url, tokens.access_token);
    const before = await scrape(server);
    assert.equal((await a.get('/api/calendars')).status, 200);
    const afterOk = await scrape(server);
    assert.equal(sample(afterOk, 'almanac_provider_calls_total', { provider: 'caldav', outcome: 'ok' }) - sample(before, 'almanac_provider_calls_total', { provider: 'caldav', outcome: 'ok' }), 1);
    assert.ok(sample(afterOk, 'almanac_provider_call_duration_seconds_count', { provider: 'caldav' }) >= 1);

    // The stored password stops working: the next call is an AUTH_REVOKED outcome.
    const [row] = await server.runtime.storage.db.selectFrom('accounts').select('id').execute();
    const creds = await server.runtime.services.accounts.readCredentials<Record<string, unknown>>(row!.id);
    await server.runtime.services.accounts.writeCredentials(row!.id, { ...creds, password: 'changed' });
    await a.get('/api/calendars');
    assert.equal(sample(await scrape(server), 'almanac_provider_calls_total', { provider: 'caldav', outcome: 'auth_revoked' }), 1);
  });
});

for (const { dialect, skip } of await dialects()) describe(`sync metrics on ${dialect}`, { skip: RADICALE_SKIP || skip }, () => {
  let rad: RadicaleServer;
  let server: TestServer;
  before(async () => {
    rad = await startRadicale({ users: { bob: 'bob-pw' } });
    await rad.mkcalendar('bob', 'home', { displayName: 'Home' });
    await rad.mkcalendar('bob', 'work', { displayName: 'Work' });
    // A long poll interval: only the test's own syncNow runs passes.
    server = await startServer({ dialect, sync: true, env: { ALMANAC_METRICS_TOKEN: TOKEN, ALMANAC_SYNC_POLL_SECONDS: '3600' } });
  });
  after(async () => {
    await server?.close();
    await rad?.stop();
  });

  test('the schedule and the mirror state are gauges read from storage: calendars by status, failures, lag', async () => {
    const empty = await scrape(server);
    assert.equal(plain(empty, 'almanac_sync_jobs_due'), 0);
    assert.equal(plain(empty, 'almanac_sync_lag_seconds'), 0);

    const client = await server.createClient();
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'sync-metrics-user' });
    assert.equal((await connectCaldav(server.url, s, { server_url: rad.url, username: 'bob', password: 'bob-pw' })).status, 303);
    await finishConnect(server.url, s, client);
    const [row] = await server.runtime.storage.db.selectFrom('accounts').select('id').execute();
    await syncNow(server.runtime, row!.id);

    const synced = await scrape(server);
    assert.equal(sample(synced, 'almanac_sync_calendars', { status: 'ready' }), 2);
    assert.equal(plain(synced, 'almanac_sync_calendars_failing'), 0);
    const lag = plain(synced, 'almanac_sync_lag_seconds') ?? -1;
    assert.ok(lag >= 0 && lag < 60, `lag ${lag}`);

    // Calendars whose last pass failed are counted, and the lag grows from their last success.
    await server.runtime.storage.db.updateTable('calendar_sync').set({ last_error_code: 'TEMPORARY', last_success_at: Date.now() - 600_000 }).execute();
    const failing = await scrape(server);
    assert.equal(plain(failing, 'almanac_sync_calendars_failing'), 2);
    assert.ok((plain(failing, 'almanac_sync_lag_seconds') ?? 0) >= 600);

    // A job past its time with no worker on it is due, and its wait is reported (the worker
    // is stopped first, or it would take the job at once).
    await server.runtime.stopBackground();
    await server.runtime.storage.db.updateTable('sync_jobs').set({ next_run_at: Date.now() - 120_000, lease_until: null }).execute();
    const due = await scrape(server);
    assert.equal(plain(due, 'almanac_sync_jobs_due'), 1);
    assert.ok((plain(due, 'almanac_sync_oldest_due_seconds') ?? 0) >= 120);
  });
});
