import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearer, json, makeClient, startServer } from './helpers.js';

const credentials = { access_token: 'acc-1', token_type: 'Bearer' };

test('webhooks.subscribe, unsubscribe and list send the API’s requests and return its answers', async () => {
  const server = await startServer((req, res) => {
    if (req.path === '/api/subscribe-webhook') return json(res, 200, { success: true, provider: 'caldav', subscription: { channelId: 'c1', webhookUrl: 'https://app.example/hooks' }, serverWebhookUrl: 'x', channelId: 'c1' });
    if (req.path === '/api/unsubscribe-webhook') return json(res, 200, { success: true, message: 'Webhook subscription removed' });
    return json(res, 200, { subscriptions: [{ channelId: 'c1', provider: 'caldav', calendarId: 'cal', webhookUrl: 'https://app.example/hooks', scope: 'read', createdAt: '2026-01-01T00:00:00.000Z' }] });
  });
  try {
    const { client } = makeClient(server.baseUrl, { credentials });
    const sub = await client.webhooks.subscribe({ provider: 'caldav', calendarId: 'cal', expiration: 1_900_000_000_000 });
    assert.equal(sub.channelId, 'c1');
    const gone = await client.webhooks.unsubscribe({ provider: 'caldav', channelId: 'c1' });
    assert.equal(gone.success, true);
    const list = await client.webhooks.list();
    assert.equal(list.subscriptions[0]!.calendarId, 'cal');
    const [s, u, l] = server.requests;
    assert.deepEqual([s!.method, s!.path, JSON.parse(s!.body)], ['POST', '/api/subscribe-webhook', { provider: 'caldav', calendarId: 'cal', expiration: 1_900_000_000_000 }]);
    assert.deepEqual([u!.method, u!.path, JSON.parse(u!.body)], ['POST', '/api/unsubscribe-webhook', { provider: 'caldav', channelId: 'c1' }]);
    assert.deepEqual([l!.method, l!.path], ['GET', '/api/webhook-subscriptions']);
    assert.equal(bearer(s!), 'acc-1');
  } finally {
    await server.close();
  }
});
