/**
 * Webhook behaviour that depends on who subscribed and how: a free-busy token's
 * subscription gets busy blocks only; a calendar subscribed before its first sync reports
 * that sync as initial; an expired subscription hears nothing; with
 * ALMANAC_WEBHOOK_ECHO_OWN_WRITES the application's own writes come back; delivery
 * outcomes reach /metrics.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServer, type TestServer } from '../support/server.js';
import { syncNow } from '../support/sync-now.js';
import { api, connectCaldav, finishConnect, openConnect } from '../support/connect-flow.js';
import { startReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/webhook-receiver.js';

function ics(uid: string, fields: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...fields, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

interface Delivery {
  userId: string;
  changeType: string;
  events: Record<string, unknown>[];
  metadata: { channelId: string; eventCount: number; isInitialSync: boolean };
}

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

describe('webhook subscriptions by scope, initial sync, expiry, echoes and metrics', { skip: RADICALE_SKIP }, () => {
  let rad: RadicaleServer;
  let server: TestServer;
  let receiver: WebhookReceiver;
  let secret: string;
  const users: Record<string, { api: ReturnType<typeof api>; account: string }> = {};
  let base: string;
  const y = new Date().getUTCFullYear() + 1;

  const verified = (r: ReceivedRequest): Delivery =>
    new Webhook(secret).verify(r.body, { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) }) as Delivery;
  const forUser = (userId: string) => receiver.requests.map(verified).filter((d) => d.userId === userId);
  const syncAll = async () => {
    for (const u of Object.values(users)) await syncNow(server.runtime, u.account);
  };
  async function settled(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const pending = await server.runtime.storage.db.selectFrom('webhook_deliveries').select('id').where('status', '=', 'pending').execute();
      if (pending.length === 0) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.fail('deliveries still pending');
  }

  before(async () => {
    rad = await startRadicale({ users: { alice: 'alice-pw', dave: 'dave-pw' } });
    await rad.mkcalendar('alice', 'work');
    await rad.mkcalendar('dave', 'own');
    base = `http://127.0.0.1:${rad.port}`;
    await rad.put('alice', '/alice/work/one.ics', ics('one', [`DTSTART:${y}0105T090000Z`, `DTEND:${y}0105T100000Z`, 'SUMMARY:Private title']));
    receiver = await startReceiver();
    server = await startServer({ sync: true, env: { ALMANAC_WEBHOOK_ECHO_OWN_WRITES: 'true', ALMANAC_METRICS_TOKEN: METRICS_TOKEN } });
    const created = await server.runtime.services.clients.create({ name: 'opts', redirectUris: ['https://app.example/callback'], webhookUrl: receiver.url });
    const client = { clientId: created.client.clientId, clientSecret: created.clientSecret };
    secret = await server.runtime.webhooks.secrets.ensure(client.clientId);
    for (const [userId, scope, login] of [['full-user', 'read-write', 'alice'], ['busy-user', 'free-busy', 'alice'], ['dave-user', 'read', 'dave']] as const) {
      const s = await openConnect(server.url, { client_id: client.clientId, user_id: userId, scope });
      assert.equal((await connectCaldav(server.url, s, { server_url: base, username: login, password: `${login}-pw` })).status, 303);
      const tokens = await finishConnect(server.url, s, client);
      const row = await server.runtime.storage.db
        .selectFrom('accounts')
        .innerJoin('end_users', 'end_users.id', 'accounts.user_id')
        .select('accounts.id')
        .where('end_users.external_id', '=', userId)
        .executeTakeFirstOrThrow();
      users[userId] = { api: api(server.url, tokens.access_token), account: row.id };
    }
    await syncAll();
    for (const u of [users['full-user']!, users['busy-user']!]) {
      const res = await u.api.post('/api/subscribe-webhook', { provider: 'caldav', calendarId: `${base}/alice/work/` });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
  });

  after(async () => {
    await server?.close();
    await receiver?.close();
    await rad?.stop();
  });

  test('another user’s calendar is unknown (404), another user’s channel too; each user lists only their own', async () => {
    const dave = users['dave-user']!.api;
    const foreign = await dave.post('/api/subscribe-webhook', { provider: 'caldav', calendarId: `${base}/alice/work/` });
    assert.equal(foreign.status, 404, JSON.stringify(foreign.body));
    const theirs = (await users['full-user']!.api.get('/api/webhook-subscriptions')).body.subscriptions as { channelId: string }[];
    assert.equal(theirs.length, 1);
    assert.equal((await dave.post('/api/unsubscribe-webhook', { provider: 'caldav', channelId: theirs[0]!.channelId })).status, 404);
    assert.deepEqual((await dave.get('/api/webhook-subscriptions')).body.subscriptions, []);
    const own = await dave.post('/api/subscribe-webhook', { provider: 'caldav', calendarId: `${base}/dave/own/`, channelId: theirs[0]!.channelId });
    assert.equal(own.status, 409, 'a channelId in use by another subscription');
    assert.equal((await users['full-user']!.api.get('/api/webhook-subscriptions')).body.subscriptions.length, 1, 'still subscribed');
  });

  test('a free-busy subscription receives busy blocks: no title, description or original', async () => {
    await rad.put('alice', '/alice/work/two.ics', ics('two', [`DTSTART:${y}0106T090000Z`, `DTEND:${y}0106T100000Z`, 'SUMMARY:Secret meeting', 'DESCRIPTION:Secret agenda']));
    await syncAll();
    await settled();
    const [full] = forUser('full-user');
    const [busy] = forUser('busy-user');
    assert.equal(full!.events[0]!.title, 'Secret meeting');
    assert.ok(busy, 'the free-busy subscriber got a delivery');
    assert.deepEqual(busy.events.map((e) => [e.id, e.title, e.changeType]), [['two', '', 'created']]);
    for (const e of busy.events) {
      assert.equal(e.description, undefined);
      assert.equal(e.original, undefined);
    }
    assert.ok(!receiver.requests.filter((r) => verified(r).userId === 'busy-user').some((r) => r.body.includes('Secret')));
    // A change busy blocks cannot see (the title) reaches only the full subscriber.
    const before = forUser('busy-user').length;
    const two = await rad.get('alice', '/alice/work/two.ics');
    await rad.put('alice', '/alice/work/two.ics', two.body.replace('Secret meeting', 'Secret meeting (renamed)'));
    await syncAll();
    await settled();
    assert.equal(forUser('busy-user').length, before);
    assert.equal(forUser('full-user').at(-1)!.changeType, 'updated');
  });

  test('a calendar subscribed before its first sync reports that sync as initial', async () => {
    await rad.mkcalendar('alice', 'fresh');
    await rad.put('alice', '/alice/fresh/f.ics', ics('f', [`DTSTART:${y}0201T090000Z`, `DTEND:${y}0201T100000Z`, 'SUMMARY:Fresh']));
    const res = await users['full-user']!.api.post('/api/subscribe-webhook', { provider: 'caldav', calendarId: `${base}/alice/fresh/`, channelId: 'fresh' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await syncAll();
    await settled();
    const initial = forUser('full-user').find((d) => d.metadata.channelId === 'fresh');
    assert.ok(initial);
    assert.equal(initial.metadata.isInitialSync, true);
    assert.deepEqual(initial.events.map((e) => [e.title, e.changeType]), [['Fresh', 'created']]);
  });

  test('an expired subscription hears nothing', async () => {
    const res = await users['full-user']!.api.post('/api/subscribe-webhook', { provider: 'caldav', calendarId: `${base}/alice/fresh/`, expiration: Date.now() + 300 });
    assert.equal(res.status, 200);
    assert.equal(typeof res.body.subscription.expiration, 'number');
    await new Promise((r) => setTimeout(r, 400));
    const before = forUser('full-user').filter((d) => d.metadata.channelId === 'fresh').length;
    await rad.put('alice', '/alice/fresh/g.ics', ics('g', [`DTSTART:${y}0202T090000Z`, `DTEND:${y}0202T100000Z`, 'SUMMARY:After expiry']));
    await syncAll();
    await settled();
    assert.equal(forUser('full-user').filter((d) => d.metadata.channelId === 'fresh').length, before);
  });

  test('with ALMANAC_WEBHOOK_ECHO_OWN_WRITES the application’s own write is delivered too', async () => {
    const created = await users['full-user']!.api.post('/api/event', { provider: 'caldav', calendarId: `${base}/alice/work/`, title: 'Own write', start: `${y}-03-01T09:00:00Z`, end: `${y}-03-01T10:00:00Z` });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    await syncAll();
    await settled();
    assert.ok(forUser('full-user').some((d) => d.events.some((e) => e.title === 'Own write' && e.changeType === 'created')));
  });

  test('delivery outcomes and the queue depth are in /metrics', async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    const text = await res.text();
    const delivered = /almanac_webhook_delivery_attempts_total\{outcome="delivered"\} (\d+)/.exec(text);
    assert.ok(delivered, text.slice(0, 500));
    assert.equal(Number(delivered[1]), receiver.requests.length);
    assert.match(text, /almanac_webhook_queue_depth \d+/);
  });
});

/** Forwards to Radicale, or answers 401 to everything while `refuse` is set (credentials revoked). */
async function refusingProxy(port: number) {
  const state = { refuse: false };
  const server = createServer((req, res) => {
    if (state.refuse) {
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end();
      return;
    }
    const upstream = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${port}` } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    state,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe('grant notices', { skip: RADICALE_SKIP }, () => {
  let rad: RadicaleServer;
  let proxy: Awaited<ReturnType<typeof refusingProxy>>;
  let server: TestServer;
  let receiver: WebhookReceiver;
  let secret: string;
  let account: string;

  before(async () => {
    rad = await startRadicale({ users: { bob: 'bob-pw' } });
    await rad.mkcalendar('bob', 'cal');
    proxy = await refusingProxy(rad.port);
    receiver = await startReceiver();
    server = await startServer({ sync: true });
    const created = await server.runtime.services.clients.create({ name: 'grants', redirectUris: ['https://app.example/callback'], webhookUrl: receiver.url });
    const client = { clientId: created.client.clientId, clientSecret: created.clientSecret };
    secret = await server.runtime.webhooks.secrets.ensure(client.clientId);
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'bob-user' });
    assert.equal((await connectCaldav(server.url, s, { server_url: proxy.url, username: 'bob', password: 'bob-pw' })).status, 303);
    const tokens = await finishConnect(server.url, s, client);
    account = (await server.runtime.storage.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
    await syncNow(server.runtime, account);
    const res = await api(server.url, tokens.access_token).post('/api/subscribe-webhook', { provider: 'caldav', calendarId: `${proxy.url}/bob/cal/` });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  after(async () => {
    await server?.close();
    await receiver?.close();
    await proxy?.close();
    await rad?.stop();
  });

  test('an account whose credentials are refused is announced once, and again when it works', async () => {
    const types = () => receiver.requests.map((r) => new Webhook(secret).verify(r.body, { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) }) as { type: string; userId: string; account: string; syncState: string });
    proxy.state.refuse = true;
    for (let i = 0; i < 2; i++) {
      await server.runtime.sync.syncSoon(account);
      await receiver.waitFor((r) => r.length >= 1, 10_000, 'the reauth notice');
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.deepEqual(types().map((d) => [d.type, d.userId, d.account, d.syncState]), [['grant.reauth_required', 'bob-user', 'bob', 'reauth_required']], 'announced once however often the sync fails');
    proxy.state.refuse = false;
    await syncNow(server.runtime, account);
    await receiver.waitFor((r) => r.length >= 2, 10_000, 'the restored notice');
    assert.deepEqual(types().map((d) => d.type), ['grant.reauth_required', 'grant.restored']);
  });
});

describe('latency without being asked', { skip: RADICALE_SKIP }, () => {
  let rad: RadicaleServer;
  let server: TestServer;
  let receiver: WebhookReceiver;

  before(async () => {
    rad = await startRadicale({ users: { carol: 'carol-pw' } });
    await rad.mkcalendar('carol', 'cal');
    receiver = await startReceiver();
    server = await startServer({ sync: true, env: { ALMANAC_SYNC_POLL_SECONDS: '5' } });
    const created = await server.runtime.services.clients.create({ name: 'latency', redirectUris: ['https://app.example/callback'], webhookUrl: receiver.url });
    const client = { clientId: created.client.clientId, clientSecret: created.clientSecret };
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'carol-user' });
    assert.equal((await connectCaldav(server.url, s, { server_url: `http://127.0.0.1:${rad.port}`, username: 'carol', password: 'carol-pw' })).status, 303);
    const tokens = await finishConnect(server.url, s, client);
    const account = (await server.runtime.storage.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
    await syncNow(server.runtime, account);
    const res = await api(server.url, tokens.access_token).post('/api/subscribe-webhook', { provider: 'caldav', calendarId: `http://127.0.0.1:${rad.port}/carol/cal/` });
    assert.equal(res.status, 200);
  });

  after(async () => {
    await server?.close();
    await receiver?.close();
    await rad?.stop();
  });

  test('a change made on the CalDAV server arrives within the poll interval (5 s here)', async (t) => {
    const latencies: number[] = [];
    for (let i = 0; i < 2; i++) {
      const made = Date.now();
      await rad.put('carol', `/carol/cal/l${i}.ics`, ics(`l${i}`, ['DTSTART:20270110T090000Z', 'DTEND:20270110T100000Z', `SUMMARY:Latency ${i}`]));
      await receiver.waitFor((r) => r.length >= i + 1, 10_000, 'the delivery');
      latencies.push(receiver.requests[i]!.at - made);
    }
    t.diagnostic(`change on the server → webhook received: ${latencies.map((l) => `${l} ms`).join(', ')} (poll interval 5 s ±10 %)`);
    for (const l of latencies) assert.ok(l < 5_500 + 1_500, `${l} ms`);
  });

  test('once a sync has found a change, the delivery goes out at once (the worker is woken when the page commits)', async (t) => {
    const account = (await server.runtime.storage.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
    const before = receiver.requests.length;
    await rad.put('carol', '/carol/cal/now.ics', ics('now', ['DTSTART:20270111T090000Z', 'DTEND:20270111T100000Z', 'SUMMARY:Now']));
    await syncNow(server.runtime, account);
    const synced = Date.now();
    await receiver.waitFor((r) => r.length > before, 5_000, 'the delivery');
    const ms = receiver.requests[before]!.at - synced;
    t.diagnostic(`sync finished → webhook received: ${ms} ms`);
    assert.ok(ms < 500, `${ms} ms`);
  });
});
