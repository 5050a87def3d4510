/**
 * Webhooks with Microsoft (the emulator): changes made directly in the mailbox, found through
 * the delta feed, arrive signed; a series edit arrives as its occurrences; the application's
 * own writes through the API are not echoed back. The Graph subscription is the one the
 * server's push keeper opens (an https public URL; the emulator hands Graph's calls to the
 * plain http port). With polling set to an hour, a Graph
 * notification to POST /webhooks/microsoft is the only thing that can make a change
 * arrive: it does, within 2 s of the notification, also when an API-only instance receives
 * it and a worker ticking at production pace delivers; one with a wrong clientState delivers
 * nothing, one Graph repeats delivers once, a `missed` lifecycle event catches up.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { startMicrosoftEmulator, type MicrosoftEmulator } from '../emulators/microsoft/microsoft-emulator.js';
import { api, finishConnect, openConnect } from '../support/connect-flow.js';
import { createTestDatabase, dialects, PG_SKIP_MESSAGE, postgresAvailable, type TestDatabase } from '../support/databases.js';
import { connectMicrosoft, microsoftEnv } from '../support/microsoft-connect.js';
import { startServer, type TestServer } from '../support/server.js';
import { syncNow as syncNowFor } from '../support/sync-now.js';
import { startReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/webhook-receiver.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Graph's dateTime: wall time without an offset, its zone named beside it. */
const wall = (ms: number) => ({ dateTime: new Date(ms).toISOString().slice(0, 19), timeZone: 'UTC' });
/** The bound the push path promises: delivery within 2 s of the provider's notification. */
const PUSH_BOUND_MS = 2_000;

/** Graph calls https addresses only; the emulator hands them to the server's plain http port. */
const PUBLIC_URL = 'https://almanac.example';

/** The one Graph subscription the server's push keeper opened, and its stored channel row. */
async function keptSubscription(server: TestServer, ms: MicrosoftEmulator, calendarRowId: string): Promise<void> {
  const subs = [...ms.subscriptions.byId.values()];
  assert.equal(subs.length, 1, 'the keeper opened one subscription');
  assert.equal(subs[0]!.notificationUrl, `${PUBLIC_URL}/webhooks/microsoft`);
  const rows = await server.runtime.storage.db.selectFrom('push_channels').selectAll().execute();
  assert.deepEqual(rows.map((r) => [r.id, r.provider, r.calendar_id]), [[subs[0]!.id, 'microsoft', calendarRowId]]);
  assert.notEqual(rows[0]!.token_hash, subs[0]!.clientState, 'the clientState is stored only hashed');
}

interface Delivery {
  provider: string;
  userId: string;
  calendarId: string;
  changeType: string;
  events: { id: string; title: string; changeType: string; calendarId: string; provider: string; recurringEventId?: string }[];
  metadata: { channelId: string; eventCount: number; isInitialSync: boolean };
}

for (const { dialect, skip } of await dialects()) describe(`webhooks with Microsoft on ${dialect}`, { skip }, () => {
  const email = 'hook@contoso.onmicrosoft.com';
  let ms: MicrosoftEmulator;
  let server: TestServer;
  let receiver: WebhookReceiver;
  let a: ReturnType<typeof api>;
  let accountRowId: string;
  let calendarId: string;
  let calendarRowId: string;
  let secret: string;
  let seriesId: string;
  const today = Math.floor(Date.now() / DAY) * DAY;

  const syncNow = () => syncNowFor(server.runtime, accountRowId);
  const verified = (r: ReceivedRequest): Delivery =>
    new Webhook(secret).verify(r.body, { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) }) as Delivery;
  const deliveryCount = async () => Number((await server.runtime.storage.db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const seed = (subject: string, day: number) => ms.seedEvent(calendarId, { subject, start: wall(today + day * DAY + 8 * HOUR), end: wall(today + day * DAY + 9 * HOUR) });

  before(async () => {
    ms = await startMicrosoftEmulator();
    calendarId = ms.addUser(email).defaultCalendar.id;
    seriesId = ms.seedEvent(calendarId, {
      subject: 'Standup',
      start: wall(today + 1 * DAY + 9 * HOUR),
      end: wall(today + 1 * DAY + 10 * HOUR),
      recurrence: { pattern: { type: 'daily', interval: 1 }, range: { type: 'numbered', startDate: new Date(today + DAY).toISOString().slice(0, 10), numberOfOccurrences: 3 } },
    }).id;
    seed('Existing', 2);
    receiver = await startReceiver();
    // Polling an hour apart: within a test, only a sync asked for (or a notification) explains a delivery.
    server = await startServer({ dialect, sync: true, env: microsoftEnv(ms, { ALMANAC_PUBLIC_URL: PUBLIC_URL, ALMANAC_SYNC_POLL_SECONDS_MICROSOFT: '3600', ALMANAC_SYNC_PUSHED_POLL_SECONDS: '3600' }) });
    ms.subscriptions.knobs.deliverVia = server.url;
    const client = await server.createClient();
    await server.runtime.services.clientsRepo.update(client.clientId, { webhookUrl: receiver.url });
    secret = await server.runtime.webhooks.secrets.ensure(client.clientId);
    ms.setConsent({ action: 'grant-all' }, email);
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'microsoft-hooks' });
    assert.equal((await connectMicrosoft(server, s)).status, 303);
    a = api(server.url, (await finishConnect(server.url, s, client)).access_token);
    accountRowId = (await server.runtime.storage.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
    await syncNow();
    calendarRowId = (await server.runtime.storage.db.selectFrom('calendars').select('id').where('provider_calendar_id', '=', calendarId).executeTakeFirstOrThrow()).id;
    const sub = await a.post('/api/subscribe-webhook', { provider: 'microsoft', calendarId });
    assert.equal(sub.status, 200, JSON.stringify(sub.body));
    assert.equal(await deliveryCount(), 0, 'subscribing sends nothing by itself');
  });

  after(async () => {
    await server?.close();
    await receiver?.close();
    await ms?.close();
  });

  /** Every queued delivery has reached the receiver (a test's count then starts from a quiet queue). */
  async function settled(): Promise<void> {
    const rows = await deliveryCount();
    await receiver.waitFor((r) => r.length >= rows, 10_000, `all ${rows} queued deliveries`);
  }

  /** The next delivery after `count` requests, verified. */
  async function next(count: number, what: string): Promise<Delivery> {
    await receiver.waitFor((r) => r.length > count, 10_000, what);
    return verified(receiver.requests[count]!);
  }

  test('an event added in the mailbox arrives signed', async () => {
    const added = seed('Added in Outlook', 5);
    await syncNow();
    const d = await next(0, 'the delivery');
    assert.deepEqual([d.provider, d.userId, d.calendarId, d.changeType], ['microsoft', 'microsoft-hooks', calendarId, 'created']);
    assert.deepEqual(d.events.map((e) => [e.id, e.title, e.changeType]), [[added.id, 'Added in Outlook', 'created']]);
    assert.deepEqual([d.metadata.eventCount, d.metadata.isInitialSync], [1, false]);
    // A tampered body fails verification.
    const r = receiver.requests[0]!;
    assert.throws(() => new Webhook(secret).verify(r.body.replace('Added in Outlook', 'Added in Outlooc'), { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) }));
  });

  test('an update and a deletion in the mailbox arrive; the deleted event carries its last known fields', async () => {
    const count = receiver.requests.length;
    const added = [...ms.store.events.values()].find((e) => e.subject === 'Added in Outlook')!;
    ms.store.update(ms.store.find(added.id)!, { subject: 'Renamed in Outlook' });
    await syncNow();
    const update = await next(count, 'the update');
    assert.equal(update.changeType, 'updated');
    assert.deepEqual(update.events.map((e) => [e.id, e.title, e.changeType]), [[added.id, 'Renamed in Outlook', 'updated']]);
    const existing = [...ms.store.events.values()].find((e) => e.subject === 'Existing')!;
    ms.store.delete(ms.store.find(existing.id)!);
    await syncNow();
    const deletion = await next(count + 1, 'the deletion');
    assert.equal(deletion.changeType, 'deleted');
    const gone = deletion.events[0]!;
    assert.equal(deletion.events.length, 1);
    assert.deepEqual([gone.id, gone.calendarId, gone.provider, gone.title, gone.changeType], [existing.id, calendarId, 'microsoft', 'Existing', 'deleted']);
  });

  test('renaming a series in the mailbox arrives as its occurrences, updated', async () => {
    const count = receiver.requests.length;
    ms.store.update(ms.store.find(seriesId)!, { subject: 'Standup (renamed)' });
    await syncNow();
    const d = await next(count, 'the series delivery');
    assert.equal(d.changeType, 'updated');
    assert.equal(d.events.length, 3);
    assert.ok(
      d.events.every((e) => e.title === 'Standup (renamed)' && e.changeType === 'updated' && e.recurringEventId === seriesId),
      JSON.stringify(d.events.map((e) => [e.title, e.changeType, e.recurringEventId])),
    );
  });

  test('one occurrence moved, then one cancelled, in the mailbox arrive as that occurrence alone', async () => {
    const count = receiver.requests.length;
    const [, second, third] = ms.store.expand(ms.store.events.get(seriesId)!, today + 10 * DAY).filter((i) => i.type === 'occurrence');
    ms.store.update(second!, { subject: 'Standup (moved)', start: wall(second!.startMs + HOUR), end: wall(second!.endMs + HOUR) });
    await syncNow();
    const moved = await next(count, 'the moved occurrence');
    assert.equal(moved.changeType, 'updated');
    assert.deepEqual(moved.events.map((e) => [e.title, e.changeType, e.recurringEventId]), [['Standup (moved)', 'updated', seriesId]]);
    ms.store.delete(ms.store.find(third!.id)!);
    await syncNow();
    const cancelled = await next(count + 1, 'the cancelled occurrence');
    assert.equal(cancelled.changeType, 'deleted');
    assert.deepEqual(cancelled.events.map((e) => [e.id, e.changeType, e.recurringEventId]), [[third!.id, 'deleted', seriesId]]);
  });

  test('the application’s own writes through the API are not echoed back', async () => {
    const count = await deliveryCount();
    const created = await a.post('/api/event', { provider: 'microsoft', calendarId, title: 'Own write', start: new Date(today + 6 * DAY + 9 * HOUR).toISOString(), end: new Date(today + 6 * DAY + 10 * HOUR).toISOString() });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    await syncNow();
    const updated = await a.put('/api/event', { provider: 'microsoft', calendarId, eventId: created.body.id, title: 'Own write (renamed)' });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    await syncNow();
    const removed = await a.del(`/api/event?${new URLSearchParams({ provider: 'microsoft', calendarId, eventId: created.body.id })}`);
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    await syncNow();
    assert.equal(await deliveryCount(), count, 'no delivery for the application’s own create, update and delete');
    // The subscription still hears changes made in the mailbox.
    seed('After the echo', 7);
    await syncNow();
    assert.equal(await deliveryCount(), count + 1);
    await settled();
    assert.deepEqual(verified(receiver.requests.at(-1)!).events.map((e) => e.title), ['After the echo']);
  });

  describe('push', () => {
    // Opened by the server itself (the push keeper, inside the account's sync), validated by Graph's handshake.
    before(() => keptSubscription(server, ms, calendarRowId));

    test('a notification with a wrong clientState delivers nothing; the genuine one delivers within 2 s', async (t) => {
      await settled();
      const count = receiver.requests.length;
      const rows = await deliveryCount();
      const job = await server.runtime.storage.db.selectFrom('sync_jobs').select('next_run_at').where('account_id', '=', accountRowId).executeTakeFirstOrThrow();
      assert.ok(Number(job.next_run_at) > Date.now() + 30 * 60_000, 'no poll is due for the rest of the test');
      const pushed = seed('Pushed', 8);
      assert.deepEqual(await ms.subscriptions.notify(calendarId, pushed.id, 'created', { clientState: 'not-the-secret' }), [202]);
      await new Promise((r) => setTimeout(r, 1_500));
      assert.deepEqual(receiver.requests.slice(count).map((r) => verified(r).events.map((e) => e.title)), [], 'nothing delivered on a forged notification');
      assert.equal(await deliveryCount(), rows, 'nothing queued either');

      const sent = Date.now();
      assert.deepEqual(await ms.subscriptions.notify(calendarId, pushed.id, 'created'), [202]);
      const d = await next(count, 'the pushed delivery');
      const latency = receiver.requests[count]!.at - sent;
      t.diagnostic(`notification → signed delivery: ${latency} ms`);
      assert.deepEqual(d.events.map((e) => [e.id, e.title, e.changeType]), [[pushed.id, 'Pushed', 'created']]);
      assert.ok(latency <= PUSH_BOUND_MS, `delivered ${latency} ms after the notification`);
    });

    test('created, updated, series and deleted changes each arrive within 2 s of their notification', async (t) => {
      const latencies: number[] = [];
      const series = ms.store.find(seriesId)!;
      const pushed = [...ms.store.events.values()].find((e) => e.subject === 'Pushed')!;
      const changes: { what: string; change: () => string; type: 'created' | 'updated' | 'deleted'; expect: string }[] = [
        { what: 'create', change: () => seed('Pushed again', 9).id, type: 'created', expect: 'created' },
        { what: 'update', change: () => (ms.store.update(ms.store.find(pushed.id)!, { subject: 'Pushed (renamed)' }), pushed.id), type: 'updated', expect: 'updated' },
        { what: 'series', change: () => (ms.store.update(series, { subject: 'Standup (pushed)' }), seriesId), type: 'updated', expect: 'updated' },
        { what: 'delete', change: () => (ms.store.delete(ms.store.find(pushed.id)!), pushed.id), type: 'deleted', expect: 'deleted' },
      ];
      for (const { what, change, type, expect } of changes) {
        const count = receiver.requests.length;
        const id = change();
        const sent = Date.now();
        assert.deepEqual(await ms.subscriptions.notify(calendarId, id, type), [202]);
        const d = await next(count, `the pushed ${what}`);
        latencies.push(receiver.requests[count]!.at - sent);
        assert.equal(d.changeType, expect, what);
        // The series' untouched occurrences take the new subject (the moved one keeps its own; the cancelled one is gone).
        if (what === 'series') assert.deepEqual(d.events.map((e) => [e.title, e.recurringEventId]), [['Standup (pushed)', seriesId]]);
        else assert.deepEqual(d.events.map((e) => e.id), [id], what);
      }
      t.diagnostic(`notification → signed delivery (create, update, series, delete): ${latencies.join(', ')} ms`);
      assert.ok(latencies.every((l) => l <= PUSH_BOUND_MS), `latencies ${latencies.join(', ')} ms`);
      assert.ok(ms.subscriptions.deliveries.filter((d) => d.kind === 'notification').every((d) => d.status === 202 && d.ms < 3_000), 'every notification answered within Graph’s 3 s');
    });

    test('a notification Graph sends twice delivers the change once; a missed lifecycle event catches up', async () => {
      await settled();
      const count = receiver.requests.length;
      const twice = seed('Notified twice', 11);
      const statuses = await Promise.all([ms.subscriptions.notify(calendarId, twice.id, 'created'), ms.subscriptions.notify(calendarId, twice.id, 'created')]);
      assert.deepEqual(statuses, [[202], [202]]);
      await next(count, 'the twice-notified change');
      await new Promise((r) => setTimeout(r, 1_000));
      await settled();
      assert.deepEqual(receiver.requests.slice(count).map((r) => verified(r).events.map((e) => e.title)), [['Notified twice']]);

      const missed = seed('Missed by Graph', 12);
      const [channelId] = [...ms.subscriptions.byId.keys()];
      assert.equal(await ms.subscriptions.lifecycle(channelId!, 'missed'), 202);
      const d = await next(count + 1, 'the change caught up after a missed event');
      assert.deepEqual(d.events.map((e) => [e.id, e.changeType]), [[missed.id, 'created']]);
    });

    test('reauthorizationRequired replaces the subscription at Graph; changes keep arriving through the new one', async () => {
      await settled();
      const count = receiver.requests.length;
      const [old] = [...ms.subscriptions.byId.keys()];
      assert.equal(await ms.subscriptions.lifecycle(old!, 'reauthorizationRequired'), 202);
      const channelRows = () => server.runtime.storage.db.selectFrom('push_channels').select('id').execute();
      const deadline = Date.now() + 10_000;
      while ((await channelRows()).some((r) => r.id === old)) {
        assert.ok(Date.now() < deadline, 'the channel was replaced in time');
        await new Promise((r) => setTimeout(r, 50));
      }
      await syncNow();
      const rows = await channelRows();
      assert.equal(rows.length, 1);
      assert.deepEqual([...ms.subscriptions.byId.keys()], [rows[0]!.id], 'the old subscription is deleted at Graph, not left to run out');
      const after = seed('After renewal', 13);
      assert.deepEqual(await ms.subscriptions.notify(calendarId, after.id, 'created'), [202]);
      const d = await next(count, 'the change after renewal');
      assert.deepEqual(d.events.map((e) => e.title), ['After renewal']);
    });
  });

  test('nothing secret reaches the log', () => {
    const logs = server.logs.join('');
    assert.ok(!logs.includes(secret.slice(6)));
    assert.ok(!logs.includes('Renamed in Outlook'));
    for (const sub of ms.subscriptions.byId.values()) assert.ok(!logs.includes(sub.clientState!), 'no clientState in the log');
  });
});

describe('a Graph notification received by an API-only instance, delivered by a worker at production pace', { skip: !(await postgresAvailable()) && PG_SKIP_MESSAGE }, () => {
  const email = 'split@contoso.onmicrosoft.com';
  let ms: MicrosoftEmulator;
  let db: TestDatabase;
  let apiOnly: TestServer;
  let worker: TestServer;
  let receiver: WebhookReceiver;
  let calendarId: string;
  let secret: string;
  const today = Math.floor(Date.now() / DAY) * DAY;

  before(async () => {
    ms = await startMicrosoftEmulator();
    calendarId = ms.addUser(email).defaultCalendar.id;
    receiver = await startReceiver();
    db = await createTestDatabase('postgres');
    const env = (role: string) => microsoftEnv(ms, { ALMANAC_ROLE: role, ALMANAC_PUBLIC_URL: PUBLIC_URL, ALMANAC_SYNC_POLL_SECONDS_MICROSOFT: '3600', ALMANAC_SYNC_PUSHED_POLL_SECONDS: '3600' });
    apiOnly = await startServer({ db, env: env('api') });
    ms.subscriptions.knobs.deliverVia = apiOnly.url;
    // The worker ticks once a second, as deployed: a job made due by another instance waits for its next tick.
    worker = await startServer({ db, sync: true, pace: 'production', env: env('worker') });
    const client = await apiOnly.createClient();
    await apiOnly.runtime.services.clientsRepo.update(client.clientId, { webhookUrl: receiver.url });
    secret = await apiOnly.runtime.webhooks.secrets.ensure(client.clientId);
    ms.setConsent({ action: 'grant-all' }, email);
    const s = await openConnect(apiOnly.url, { client_id: client.clientId, user_id: 'split' });
    assert.equal((await connectMicrosoft(apiOnly, s)).status, 303);
    const a = api(apiOnly.url, (await finishConnect(apiOnly.url, s, client)).access_token);
    const accountRowId = (await apiOnly.runtime.storage.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
    await syncNowFor(worker.runtime, accountRowId);
    const calendarRowId = (await apiOnly.runtime.storage.db.selectFrom('calendars').select('id').where('provider_calendar_id', '=', calendarId).executeTakeFirstOrThrow()).id;
    assert.equal((await a.post('/api/subscribe-webhook', { provider: 'microsoft', calendarId })).status, 200);
    // The worker's keeper opened the subscription; Graph validated it against the API instance.
    await keptSubscription(apiOnly, ms, calendarRowId);
  });

  after(async () => {
    await apiOnly?.close();
    await worker?.close();
    await db?.drop();
    await receiver?.close();
    await ms?.close();
  });

  test('each change arrives signed within 2 s of its notification', async (t) => {
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const count = receiver.requests.length;
      const event = ms.seedEvent(calendarId, { subject: `Split ${i}`, start: wall(today + (i + 1) * DAY + 8 * HOUR), end: wall(today + (i + 1) * DAY + 9 * HOUR) });
      const sent = Date.now();
      assert.deepEqual(await ms.subscriptions.notify(calendarId, event.id, 'created'), [202]);
      await receiver.waitFor((r) => r.length > count, 10_000, `the delivery of Split ${i}`);
      latencies.push(receiver.requests[count]!.at - sent);
      const r = receiver.requests[count]!;
      const d = new Webhook(secret).verify(r.body, { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) }) as Delivery;
      assert.deepEqual(d.events.map((e) => e.title), [`Split ${i}`]);
      // Notifications land at random points of the worker's tick.
      await new Promise((resolve) => setTimeout(resolve, 137 * (i + 1)));
    }
    t.diagnostic(`notification at the API instance → signed delivery from the worker: ${latencies.join(', ')} ms`);
    assert.ok(latencies.every((l) => l <= PUSH_BOUND_MS), `latencies ${latencies.join(', ')} ms`);
  });
});
