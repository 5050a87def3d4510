// Code written against Mobiscroll's Node SDK, with only the import and `baseUrl`
// changed, must type-check and run. This file is that code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MobiscrollConnectClient,
  MobiscrollConnectError,
  NotFoundError,
  ProviderEnum,
} from '../src/index.js';
import type {
  CreateEventData,
  DeleteEventParams,
  EventListParams,
  MobiscrollConnectConfig,
  TokenResponse,
  UpdateEventData,
} from '../src/index.js';
import { json, startServer } from './helpers.js';

test('a Mobiscroll-style integration runs unchanged apart from import and baseUrl', async () => {
  const event = { provider: 'google', id: 'e1', calendarId: 'primary', title: 'Sync', start: '2025-01-01T10:00:00Z', end: '2025-01-01T11:00:00Z', allDay: false, original: {} };
  const server = await startServer((req, res) => {
    const route = `${req.method} ${req.path}`;
    switch (route) {
      case 'POST /api/oauth/token':
        return json(res, 200, { access_token: 'a1', refresh_token: 'r1', token_type: 'Bearer', expires_in: 3600 });
      case 'GET /api/calendars':
        return json(res, 200, [{ provider: 'google', id: 'primary', title: 'Me', timeZone: 'UTC', color: '', description: '', original: {} }]);
      case 'GET /api/events':
        return json(res, 200, { events: [event], pageSize: 1 });
      case 'POST /api/event':
      case 'PUT /api/event':
        return json(res, 200, { success: true, ...event, event });
      case 'DELETE /api/event':
        return json(res, 404, { error: 'Not Found', message: 'Event not found' });
      case 'GET /api/oauth/connection-status':
        return json(res, 200, { connections: { google: [{ id: 'me@example.com' }], microsoft: [], apple: [], caldav: [] }, limitReached: false });
      case 'POST /api/oauth/disconnect':
        return json(res, 200, { success: true });
      default:
        return json(res, 404, { error: 'Not Found', message: route });
    }
  });
  try {
    const config: MobiscrollConnectConfig = {
      baseUrl: server.baseUrl,
      clientId: 'YOUR_CLIENT_ID',
      clientSecret: 'YOUR_CLIENT_SECRET',
      redirectUri: 'https://app.example.com/callback',
    };
    const client = new MobiscrollConnectClient(config);
    const saved: TokenResponse[] = [];
    client.on('tokens', (updatedTokens: TokenResponse) => void saved.push(updatedTokens));

    const url = client.auth.generateAuthUrl({ userId: 'user-123', state: 's', scope: 'read-write', providers: 'google,microsoft,apple,caldav', lng: 'es' });
    assert.ok(url.startsWith(`${server.baseUrl}/oauth/authorize?`));

    const tokens = await client.auth.getToken('code-from-callback');
    client.setCredentials(tokens);
    assert.equal(client.getConfig().clientId, 'YOUR_CLIENT_ID');

    const calendars = await client.calendars.list();
    assert.equal(calendars[0]?.provider, ProviderEnum.Google);

    const params: EventListParams = { start: new Date(), end: new Date(Date.now() + 7 * 864e5), pageSize: 50, calendarIds: { [ProviderEnum.Google]: ['primary'] } };
    const result = await client.events.list(params);
    assert.equal(result.events.length, 1);

    const createData: CreateEventData = { provider: ProviderEnum.Google, calendarId: 'primary', title: 'Sync', start: new Date('2026-03-20T09:00:00Z'), end: new Date('2026-03-20T09:30:00Z') };
    const created = await client.events.create(createData);
    const updateData: UpdateEventData = { provider: 'google', eventId: created.id, calendarId: created.calendarId, title: 'Sync (updated)' };
    await client.events.update(updateData);

    const del: DeleteEventParams = { provider: 'google', calendarId: created.calendarId, eventId: created.id };
    await assert.rejects(client.events.delete(del), (error: unknown) => {
      assert.ok(error instanceof MobiscrollConnectError);
      assert.ok(error instanceof NotFoundError);
      assert.equal(error.code, 'NOT_FOUND_ERROR');
      return true;
    });

    const status = await client.auth.getConnectionStatus();
    assert.equal(status.connections.google[0]?.id, 'me@example.com');
    await client.auth.disconnect({ provider: 'google', account: 'me@example.com' });
    assert.deepEqual(saved, [], 'no refresh happened');
  } finally {
    await server.close();
  }
});

test('an injected fetch carries every request', async () => {
  const server = await startServer((_req, res) => json(res, 200, []));
  try {
    const seen: string[] = [];
    const client = new MobiscrollConnectClient({
      baseUrl: server.baseUrl,
      clientId: 'id',
      clientSecret: 'secret',
      redirectUri: 'https://app.example.com/callback',
      credentials: { access_token: 'a', token_type: 'Bearer' },
      fetch: (input, init) => {
        seen.push(`${init?.method} ${String(input)}`);
        return fetch(input, init);
      },
    });
    await client.calendars.list();
    assert.deepEqual(seen, [`GET ${server.baseUrl}/calendars`]);
  } finally {
    await server.close();
  }
});
