/**
 * When Almanac cannot renew a provider's push channel on a subscribed calendar, the
 * application hears of it once (changes then arrive by polling, later), and once more
 * when a renewal succeeds again. Google emulator; a channel lifetime shorter than the
 * renewal margin makes every sync renew.
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

interface Notice {
  type: string;
  provider: string;
  userId: string;
  calendarId: string;
  metadata: { channelId: string };
  message: string;
}

for (const { dialect, skip } of await dialects()) describe(`push renewal notices on ${dialect}`, { skip }, () => {
  const email = 'renewal@example.com';
  let emulator: GoogleEmulator;
  let server: TestServer;
  let receiver: WebhookReceiver;
  let accountRowId: string;
  let secret: string;
  let channelId: string;

  const syncNow = () => syncNowFor(server.runtime, accountRowId);
  const notices = (): Notice[] =>
    receiver
      .accepted()
      .map((r: ReceivedRequest) =>
        new Webhook(secret).verify(r.body, { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) }) as Notice,
      )
      .filter((n) => n.type?.startsWith('subscription.'));

  before(async () => {
    emulator = await startGoogleEmulator();
    emulator.addUser(email, { timeZone: 'UTC' });
    // Google grants 20 minutes: less than the renewal margin, so every sync renews.
    emulator.channels.knobs.maxTtlMs = 20 * 60_000;
    receiver = await startReceiver();
    server = await startServer({ dialect, sync: true, env: { ...googleEnv(emulator), ALMANAC_PUBLIC_URL: 'https://almanac.example' } });
    emulator.channels.knobs.deliverVia = server.url;
    const client = await server.createClient();
    await server.runtime.services.clientsRepo.update(client.clientId, { webhookUrl: receiver.url });
    secret = await server.runtime.webhooks.secrets.ensure(client.clientId);
    emulator.setConsent({ action: 'grant-all' }, email);
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'renewal-user' });
    assert.equal((await connectGoogle(server, s)).status, 303);
    const a = api(server.url, (await finishConnect(server.url, s, client)).access_token);
    accountRowId = (await server.runtime.storage.db.selectFrom('accounts').select('id').executeTakeFirstOrThrow()).id;
    await syncNow();
    const sub = await a.post('/api/subscribe-webhook', { provider: 'google', calendarId: email });
    assert.equal(sub.status, 200, JSON.stringify(sub.body));
    channelId = (sub.body as { channelId: string }).channelId;
  });

  after(async () => {
    await server?.close();
    await receiver?.close();
    await emulator?.close();
  });

  test('a failed renewal is announced once; a successful one after it once; a routine renewal says nothing', async () => {
    // A routine renewal: nothing to tell.
    await syncNow();
    assert.equal((await server.runtime.storage.db.selectFrom('push_channels').selectAll().execute()).length, 1);
    assert.deepEqual(notices(), []);

    emulator.injectFault({ status: 503, path: '/events/watch', times: Infinity });
    await syncNow();
    await syncNow();
    await receiver.waitFor(() => notices().length >= 1, 10_000, 'the renewal_failed notice');
    emulator.clearFaults();
    await syncNow();
    await receiver.waitFor(() => notices().length >= 2, 10_000, 'the renewed notice');
    await syncNow();
    await new Promise((r) => setTimeout(r, 300));

    const seen = notices();
    assert.deepEqual(
      seen.map((n) => n.type),
      ['subscription.renewal_failed', 'subscription.renewed'],
    );
    for (const n of seen) {
      assert.deepEqual([n.provider, n.userId, n.calendarId, n.metadata.channelId], ['google', 'renewal-user', email, channelId]);
    }
    assert.match(seen[0]!.message, /polling/);
    // The failed renewal left the old channel open (it expires on its own); the successful one replaced it.
    assert.equal(emulator.channels.active().length, 1);
  });
});
