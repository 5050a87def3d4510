import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationError, ServerError } from '../src/index.js';
import type { TokenResponse } from '../src/index.js';
import { bearer, delay, json, makeClient, startServer } from './helpers.js';
import type { Recorded } from './helpers.js';

const OLD = { access_token: 'old-access', refresh_token: 'old-refresh', token_type: 'Bearer', expires_in: 3600 };
const NEW = { access_token: 'new-access', refresh_token: 'new-refresh', token_type: 'Bearer', expires_in: 3600 };

interface AuthServerOptions {
  /** Delay before the token endpoint answers. */
  refreshDelayMs?: number;
  /** Delay before a 401 is sent, per request index. */
  unauthorizedDelayMs?: (index: number) => number;
  /** What the token endpoint answers. */
  tokenAnswer?: (req: Recorded) => [number, unknown];
}

/** Calendars succeed only with the new access token; the token endpoint rotates old → new. */
function authServer(options: AuthServerOptions = {}) {
  let unauthorized = 0;
  return startServer(async (req, res) => {
    if (req.path === '/api/oauth/token') {
      await delay(options.refreshDelayMs ?? 20);
      const [status, body] = options.tokenAnswer?.(req) ?? [200, NEW];
      return json(res, status, body);
    }
    if (bearer(req) === NEW.access_token) return json(res, 200, [{ id: 'cal-1' }]);
    await delay(options.unauthorizedDelayMs?.(unauthorized++) ?? 0);
    json(res, 401, { error: 'Unauthorized', message: 'Token expired' });
  });
}

const tokenCalls = (requests: Recorded[]) => requests.filter((r) => r.path === '/api/oauth/token');
const apiCalls = (requests: Recorded[], token: string) =>
  requests.filter((r) => r.path === '/api/calendars' && bearer(r) === token);

test('20 concurrent 401s share one refresh, then each call is retried exactly once', async () => {
  const server = await authServer();
  try {
    const refreshed: TokenResponse[] = [];
    const { client } = makeClient(server.baseUrl, {
      credentials: OLD,
      onTokensRefreshed: (t) => void refreshed.push(t),
    });
    const emitted: TokenResponse[] = [];
    client.on('tokens', (t) => void emitted.push(t));

    const results = await Promise.all(Array.from({ length: 20 }, () => client.calendars.list()));

    assert.equal(results.length, 20);
    for (const r of results) assert.deepEqual(r, [{ id: 'cal-1' }]);
    assert.equal(tokenCalls(server.requests).length, 1, 'one refresh for twenty 401s');
    assert.equal(apiCalls(server.requests, OLD.access_token).length, 20);
    assert.equal(apiCalls(server.requests, NEW.access_token).length, 20, 'each call retried once');
    assert.deepEqual(emitted, [NEW]);
    assert.deepEqual(refreshed, [NEW]);
    assert.deepEqual(client.getCredentials(), NEW);

    // The refresh request has the shape Mobiscroll's SDK sends.
    const [refresh] = tokenCalls(server.requests);
    assert.ok(refresh);
    assert.equal(refresh.method, 'POST');
    assert.match(String(refresh.headers['content-type']), /^application\/x-www-form-urlencoded/);
    const form = new URLSearchParams(refresh.body);
    assert.equal(form.get('grant_type'), 'refresh_token');
    assert.equal(form.get('refresh_token'), OLD.refresh_token);
    assert.equal(form.get('redirect_uri'), 'https://app.example.com/callback');
    assert.equal(refresh.headers.authorization, `Basic ${Buffer.from('client-1:s3cret').toString('base64')}`);
    assert.equal(refresh.headers.client_id, 'client-1');
  } finally {
    await server.close();
  }
});

test('401s that arrive after the refresh finished reuse the new token instead of refreshing again', async () => {
  // 401s trickle back over ~200 ms while the refresh takes 5 ms.
  const server = await authServer({ refreshDelayMs: 5, unauthorizedDelayMs: (i) => i * 10 });
  try {
    const { client } = makeClient(server.baseUrl, { credentials: OLD });
    let events = 0;
    client.on('tokens', () => void events++);
    await Promise.all(Array.from({ length: 20 }, () => client.calendars.list()));
    assert.equal(tokenCalls(server.requests).length, 1);
    assert.equal(events, 1);
    assert.equal(apiCalls(server.requests, NEW.access_token).length, 20);
  } finally {
    await server.close();
  }
});

test('a refused refresh fails every waiting call with AuthenticationError, after a single attempt', async () => {
  const server = await authServer({
    unauthorizedDelayMs: (i) => i * 5,
    tokenAnswer: () => [400, { error: 'invalid_grant', error_description: 'Refresh token revoked' }],
  });
  try {
    const { client } = makeClient(server.baseUrl, { credentials: OLD });
    let events = 0;
    client.on('tokens', () => void events++);
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => client.calendars.list()));
    for (const o of outcomes) {
      assert.equal(o.status, 'rejected');
      const err = (o as PromiseRejectedResult).reason as AuthenticationError;
      assert.ok(err instanceof AuthenticationError);
      assert.equal(err.errorCode, 'invalid_grant');
      assert.match(err.message, /Token refresh failed: Refresh token revoked/);
    }
    assert.equal(tokenCalls(server.requests).length, 1, 'the dead refresh token is not sent again');
    assert.equal(events, 0);
    assert.deepEqual(client.getCredentials(), OLD, 'credentials are left for the application to decide');
  } finally {
    await server.close();
  }
});

test('a refresh that hits a server error keeps its error type (re-authorizing would not help)', async () => {
  const server = await authServer({ tokenAnswer: () => [503, { error: 'unavailable', message: 'Down' }] });
  try {
    const { client } = makeClient(server.baseUrl, { credentials: OLD });
    await assert.rejects(client.calendars.list(), (e: unknown) => e instanceof ServerError && e.status === 503);
    // Not memoised as refused: the next call tries again.
    await assert.rejects(client.calendars.list(), ServerError);
    assert.equal(tokenCalls(server.requests).length, 2, 'the token POST itself is never retried');
  } finally {
    await server.close();
  }
});

test('a second 401 after the refresh is final: no loop', async () => {
  const server = await startServer((req, res) => {
    if (req.path === '/api/oauth/token') return json(res, 200, NEW);
    json(res, 401, { error: 'Unauthorized', message: 'Token revoked' });
  });
  try {
    const { client } = makeClient(server.baseUrl, { credentials: OLD });
    await assert.rejects(client.calendars.list(), (e: unknown) => e instanceof AuthenticationError && e.status === 401);
    assert.deepEqual(server.requests.map((r) => r.path), ['/api/calendars', '/api/oauth/token', '/api/calendars']);
  } finally {
    await server.close();
  }
});

test('a scope denial (401) does not trigger a refresh', async () => {
  const server = await startServer((_req, res) =>
    json(res, 401, { error: 'Unauthorized', message: 'Write access denied for current scope' }),
  );
  try {
    const { client } = makeClient(server.baseUrl, { credentials: OLD });
    await assert.rejects(
      client.events.delete({ provider: 'google', calendarId: 'c', eventId: 'e' }),
      AuthenticationError,
    );
    assert.equal(server.requests.length, 1);
  } finally {
    await server.close();
  }
});

test('with only a refresh token stored, the first call refreshes before sending', async () => {
  const server = await authServer();
  try {
    const { client } = makeClient(server.baseUrl, { credentials: { token_type: 'Bearer', refresh_token: 'old-refresh' } as TokenResponse });
    assert.deepEqual(await client.calendars.list(), [{ id: 'cal-1' }]);
    assert.deepEqual(server.requests.map((r) => r.path), ['/api/oauth/token', '/api/calendars']);
  } finally {
    await server.close();
  }
});

test('a per-call accessToken is used as is and never refreshed', async () => {
  const server = await authServer();
  try {
    const { client } = makeClient(server.baseUrl, { credentials: OLD });
    await assert.rejects(client.calendars.list({ accessToken: 'someone-else' }), AuthenticationError);
    assert.equal(tokenCalls(server.requests).length, 0);
    assert.deepEqual(await client.calendars.list({ accessToken: NEW.access_token }), [{ id: 'cal-1' }]);
  } finally {
    await server.close();
  }
});

test('tokens listeners are awaited before the retried call resolves; a failing one does not fail it', async () => {
  const server = await authServer();
  try {
    const { client } = makeClient(server.baseUrl, { credentials: OLD });
    let persisted = false;
    const errors: unknown[] = [];
    client
      .on('tokens', async () => {
        await delay(30);
        persisted = true;
      })
      .on('tokens', () => {
        throw new Error('database down');
      })
      .on('error', (e) => void errors.push(e));
    await client.calendars.list();
    assert.equal(persisted, true);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /database down/);
  } finally {
    await server.close();
  }
});

test('auth.refresh() refreshes on demand, joins a refresh in flight, and keeps the refresh token when none is returned', async () => {
  const server = await authServer({ tokenAnswer: () => [200, { access_token: 'new-access', token_type: 'Bearer', expires_in: 3600 }] });
  try {
    const { client } = makeClient(server.baseUrl, { credentials: OLD });
    const once: TokenResponse[] = [];
    client.once('tokens', (t) => void once.push(t));
    const [a, b] = await Promise.all([client.auth.refresh(), client.auth.refresh()]);
    assert.deepEqual(a, b);
    assert.equal(a.access_token, 'new-access');
    assert.equal(a.refresh_token, 'old-refresh');
    assert.equal(tokenCalls(server.requests).length, 1);
    await client.auth.refresh();
    assert.equal(once.length, 1, 'once() listeners fire once');
  } finally {
    await server.close();
  }
});

test('no credentials at all: AuthenticationError without a request', async () => {
  const server = await authServer();
  try {
    const { client } = makeClient(server.baseUrl);
    await assert.rejects(client.calendars.list(), /No credentials/);
    await assert.rejects(client.auth.refresh(), AuthenticationError);
    assert.equal(server.requests.length, 0);
  } finally {
    await server.close();
  }
});
