/**
 * Webhook delivery across instances and crashes: two instances on one PostgreSQL send
 * every delivery exactly once between them, and a server killed with SIGKILL while a
 * delivery is in flight loses nothing: the next server sends it again with the same
 * webhook-id and the same signed body.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { Webhook } from 'standardwebhooks';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServer, TEST_SECRET, type TestServer } from '../support/server.js';
import { createTestDatabase, postgresAvailable, PG_SKIP_MESSAGE, type TestDatabase } from '../support/databases.js';
import { api, connectCaldav, finishConnect, openConnect } from '../support/connect-flow.js';
import { freePort, startChild } from '../support/spawn-server.js';
import { startReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/webhook-receiver.js';
import { loadConfig } from '../../src/config/config.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';

const hasPg = await postgresAvailable();

function ics(uid: string, start: string): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', `DTSTART:${start}`, 'DURATION:PT30M', `SUMMARY:${uid}`, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function headersOf(r: ReceivedRequest): Record<string, string> {
  return { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) };
}

describe('two instances on one PostgreSQL deliver each change once', { skip: RADICALE_SKIP || (!hasPg && PG_SKIP_MESSAGE) }, () => {
  const users = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`user${i}`, `pw${i}`]));
  let rad: RadicaleServer;
  let db: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  let receiver: WebhookReceiver;
  let secret: string;

  before(async () => {
    rad = await startRadicale({ users });
    for (const name of Object.keys(users)) await rad.mkcalendar(name, 'cal');
    receiver = await startReceiver();
    // Slow answers keep deliveries in flight long enough for the other instance to try to take them.
    receiver.respond = () => ({ status: 204, delayMs: 60 });
    db = await createTestDatabase('postgres');
    a = await startServer({ db, sync: true });
    b = await startServer({ db, sync: true });
    const created = await a.runtime.services.clients.create({ name: 'scale', redirectUris: ['https://app.example/callback'], webhookUrl: receiver.url });
    const client = { clientId: created.client.clientId, clientSecret: created.clientSecret };
    secret = await a.runtime.webhooks.secrets.ensure(client.clientId);
    for (const [name, password] of Object.entries(users)) {
      const s = await openConnect(a.url, { client_id: client.clientId, user_id: name });
      assert.equal((await connectCaldav(a.url, s, { server_url: `http://127.0.0.1:${rad.port}`, username: name, password })).status, 303);
      const tokens = await finishConnect(a.url, s, client);
      const calendarId = `http://127.0.0.1:${rad.port}/${name}/cal/`;
      const res = await api(a.url, tokens.access_token).post('/api/subscribe-webhook', { provider: 'caldav', calendarId });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const storage = a.runtime.storage.db;
    await waitFor('all calendars ready', async () => {
      const rows = await storage.selectFrom('calendar_sync').select('status').execute();
      return rows.length === 4 && rows.every((r) => r.status === 'ready');
    });
  });

  after(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    await receiver?.close();
    await rad?.stop();
  });

  test('every delivery is sent once, by one of the instances, and all of them arrive', async () => {
    const storage = a.runtime.storage.db;
    const ROUNDS = 5;
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of Object.keys(users)) await rad.put(name, `/${name}/cal/r${round}.ics`, ics(`${name}-r${round}`, `2027020${round + 1}T090000Z`));
      const accounts = await storage.selectFrom('accounts').select('id').execute();
      await Promise.all(accounts.map((acc, i) => (i % 2 ? a : b).runtime.sync.syncSoon(acc.id)));
      await new Promise((r) => setTimeout(r, 150));
    }
    await waitFor('every change queued and delivered', async () => {
      const rows = await storage.selectFrom('webhook_deliveries').select(['status']).execute();
      const events = rows.length;
      return events >= 4 && rows.every((r) => r.status === 'delivered') && receiver.requests.length === rows.length && (await eventTitles()).length === 4 * ROUNDS;
    }, 60_000);
    async function eventTitles(): Promise<string[]> {
      return receiver.requests.flatMap((r) => (new Webhook(secret).verify(r.body, headersOf(r)) as { events: { title: string }[] }).events.map((e) => e.title));
    }
    const ids = receiver.requests.map((r) => String(r.headers['webhook-id']));
    assert.equal(new Set(ids).size, ids.length, 'no delivery was sent twice');
    const titles = await eventTitles();
    assert.equal(new Set(titles).size, titles.length, 'no change was announced twice');
    assert.equal(titles.length, 4 * ROUNDS);
    const byInstance = [a, b].map((s) => s.logs.join('').split('"msg":"webhook delivered"').length - 1);
    assert.equal(byInstance[0]! + byInstance[1]!, ids.length);
    assert.ok(byInstance.every((n) => n > 0), `both instances delivered (${byInstance.join(' and ')})`);
    // Per calendar, in the order the changes were made.
    for (const name of Object.keys(users)) {
      const mine = titles.filter((t) => t.startsWith(`${name}-`));
      assert.deepEqual(mine, Array.from({ length: ROUNDS }, (_, r) => `${name}-r${r}`));
    }
  });
});

describe('a server killed while a delivery is in flight', { skip: RADICALE_SKIP }, () => {
  let rad: RadicaleServer;
  let db: TestDatabase;
  let child: ChildProcess | undefined;
  let admin: Runtime | undefined;
  let receiver: WebhookReceiver;

  before(async () => {
    rad = await startRadicale({ users: { alice: 'alice-pw' } });
    await rad.mkcalendar('alice', 'cal');
    receiver = await startReceiver();
    db = await createTestDatabase(hasPg ? 'postgres' : 'sqlite');
  });

  after(async () => {
    child?.kill('SIGKILL');
    await admin?.close();
    await db?.drop();
    await receiver?.close();
    await rad?.stop();
  });

  test('the next server sends it again with the same webhook-id; it is delivered once it is answered', async () => {
    const port = await freePort();
    const env = { ...db.env, PORT: String(port), HOST: '127.0.0.1', ALMANAC_PUBLIC_URL: `http://127.0.0.1:${port}`, ALMANAC_SECRET_KEY: TEST_SECRET, ALMANAC_DEMO_CLIENT: 'false', ALMANAC_ALLOW_PRIVATE_NETWORKS: 'true', LOG_LEVEL: 'warn', ALMANAC_TEST_SYNC: '1' };
    const first = await startChild(env);
    child = first.child;
    admin = await createRuntime(loadConfig({ ...env, ALMANAC_ROLE: 'api' }));
    const storage = admin.storage.db;
    const { client, clientSecret } = await admin.services.clients.create({ name: 'kill test', redirectUris: ['https://app.example/callback'], webhookUrl: receiver.url });
    const secret = await admin.webhooks.secrets.ensure(client.clientId);
    const s = await openConnect(first.url, { client_id: client.clientId, user_id: 'alice' });
    assert.equal((await connectCaldav(first.url, s, { server_url: `http://127.0.0.1:${rad.port}`, username: 'alice', password: 'alice-pw' })).status, 303);
    const tokens = await finishConnect(first.url, s, { clientId: client.clientId, clientSecret });
    await waitFor('the calendar to be ready', async () => (await storage.selectFrom('calendar_sync').select('status').executeTakeFirst())?.status === 'ready');
    const sub = await api(first.url, tokens.access_token).post('/api/subscribe-webhook', { provider: 'caldav', calendarId: `http://127.0.0.1:${rad.port}/alice/cal/` });
    assert.equal(sub.status, 200);

    // The first attempt is never answered: the server is killed while it waits.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let arrived: () => void = () => undefined;
    const firstArrived = new Promise<void>((r) => (arrived = r));
    receiver.respond = (_req, index) => {
      if (index > 0) return { status: 204 };
      arrived();
      return { status: 204, until: held };
    };
    await rad.put('alice', '/alice/cal/crash.ics', ics('crash', '20270301T090000Z'));
    const account = await storage.selectFrom('accounts').select('id').executeTakeFirstOrThrow();
    await admin.services.jobs.requestNow(account.id);
    await firstArrived;
    const row = await storage.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();
    assert.equal(row.status, 'pending');
    assert.ok(row.lease_owner, 'leased by the first server');
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    release();

    const second = await startChild(env);
    child = second.child;
    await waitFor('the delivery to be sent again and marked delivered', async () => (await storage.selectFrom('webhook_deliveries').select('status').executeTakeFirstOrThrow()).status === 'delivered');
    const rows = await storage.selectFrom('webhook_deliveries').select(['id', 'attempts']).execute();
    assert.equal(rows.length, 1, 'the change was queued once');
    const answered = receiver.requests.filter((r) => r.status === 204 && String(r.headers['webhook-id']) === row.id);
    assert.ok(answered.length >= 1);
    assert.ok(receiver.requests.filter((r) => String(r.headers['webhook-id']) === row.id).length >= 2, 'the killed attempt and the one after the restart carry the same webhook-id');
    const delivered = answered.at(-1)!;
    const body = new Webhook(secret).verify(delivered.body, headersOf(delivered)) as { events: { id: string; changeType: string }[] };
    assert.deepEqual(body.events.map((e) => [e.id, e.changeType]), [['crash', 'created']]);
  });
});
