import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  AlmanacError,
  AuthenticationError,
  ConflictError,
  MobiscrollConnectError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
} from '../src/index.js';
import { delay, json, makeClient, startServer } from './helpers.js';

// Any error class: constructor signatures differ, only instanceof and the name matter here.
type ErrorClass = abstract new (...args: never[]) => AlmanacError;

const cases: Array<{ status: number; cls: ErrorClass; code: string }> = [
  { status: 400, cls: ValidationError, code: 'VALIDATION_ERROR' },
  { status: 401, cls: AuthenticationError, code: 'AUTHENTICATION_ERROR' },
  { status: 403, cls: AuthenticationError, code: 'AUTHENTICATION_ERROR' },
  { status: 404, cls: NotFoundError, code: 'NOT_FOUND_ERROR' },
  { status: 409, cls: ConflictError, code: 'CONFLICT_ERROR' },
  { status: 422, cls: ValidationError, code: 'VALIDATION_ERROR' },
  { status: 429, cls: RateLimitError, code: 'RATE_LIMIT_ERROR' },
  { status: 500, cls: ServerError, code: 'SERVER_ERROR' },
  { status: 502, cls: ServerError, code: 'SERVER_ERROR' },
  { status: 503, cls: ServerError, code: 'SERVER_ERROR' },
  { status: 504, cls: ServerError, code: 'SERVER_ERROR' },
  { status: 418, cls: AlmanacError, code: 'API_ERROR' },
];

const credentials = { access_token: 'access-1', token_type: 'Bearer' };

test('every status maps to its error class, keeping status, error code, request id and details', async () => {
  const server = await startServer((req, res) => {
    const status = Number(req.headers['x-status']);
    json(
      res,
      status,
      { error: `code_${status}`, message: `message ${status}`, details: { field: 'start', status } },
      { 'x-request-id': `req-${status}`, 'retry-after': '7' },
    );
  });
  try {
    // No refresh token, so a 401 is final; no retries, so 429/503 surface at once.
    const { client } = makeClient(server.baseUrl, { retry: false, credentials });
    for (const { status, cls, code } of cases) {
      const err = await client.calendars.list({ headers: { 'x-status': String(status) } }).then(
        () => assert.fail(`status ${status} resolved`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof cls, `${status} should map to ${cls.name}, got ${String(err)}`);
      assert.ok(err instanceof MobiscrollConnectError, 'every error is a MobiscrollConnectError too');
      const e = err as AlmanacError;
      assert.equal(e.name, cls.name);
      assert.equal(e.status, status);
      assert.equal(e.code, code);
      assert.equal(e.errorCode, `code_${status}`);
      assert.equal(e.requestId, `req-${status}`);
      assert.equal(e.message, `message ${status}`);
      assert.equal(e.method, 'GET');
      assert.equal(e.url, `${server.baseUrl}/calendars`);
      assert.deepEqual(e.body, {
        error: `code_${status}`,
        message: `message ${status}`,
        details: { field: 'start', status },
      });
      if (e instanceof ValidationError) assert.deepEqual(e.details, { field: 'start', status });
      if (e instanceof RateLimitError) assert.equal(e.retryAfter, 7);
    }
    assert.equal(server.requests.length, cases.length);
  } finally {
    await server.close();
  }
});

test('OAuth errors read error_description; bodies without a message still get one', async () => {
  const server = await startServer((req, res) => {
    if (req.path === '/api/oauth/token') {
      json(res, 400, { error: 'invalid_grant', error_description: 'Code expired or already used' }, { 'x-request-id': 'tok-1' });
    } else if (req.path === '/api/calendars') {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>Bad gateway</html>');
    } else {
      res.writeHead(500);
      res.end();
    }
  });
  try {
    const { client } = makeClient(server.baseUrl, { retry: false, credentials });
    await assert.rejects(client.auth.getToken('used-code'), (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      assert.equal(err.message, 'Code expired or already used');
      assert.equal(err.errorCode, 'invalid_grant');
      assert.equal(err.requestId, 'tok-1');
      assert.equal(err.status, 400);
      return true;
    });
    await assert.rejects(client.calendars.list(), (err: unknown) => {
      assert.ok(err instanceof ServerError);
      assert.equal(err.status, 502);
      assert.equal(err.body, '<html>Bad gateway</html>');
      assert.equal(err.errorCode, undefined);
      assert.equal(err.requestId, undefined);
      return true;
    });
    await assert.rejects(client.events.list(), (err: unknown) => {
      assert.ok(err instanceof ServerError);
      assert.equal(err.message, 'Request failed with status 500');
      return true;
    });
  } finally {
    await server.close();
  }
});

test('Retry-After in HTTP-date form becomes retryAfter seconds against the injected clock', async () => {
  const now = Date.parse('2025-03-01T12:00:00Z');
  const server = await startServer((_req, res) => {
    json(res, 429, { error: 'Too Many Requests', message: 'Slow down' }, { 'retry-after': new Date(now + 90_000).toUTCString() });
  });
  try {
    const { client } = makeClient(server.baseUrl, { retry: { retries: 0, now: () => now }, credentials });
    await assert.rejects(client.calendars.list(), (err: unknown) => {
      assert.ok(err instanceof RateLimitError);
      assert.equal(err.retryAfter, 90);
      return true;
    });
  } finally {
    await server.close();
  }
});

test('a refused connection is a NetworkError with the cause attached', async () => {
  // Reserve a port, then free it: nothing listens there afterwards.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));

  const { client } = makeClient(`http://127.0.0.1:${port}/api`, { retry: false, credentials });
  await assert.rejects(client.calendars.list(), (err: unknown) => {
    assert.ok(err instanceof NetworkError);
    assert.ok(!(err instanceof TimeoutError));
    assert.equal(err.code, 'NETWORK_ERROR');
    assert.equal(err.status, undefined);
    assert.match(err.message, /ECONNREFUSED|fetch failed/);
    assert.ok(err.cause);
    return true;
  });
});

test('a response slower than timeoutMs is a TimeoutError (a NetworkError, as in Mobiscroll)', async () => {
  const server = await startServer(async (_req, res) => {
    await delay(500);
    json(res, 200, []);
  });
  try {
    const { client } = makeClient(server.baseUrl, { timeoutMs: 50, credentials });
    const started = Date.now();
    await assert.rejects(client.calendars.list(), (err: unknown) => {
      assert.ok(err instanceof TimeoutError);
      assert.ok(err instanceof NetworkError);
      assert.equal(err.code, 'TIMEOUT_ERROR');
      assert.equal(err.timeoutMs, 50);
      return true;
    });
    assert.ok(Date.now() - started < 400, 'gave up at the timeout, not when the server answered');
    // Per-call override wins over the client default.
    assert.deepEqual(await client.calendars.list({ timeoutMs: 0 }), []);
    // Timeouts are not retried: one request for the failed call, one for the override.
    assert.equal(server.requests.length, 2);
  } finally {
    await server.close();
  }
});
