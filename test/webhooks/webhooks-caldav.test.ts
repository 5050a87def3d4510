/**
 * Webhooks end to end: a real server, a real Radicale (and Xandikos), a receiver on loopback. Changes
 * made directly on the CalDAV server arrive signed (verified by the `standardwebhooks`
 * package), in order per calendar, retried while the receiver fails, and the
 * application's own writes are not echoed back. The routes refuse bad input with 4xx.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { verify as edVerify, createPublicKey } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { RADICALE_SKIP, startRadicale } from '../support/radicale.js';
import { XANDIKOS_SKIP, startXandikos } from '../support/xandikos.js';
import type { CaldavTestServer } from '../support/caldav-test-server.js';
import { startServer, type TestServer } from '../support/server.js';
import { syncNow as syncNowFor } from '../support/sync-now.js';
import { dialects } from '../support/databases.js';
import { api, connectCaldav, finishConnect, openConnect } from '../support/connect-flow.js';
import { startReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/webhook-receiver.js';

function ics(uid: string, fields: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', ...fields, 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
}

interface Delivery {
  type: string;
  provider: string;
  userId: string;
  calendarId: string;
  changeType: string;
  timestamp: string;
  events: { id: string; title: string; start: string; changeType: string; calendarId: string; provider: string; description?: string }[];
  metadata: { channelId: string; eventCount: number; isInitialSync: boolean };
}

const targets = [
  ...(await dialects()).map(({ dialect, skip }) => ({ name: 'Radicale', dialect, skip: RADICALE_SKIP || skip, start: startRadicale })),
  // A second server with other habits (its own ETags, sync tokens and URL layout); one database is enough for it.
  { name: 'Xandikos', dialect: 'sqlite' as const, skip: XANDIKOS_SKIP, start: startXandikos },
];

for (const { name, dialect, skip, start } of targets) describe(`webhooks with ${name} on ${dialect}`, { skip }, () => {
  let rad: CaldavTestServer;
  let server: TestServer;
  let receiver: WebhookReceiver;
  let client: { clientId: string; clientSecret: string };
  let a: ReturnType<typeof api>;
  let accountRowId: string;
  let work: string;
  let workId: string;
  let secret: string;
  const y = new Date().getUTCFullYear() + 1;

  const syncNow = () => syncNowFor(server.runtime, accountRowId);
  const db = () => server.runtime.storage.db;

  /** Verifies with the standardwebhooks package, as a receiver would, and parses. */
  function verified(r: ReceivedRequest): Delivery {
    const headers = { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) };
    return new Webhook(secret).verify(r.body, headers) as Delivery;
  }

  async function deliveryCount(): Promise<number> {
    const row = await db().selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  before(async () => {
    rad = await start({ users: { alice: 'alice-pw' } });
    workId = await rad.mkcalendar('alice', 'work', { displayName: 'Work' });
    work = new URL(workId).pathname;
    await rad.put('alice', `${work}existing.ics`, ics('existing', [`DTSTART:${y}0105T090000Z`, `DTEND:${y}0105T100000Z`, 'SUMMARY:Existing']));
    receiver = await startReceiver();
    server = await startServer({ dialect, sync: true, env: { ALMANAC_WEBHOOK_RETRY_SECONDS: '1,1,1,1' } });
    client = await server.createClient();
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'wh-user' });
    const res = await connectCaldav(server.url, s, { server_url: rad.url, username: 'alice', password: 'alice-pw' });
    assert.equal(res.status, 303, await res.text());
    const tokens = await finishConnect(server.url, s, client);
    a = api(server.url, tokens.access_token);
    accountRowId = (await db().selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
    await syncNow();
    secret = await server.runtime.webhooks.secrets.ensure(client.clientId);
  });

  after(async () => {
    await server?.close();
    await receiver?.close();
    await rad?.stop();
  });

  test('subscribing needs a webhook URL (400), a known calendar (404) and a well-formed body (400)', async () => {
    const noUrl = await a.post('/api/subscribe-webhook', { provider: 'caldav', calendarId: workId });
    assert.equal(noUrl.status, 400);
    assert.match(noUrl.body.message, /webhook URL/);
    await server.runtime.services.clientsRepo.update(client.clientId, { webhookUrl: receiver.url });
    const unknown = await a.post('/api/subscribe-webhook', { provider: 'caldav', calendarId: `${workId}nope/` });
    assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
    for (const bad of [{}, { provider: 'caldav' }, { provider: 'yahoo', calendarId: workId }, { provider: 'caldav', calendarId: 7 }, { provider: 'caldav', calendarId: workId, channelId: 'has space' }, { provider: 'caldav', calendarId: workId, expiration: 'soon' }, { provider: 'caldav', calendarId: workId, expiration: 1000 }]) {
      const res = await a.post('/api/subscribe-webhook', bad);
      assert.equal(res.status, 400, `${JSON.stringify(bad)} → ${JSON.stringify(res.body)}`);
      assert.equal(typeof res.body.message, 'string');
    }
    const wrongProvider = await a.post('/api/subscribe-webhook', { provider: 'google', calendarId: workId });
    assert.ok([400, 404].includes(wrongProvider.status), JSON.stringify(wrongProvider.body));
    const noToken = await fetch(`${server.url}/api/subscribe-webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ provider: 'caldav', calendarId: workId }) });
    assert.equal(noToken.status, 401);
    for (const bad of [{}, { provider: 'caldav' }, { provider: 'caldav', channelId: 'unknown-channel' }]) {
      const res = await a.post('/api/unsubscribe-webhook', bad);
      assert.ok([400, 404].includes(res.status), `${JSON.stringify(bad)} → ${res.status}`);
    }
    assert.equal((await a.post('/api/unsubscribe-webhook', { provider: 'caldav', channelId: 'unknown-channel' })).status, 404);
  });

  test('subscribe answers the Mobiscroll shape and is idempotent per calendar', async () => {
    const first = await a.post('/api/subscribe-webhook', { provider: 'caldav', calendarId: workId, channelId: 'work-channel' });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.success, true);
    assert.equal(first.body.provider, 'caldav');
    assert.equal(first.body.channelId, 'work-channel');
    assert.deepEqual(first.body.subscription, { channelId: 'work-channel', webhookUrl: receiver.url });
    assert.equal(typeof first.body.serverWebhookUrl, 'string');
    const again = await a.post('/api/subscribe-webhook', { provider: 'caldav', calendarId: workId });
    assert.equal(again.status, 200);
    assert.equal(again.body.channelId, 'work-channel');
    const other = await a.post('/api/subscribe-webhook', { provider: 'caldav', calendarId: workId, channelId: 'another' });
    assert.equal(other.status, 409);
    const list = await a.get('/api/webhook-subscriptions');
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.subscriptions.map((s: { channelId: string; calendarId: string; provider: string }) => [s.channelId, s.provider, s.calendarId]),
      [['work-channel', 'caldav', workId]],
    );
    assert.equal(await deliveryCount(), 0, 'subscribing sends nothing by itself');
  });

  test('a change made directly on the CalDAV server arrives signed, with the event and its change type', async () => {
    await rad.put('alice', `${work}added.ics`, ics('added', [`DTSTART:${y}0210T090000Z`, `DTEND:${y}0210T100000Z`, 'SUMMARY:Added on the server', 'DESCRIPTION:Agenda']));
    await syncNow();
    await receiver.waitFor((r) => r.length >= 1, 10_000, 'the first delivery');
    const d = verified(receiver.requests[0]!);
    assert.equal(d.provider, 'caldav');
    assert.equal(d.userId, 'wh-user');
    assert.equal(d.calendarId, workId);
    assert.equal(d.changeType, 'created');
    assert.deepEqual(d.metadata, { channelId: 'work-channel', eventCount: 1, isInitialSync: false });
    assert.equal(d.events.length, 1);
    assert.equal(d.events[0]!.title, 'Added on the server');
    assert.equal(d.events[0]!.changeType, 'created');
    assert.equal(d.events[0]!.description, 'Agenda');
    assert.equal(d.events[0]!.start, `${y}-02-10T09:00:00.000Z`);
    assert.ok(Math.abs(Date.parse(d.timestamp) - Date.now()) < 60_000);
    assert.match(String(receiver.requests[0]!.headers['webhook-id']), /^msg_/);
    // A tampered body fails verification.
    assert.throws(() => new Webhook(secret).verify(receiver.requests[0]!.body.replace('Agenda', 'Agendb'), { 'webhook-id': String(receiver.requests[0]!.headers['webhook-id']), 'webhook-timestamp': String(receiver.requests[0]!.headers['webhook-timestamp']), 'webhook-signature': String(receiver.requests[0]!.headers['webhook-signature']) }));
    // Bodies carry event contents: sealed in the outbox.
    const rows = await db().selectFrom('webhook_deliveries').select(['payload', 'status']).execute();
    assert.ok(rows.every((r) => !r.payload.includes('Added on the server')));
    assert.equal(rows.length, 1, 'one change, one delivery');
  });

  test('v1a: an Ed25519 signature verifies with the key from /.well-known/webhook-keys', async () => {
    const res = await fetch(`${server.url}/.well-known/webhook-keys`);
    assert.equal(res.status, 200);
    const { keys } = (await res.json()) as { keys: { kid: string; alg: string; key: string }[] };
    assert.equal(keys.length, 1);
    assert.equal(keys[0]!.alg, 'ed25519');
    assert.match(keys[0]!.key, /^whpk_/);
    const raw = Buffer.from(keys[0]!.key.slice('whpk_'.length), 'base64');
    const publicKey = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
    const r = receiver.requests[0]!;
    const v1a = String(r.headers['webhook-signature']).split(' ').find((s) => s.startsWith('v1a,'));
    assert.ok(v1a, 'a v1a signature is sent');
    const signed = Buffer.from(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`);
    assert.ok(edVerify(null, signed, publicKey, Buffer.from(v1a.slice(4), 'base64')));
    assert.ok(!edVerify(null, Buffer.concat([signed, Buffer.from(' ')]), publicKey, Buffer.from(v1a.slice(4), 'base64')));
  });

  test('updates and deletions arrive; a deleted event carries its last known fields', async () => {
    const before = receiver.requests.length;
    const added = await rad.get('alice', `${work}added.ics`);
    await rad.put('alice', `${work}added.ics`, added.body.replace('Added on the server', 'Renamed on the server'));
    await syncNow();
    await rad.request('alice', 'DELETE', `${work}existing.ics`);
    await syncNow();
    await receiver.waitFor((r) => r.length >= before + 2, 10_000, 'update and delete');
    const [update, deletion] = receiver.requests.slice(before).map(verified);
    assert.equal(update!.changeType, 'updated');
    assert.deepEqual(update!.events.map((e) => [e.id, e.title, e.changeType]), [['added', 'Renamed on the server', 'updated']]);
    assert.equal(deletion!.changeType, 'deleted');
    assert.equal(deletion!.events.length, 1);
    const gone = deletion!.events[0]!;
    assert.deepEqual([gone.id, gone.calendarId, gone.provider, gone.title, gone.changeType], ['existing', workId, 'caldav', 'Existing', 'deleted']);
  });

  test('the application’s own writes through the API are not echoed back', async () => {
    const count = await deliveryCount();
    const created = await a.post('/api/event', { provider: 'caldav', calendarId: workId, title: 'Made through the API', start: `${y}-03-01T09:00:00Z`, end: `${y}-03-01T10:00:00Z` });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    await syncNow();
    const updated = await a.put('/api/event', { provider: 'caldav', calendarId: workId, eventId: created.body.id, title: 'Renamed through the API' });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    await syncNow();
    const removed = await a.del(`/api/event?${new URLSearchParams({ provider: 'caldav', calendarId: workId, eventId: created.body.id })}`);
    assert.equal(removed.status, 200);
    await syncNow();
    assert.equal(await deliveryCount(), count, 'no delivery for the application’s own create, update and delete');
    // The mirror did see them (the sync ran): a change on the server right after is still delivered.
    await rad.put('alice', `${work}after-echo.ics`, ics('after-echo', [`DTSTART:${y}0302T090000Z`, `DTEND:${y}0302T100000Z`, 'SUMMARY:After the echo']));
    await syncNow();
    assert.equal(await deliveryCount(), count + 1);
  });

  test('a failing receiver gets everything afterwards, in order, each webhook-id accepted once', async () => {
    const start = receiver.requests.length;
    let failures = 0;
    receiver.respond = () => (failures++ < 3 ? { status: 500 } : { status: 204 });
    for (const n of [1, 2, 3]) {
      await rad.put('alice', `${work}burst-${n}.ics`, ics(`burst-${n}`, [`DTSTART:${y}040${n}T090000Z`, `DTEND:${y}040${n}T100000Z`, `SUMMARY:Burst ${n}`]));
      await syncNow();
    }
    const accepted = () => receiver.requests.slice(start).filter((r) => r.status === 204);
    // The after-echo delivery may still be in this window; wait for the three bursts.
    await receiver.waitFor(() => accepted().filter((r) => verified(r).events.some((e) => e.title.startsWith('Burst'))).length >= 3, 20_000, 'three burst deliveries');
    const titles = accepted()
      .map(verified)
      .flatMap((d) => d.events.map((e) => e.title))
      .filter((t) => t.startsWith('Burst'));
    assert.deepEqual(titles, ['Burst 1', 'Burst 2', 'Burst 3'], 'in the order the changes were found');
    const ids = receiver.accepted().map((r) => String(r.headers['webhook-id']));
    assert.equal(new Set(ids).size, ids.length, 'no webhook-id accepted twice');
    assert.ok(receiver.requests.slice(start).filter((r) => r.status === 500).length === 3);
    // While the first was being retried, the later ones waited: every retry of Burst 1 precedes the first try of Burst 2.
    const firstOf = (title: string) => receiver.requests.slice(start).findIndex((r) => verified(r).events.some((e) => e.title === title));
    assert.ok(firstOf('Burst 2') > firstOf('Burst 1'));
    const lastBurst1 = receiver.requests.slice(start).map((r, i) => (verified(r).events.some((e) => e.title === 'Burst 1') ? i : -1)).filter((i) => i >= 0).pop()!;
    assert.ok(firstOf('Burst 2') > lastBurst1);
    receiver.respond = () => ({ status: 204 });
  });

  test('429 with Retry-After is honoured; after the last attempt the delivery is marked failed', async () => {
    receiver.respond = () => ({ status: 429, headers: { 'retry-after': '3' } });
    await rad.put('alice', `${work}limited.ics`, ics('limited', [`DTSTART:${y}0501T090000Z`, `DTEND:${y}0501T100000Z`, 'SUMMARY:Limited']));
    await syncNow();
    const row = async () => db().selectFrom('webhook_deliveries').selectAll().orderBy('created_at', 'desc').orderBy('position', 'desc').executeTakeFirstOrThrow();
    for (let i = 0; i < 100 && (await row()).attempts < 1; i++) await new Promise((r) => setTimeout(r, 50));
    const first = await row();
    assert.equal(first.last_status, 429);
    assert.ok(first.next_attempt_at - first.last_attempt_at! >= 3000, `next attempt ${first.next_attempt_at - first.last_attempt_at!} ms later`);
    receiver.respond = () => ({ status: 503 });
    // 5 attempts in all (schedule 1,1,1,1), then failed.
    for (let i = 0; i < 400 && (await row()).status === 'pending'; i++) await new Promise((r) => setTimeout(r, 50));
    const done = await row();
    assert.equal(done.status, 'failed');
    assert.equal(done.attempts, 5);
    assert.equal(done.last_status, 503);
    receiver.respond = () => ({ status: 204 });
  });

  test('410 Gone disables the endpoint: nothing more is queued or sent to that URL', async () => {
    receiver.respond = () => ({ status: 410 });
    await rad.put('alice', `${work}gone.ics`, ics('gone', [`DTSTART:${y}0601T090000Z`, `DTEND:${y}0601T100000Z`, 'SUMMARY:Gone']));
    await syncNow();
    const endpoint = async () => server.runtime.services.webhooks.endpoint(client.clientId);
    for (let i = 0; i < 100 && !(await endpoint())?.disabledUrl; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await endpoint())?.disabledUrl, receiver.url);
    const count = await deliveryCount();
    await rad.put('alice', `${work}after-gone.ics`, ics('after-gone', [`DTSTART:${y}0602T090000Z`, `DTEND:${y}0602T100000Z`, 'SUMMARY:After gone']));
    await syncNow();
    assert.equal(await deliveryCount(), count);
    receiver.respond = () => ({ status: 204 });
  });

  test('unsubscribing stops deliveries for that calendar', async () => {
    const res = await a.post('/api/unsubscribe-webhook', { provider: 'caldav', channelId: 'work-channel' });
    assert.equal(res.status, 200);
    assert.equal(res.body.success, true);
    assert.equal(typeof res.body.message, 'string');
    assert.deepEqual((await a.get('/api/webhook-subscriptions')).body.subscriptions, []);
    assert.equal((await a.post('/api/unsubscribe-webhook', { provider: 'caldav', channelId: 'work-channel' })).status, 404);
  });

  test('nothing secret reaches the log', () => {
    const logs = server.logs.join('');
    assert.ok(!logs.includes(secret.slice(6)));
    assert.ok(!logs.includes('Renamed on the server'));
  });
});
