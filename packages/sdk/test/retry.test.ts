import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimitError, ServerError } from '../src/index.js';
import { computeRetryDelay, parseRetryAfter } from '../src/http.js';
import { delay, json, makeClient, startServer } from './helpers.js';

const credentials = { access_token: 'access-1', token_type: 'Bearer' };

/** Answers the given statuses in order (then 200), with optional headers per answer. */
function scripted(script: Array<[number, Record<string, string>?]>) {
  let i = 0;
  return startServer((_req, res) => {
    const step = script[i++];
    if (!step) return json(res, 200, { events: [], pageSize: 0 });
    const [status, headers] = step;
    json(res, status, { error: 'busy', message: `status ${status}` }, headers);
  });
}

test('backoff is exponential with equal jitter and capped at maxDelayMs', () => {
  const policy = (r: number) => ({ baseDelayMs: 100, maxDelayMs: 1000, random: () => r });
  // random 0: the fixed half of each step; random → 1: the whole step.
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((a) => computeRetryDelay(a, undefined, policy(0))), [50, 100, 200, 400, 500, 500]);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((a) => computeRetryDelay(a, undefined, policy(1))), [100, 200, 400, 800, 1000, 1000]);
  assert.deepEqual([0, 1, 2].map((a) => computeRetryDelay(a, undefined, policy(0.5))), [75, 150, 300]);
  // Retry-After is taken as is while within the cap, and ends retrying beyond it.
  assert.equal(computeRetryDelay(3, 2000, policy(0.5)), undefined);
  assert.equal(computeRetryDelay(3, 800, policy(0.9)), 800);
  assert.equal(computeRetryDelay(0, 0, policy(0.9)), 0);
});

test('Retry-After parses delay-seconds and HTTP-date, and rejects garbage', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');
  assert.equal(parseRetryAfter('3', now), 3000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('1.5', now), 1500);
  assert.equal(parseRetryAfter('Sat, 01 Mar 2025 12:00:04 GMT', now), 4000);
  assert.equal(parseRetryAfter('Sat, 01 Mar 2025 11:59:00 GMT', now), 0, 'a date in the past means now');
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});

test('503s on a GET are retried with the computed delays, then succeed', async () => {
  const server = await scripted([[503], [503]]);
  try {
    const { client, sleeps } = makeClient(server.baseUrl, { credentials });
    const page = await client.events.list();
    assert.deepEqual(page, { events: [], pageSize: 0 });
    assert.equal(server.requests.length, 3);
    // base 100, random 0.5: 100/2 + 50*0.5 = 75, then 200/2 + 100*0.5 = 150
    assert.deepEqual(sleeps, [75, 150]);
  } finally {
    await server.close();
  }
});

test('Retry-After in seconds is honoured exactly on 429', async () => {
  const server = await scripted([[429, { 'retry-after': '2' }]]);
  try {
    const sleeps: number[] = [];
    const { client } = makeClient(server.baseUrl, {
      credentials,
      retry: { retries: 2, maxDelayMs: 5000, sleep: async (ms) => void sleeps.push(ms) },
    });
    await client.events.list();
    assert.deepEqual(sleeps, [2000]);
    assert.equal(server.requests.length, 2);
  } finally {
    await server.close();
  }
});

test('Retry-After as an HTTP-date is honoured on 503, measured with the injected clock', async () => {
  const now = Date.parse('2025-03-01T12:00:00Z');
  const server = await scripted([[503, { 'retry-after': new Date(now + 3000).toUTCString() }]]);
  try {
    const sleeps: number[] = [];
    const { client } = makeClient(server.baseUrl, {
      credentials,
      retry: { retries: 1, maxDelayMs: 10_000, now: () => now, sleep: async (ms) => void sleeps.push(ms) },
    });
    await client.events.list();
    assert.deepEqual(sleeps, [3000]);
  } finally {
    await server.close();
  }
});

test('a Retry-After longer than the cap is not waited out: the error surfaces at once', async () => {
  const server = await scripted([[429, { 'retry-after': '120' }]]);
  try {
    const { client, sleeps } = makeClient(server.baseUrl, { credentials });
    await assert.rejects(client.events.list(), (err: unknown) => err instanceof RateLimitError && err.retryAfter === 120);
    assert.deepEqual(sleeps, []);
    assert.equal(server.requests.length, 1);
  } finally {
    await server.close();
  }
});

test('retries stop after `retries` extra attempts', async () => {
  const server = await scripted([[429], [429], [429], [429]]);
  try {
    const { client, sleeps } = makeClient(server.baseUrl, { credentials });
    await assert.rejects(client.events.list(), RateLimitError);
    assert.equal(server.requests.length, 3);
    assert.deepEqual(sleeps, [75, 150]);
  } finally {
    await server.close();
  }
});

test('non-idempotent POSTs and non-transient statuses are not retried', async () => {
  const server = await scripted([[503], [500], [502], [429]]);
  try {
    const { client, sleeps } = makeClient(server.baseUrl, { credentials });
    const event = { provider: 'google' as const, calendarId: 'primary', title: 'x', start: '2025-01-01T10:00:00Z', end: '2025-01-01T11:00:00Z' };
    await assert.rejects(client.events.create(event), (e: unknown) => e instanceof ServerError && e.status === 503);
    await assert.rejects(client.events.list(), (e: unknown) => e instanceof ServerError && e.status === 500);
    await assert.rejects(client.events.list(), (e: unknown) => e instanceof ServerError && e.status === 502);
    // The 4th answer is a 429 to a DELETE, which is idempotent and therefore retried.
    await client.events.delete({ provider: 'google', calendarId: 'primary', eventId: 'e1' });
    assert.deepEqual(sleeps, [75]);
    assert.deepEqual(server.requests.map((r) => r.method), ['POST', 'GET', 'GET', 'DELETE', 'DELETE']);
  } finally {
    await server.close();
  }
});

test('the off switch: retry false on the client, or per call', async () => {
  const server = await scripted([[503], [503]]);
  try {
    const off = makeClient(server.baseUrl, { credentials, retry: false });
    await assert.rejects(off.client.events.list(), ServerError);
    const on = makeClient(server.baseUrl, { credentials });
    await assert.rejects(on.client.events.list({}, { retry: false }), ServerError);
    assert.deepEqual(on.sleeps, []);
    assert.equal(server.requests.length, 2);
  } finally {
    await server.close();
  }
});

test('a dropped connection on a GET is retried', async () => {
  let n = 0;
  const server = await startServer((req, res) => {
    if (n++ === 0) {
      res.socket?.destroy();
      return;
    }
    json(res, 200, []);
  });
  try {
    const { client, sleeps } = makeClient(server.baseUrl, { credentials });
    assert.deepEqual(await client.calendars.list(), []);
    assert.deepEqual(sleeps, [75]);
  } finally {
    await server.close();
  }
});

test('an AbortSignal cancels a request in flight with the signal reason', async () => {
  const server = await startServer(async (_req, res) => {
    await delay(1000);
    json(res, 200, []);
  });
  try {
    const { client } = makeClient(server.baseUrl, { credentials });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const started = Date.now();
    await assert.rejects(client.calendars.list({ signal: controller.signal }), (err: unknown) => {
      assert.equal((err as Error).name, 'AbortError');
      assert.equal(err, controller.signal.reason);
      return true;
    });
    assert.ok(Date.now() - started < 500);

    // Already aborted: no request at all.
    const before = server.requests.length;
    await assert.rejects(client.calendars.list({ signal: AbortSignal.abort(new Error('stop')) }), /stop/);
    assert.equal(server.requests.length, before);
  } finally {
    await server.close();
  }
});

test('an AbortSignal also cancels the wait between retries (default sleep)', async () => {
  const server = await scripted([[503], [503]]);
  try {
    const { client } = makeClient(server.baseUrl, {
      credentials,
      // Real timers this time: a 10–20 s backoff that the abort must cut short.
      retry: { retries: 2, baseDelayMs: 20_000, maxDelayMs: 20_000 },
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    await assert.rejects(client.events.list({}, { signal: controller.signal }), { name: 'AbortError' });
    assert.ok(Date.now() - started < 1000);
    assert.equal(server.requests.length, 1);
  } finally {
    await server.close();
  }
});
