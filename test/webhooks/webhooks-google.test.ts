/**
 * Webhooks with Google (the emulator): changes made directly at Google, found through the
 * sync token, arrive signed; a series edit arrives as its occurrences; the application's
 * own writes through the API (Google's ETags) are not echoed back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { startServer, type TestServer } from '../support/server.js';
import { syncNow as syncNowFor } from '../support/sync-now.js';
import { dialects } from '../support/databases.js';
import { api, finishConnect, openConnect } from '../support/connect-flow.js';
import { connectGoogle, googleEnv } from '../support/google-connect.js';
import { startGoogleEmulator, type GoogleEmulator } from '../emulators/google/google-emulator.js';
import { startReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/webhook-receiver.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

interface Delivery {
  provider: string;
  userId: string;
  calendarId: string;
  changeType: string;
  events: { id: string; title: string; changeType: string; recurringEventId?: string }[];
}

for (const { dialect, skip } of await dialects()) describe(`webhooks with Google on ${dialect}`, { skip }, () => {
  const email = 'hook@example.com';
  let emulator: GoogleEmulator;
  let server: TestServer;
  let receiver: WebhookReceiver;
  let a: ReturnType<typeof api>;
  let accountRowId: string;
  let secret: string;
  let seriesId: string;
  const today = Math.floor(Date.now() / DAY) * DAY;

  const syncNow = () => syncNowFor(server.runtime, accountRowId);
  const verified = (r: ReceivedRequest): Delivery =>
    new Webhook(secret).verify(r.body, { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) }) as Delivery;
  const deliveryCount = async () => Number((await server.runtime.storage.db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  before(async () => {
    emulator = await startGoogleEmulator();
    emulator.addUser(email, { timeZone: 'UTC' });
    seriesId = emulator.seedEvent(email, {
      summary: 'Standup',
      start: { dateTime: iso(today + 1 * DAY + 9 * HOUR), timeZone: 'UTC' },
      end: { dateTime: iso(today + 1 * DAY + 10 * HOUR), timeZone: 'UTC' },
      recurrence: ['RRULE:FREQ=DAILY;COUNT=3'],
    }).id;
    receiver = await startReceiver();
    server = await startServer({ dialect, sync: true, env: googleEnv(emulator) });
    const client = await server.createClient();
    await server.runtime.services.clientsRepo.update(client.clientId, { webhookUrl: receiver.url });
    secret = await server.runtime.webhooks.secrets.ensure(client.clientId);
    emulator.setConsent({ action: 'grant-all' }, email);
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'google-hooks' });
    assert.equal((await connectGoogle(server, s)).status, 303);
    a = api(server.url, (await finishConnect(server.url, s, client)).access_token);
    accountRowId = (await server.runtime.storage.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
    await syncNow();
    const sub = await a.post('/api/subscribe-webhook', { provider: 'google', calendarId: email });
    assert.equal(sub.status, 200, JSON.stringify(sub.body));
  });

  after(async () => {
    await server?.close();
    await receiver?.close();
    await emulator?.close();
  });

  test('an event added at Google arrives signed', async () => {
    emulator.seedEvent(email, { summary: 'Added at Google', start: { dateTime: iso(today + 5 * DAY + 8 * HOUR) }, end: { dateTime: iso(today + 5 * DAY + 9 * HOUR) } });
    await syncNow();
    await receiver.waitFor((r) => r.length >= 1, 10_000, 'the delivery');
    const d = verified(receiver.requests[0]!);
    assert.deepEqual([d.provider, d.userId, d.calendarId, d.changeType], ['google', 'google-hooks', email, 'created']);
    assert.deepEqual(d.events.map((e) => [e.title, e.changeType]), [['Added at Google', 'created']]);
  });

  test('renaming a series at Google arrives as its occurrences, updated', async () => {
    const before = receiver.requests.length;
    emulator.store.patch(email, seriesId, { summary: 'Standup (renamed)' }, { conferenceDataVersion: 0, actorEmail: email });
    await syncNow();
    await receiver.waitFor((r) => r.length > before, 10_000, 'the series delivery');
    const d = verified(receiver.requests[before]!);
    assert.equal(d.changeType, 'updated');
    assert.equal(d.events.length, 3);
    assert.ok(d.events.every((e) => e.title === 'Standup (renamed)' && e.changeType === 'updated' && e.recurringEventId === seriesId));
  });

  test('the application’s own writes through the API are not echoed back', async () => {
    const count = await deliveryCount();
    const created = await a.post('/api/event', { provider: 'google', calendarId: email, title: 'Own write', start: iso(today + 6 * DAY + 9 * HOUR), end: iso(today + 6 * DAY + 10 * HOUR) });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    await syncNow();
    const updated = await a.put('/api/event', { provider: 'google', calendarId: email, eventId: created.body.id, title: 'Own write (renamed)' });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    await syncNow();
    const removed = await a.del(`/api/event?${new URLSearchParams({ provider: 'google', calendarId: email, eventId: created.body.id })}`);
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    await syncNow();
    assert.equal(await deliveryCount(), count);
    // The subscription still hears changes made at Google.
    emulator.seedEvent(email, { summary: 'After the echo', start: { dateTime: iso(today + 7 * DAY + 8 * HOUR) }, end: { dateTime: iso(today + 7 * DAY + 9 * HOUR) } });
    await syncNow();
    assert.equal(await deliveryCount(), count + 1);
  });
});
