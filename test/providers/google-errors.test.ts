import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mapGoogleError, googleErrorReason } from '../../src/providers/google/map-google-error.js';
import { ProviderError } from '../../src/providers/types.js';
import type { ProviderErrorCode } from '../../src/providers/types.js';
import { startGoogleHarness } from '../emulators/google/google-test-harness.js';
import type { GoogleHarness } from '../emulators/google/google-test-harness.js';

const code = (expected: ProviderErrorCode) => (e: unknown): boolean => {
  assert.ok(e instanceof ProviderError, `expected a ProviderError, got ${String(e)}`);
  assert.equal(e.code, expected);
  return true;
};

describe('Google errors, retries and token refresh', () => {
  let h: GoogleHarness;

  before(async () => {
    h = await startGoogleHarness();
  });
  after(() => h.close());

  const calendarRequests = (): number => h.emulator.requests.filter((r) => r.path === '/calendar/v3/users/me/calendarList').length;
  const reset = (): void => {
    h.emulator.clearFaults();
    h.emulator.requests.length = 0;
  };

  test('403 rateLimitExceeded is retried, then succeeds', async () => {
    reset();
    h.emulator.injectFault({ status: 403, reason: 'rateLimitExceeded', times: 2 });
    const calendars = await h.provider.listCalendars(h.ctx);
    assert.equal(calendars.length, 1);
    assert.equal(calendarRequests(), 3);
  });

  test('403 userRateLimitExceeded and 429 are retried too', async () => {
    reset();
    h.emulator.injectFault({ status: 403, reason: 'userRateLimitExceeded' });
    h.emulator.injectFault({ status: 429 });
    await h.provider.listCalendars(h.ctx);
    assert.equal(calendarRequests(), 3);
  });

  test('Retry-After is honoured', async () => {
    reset();
    h.emulator.injectFault({ status: 429, retryAfter: '1' });
    const started = Date.now();
    await h.provider.listCalendars(h.ctx);
    assert.ok(Date.now() - started >= 950, 'waited at least the Retry-After');
  });

  test('a persistent 429 ends as RATE_LIMITED within the time budget, with a retry hint', async () => {
    reset();
    const bounded = await startGoogleHarness({ retry: { maxElapsedMs: 300, baseDelayMs: 20 } });
    try {
      bounded.emulator.injectFault({ status: 429, times: Infinity });
      const started = Date.now();
      await assert.rejects(bounded.provider.listCalendars(bounded.ctx), (e: unknown) => {
        code('RATE_LIMITED')(e);
        assert.ok((e as ProviderError).retryAfterMs! > 0);
        return true;
      });
      assert.ok(Date.now() - started < 1000, 'gave up within the budget');
      assert.ok(bounded.emulator.requests.length > 1, 'retried before giving up');

      // A Retry-After longer than the budget is not waited for at all.
      bounded.emulator.clearFaults();
      bounded.emulator.requests.length = 0;
      bounded.emulator.injectFault({ status: 429, retryAfter: '30', times: Infinity });
      await assert.rejects(bounded.provider.listCalendars(bounded.ctx), (e: unknown) => {
        code('RATE_LIMITED')(e);
        assert.equal((e as ProviderError).retryAfterMs, 30_000);
        return true;
      });
      assert.equal(bounded.emulator.requests.length, 1);
    } finally {
      await bounded.close();
    }
  });

  test('403 quotaExceeded is a rate limit that is not retried', async () => {
    reset();
    h.emulator.injectFault({ status: 403, reason: 'quotaExceeded' });
    await assert.rejects(h.provider.listCalendars(h.ctx), code('RATE_LIMITED'));
    assert.equal(calendarRequests(), 1);
  });

  test('500 backendError: reads are retried; a PATCH is not', async () => {
    reset();
    h.emulator.injectFault({ status: 500, times: 2 });
    await h.provider.listCalendars(h.ctx);
    assert.equal(calendarRequests(), 3);

    const event = await h.provider.createEvent(h.ctx, { calendarId: h.email, title: 'x', start: new Date('2025-11-01T10:00:00Z'), end: new Date('2025-11-01T11:00:00Z'), allDay: false });
    reset();
    h.emulator.injectFault({ status: 500, method: 'PATCH' });
    await assert.rejects(h.provider.updateEvent(h.ctx, { calendarId: h.email, eventId: event.id }, { title: 'y' }), code('TEMPORARY'));
    assert.equal(h.emulator.requests.filter((r) => r.method === 'PATCH').length, 1);
  });

  test('inserts carry their own id, so a server error or a lost answer is retried without creating a twin', async () => {
    const calendarId = h.emulator.addCalendar(h.email, { summary: 'Inserts' }).id;
    reset();
    h.emulator.injectFault({ status: 503, method: 'POST' });
    const first = await h.provider.createEvent(h.ctx, { calendarId, title: 'a', start: new Date('2025-11-01T10:00:00Z'), end: new Date('2025-11-01T11:00:00Z'), allDay: false });
    assert.equal(h.emulator.requests.filter((r) => r.method === 'POST').length, 2);

    // The insert succeeds at Google but the answer is lost on the way back.
    let dropped = false;
    const lossy = {
      ...h.ctx,
      fetch: (async (input: string | URL | Request, init?: RequestInit) => {
        const response = await fetch(input, init);
        if (init?.method === 'POST' && !dropped) {
          dropped = true;
          throw new TypeError('fetch failed: socket hang up');
        }
        return response;
      }) as typeof fetch,
    };
    const second = await h.provider.createEvent(lossy, { calendarId, title: 'b', start: new Date('2025-11-02T10:00:00Z'), end: new Date('2025-11-02T11:00:00Z'), allDay: false });
    assert.equal(second.title, 'b');
    const stored = h.emulator.store.stored(calendarId);
    assert.deepEqual(stored.map((e) => e.id).sort(), [first.id, second.id].sort());
  });

  test('401: one refresh, then the request is repeated once; the new tokens are persisted', async () => {
    reset();
    const before = h.emulator.stats.tokenRequests.refresh_token ?? 0;
    const old = await h.manager.getAccessToken();
    h.emulator.accounts.expireAccessToken(old);
    await h.provider.listCalendars(h.ctx);
    assert.equal((h.emulator.stats.tokenRequests.refresh_token ?? 0) - before, 1);
    assert.notEqual(await h.manager.getAccessToken(), old);
    assert.equal(h.persisted.at(-1)!.accessToken, await h.manager.getAccessToken());
    assert.deepEqual(h.emulator.requests.filter((r) => r.path.startsWith('/calendar')).map((r) => r.status), [401, 200]);
  });

  test('20 concurrent requests hitting a dead access token share one refresh', async () => {
    reset();
    h.emulator.knobs.tokenDelayMs = 50;
    try {
      const before = h.emulator.stats.tokenRequests.refresh_token ?? 0;
      h.emulator.accounts.expireAccessToken(await h.manager.getAccessToken());
      const results = await Promise.all(Array.from({ length: 20 }, () => h.provider.listCalendars(h.ctx)));
      assert.equal(results.length, 20);
      assert.equal((h.emulator.stats.tokenRequests.refresh_token ?? 0) - before, 1);
    } finally {
      h.emulator.knobs.tokenDelayMs = 0;
    }
  });

  test('a 401 that survives the refresh is AUTH_REVOKED after exactly one refresh', async () => {
    reset();
    const before = h.emulator.stats.tokenRequests.refresh_token ?? 0;
    h.emulator.injectFault({ status: 401, times: 2 });
    await assert.rejects(h.provider.listCalendars(h.ctx), code('AUTH_REVOKED'));
    assert.equal((h.emulator.stats.tokenRequests.refresh_token ?? 0) - before, 1);
    assert.equal(calendarRequests(), 2);
  });

  test('a grant the user revoked: the refresh gets invalid_grant and the call fails AUTH_REVOKED', async () => {
    const own = await startGoogleHarness({ email: 'leaver@example.com' });
    try {
      own.emulator.accounts.revokeAllFor('leaver@example.com');
      await assert.rejects(own.provider.listCalendars(own.ctx), code('AUTH_REVOKED'));
    } finally {
      await own.close();
    }
  });

  test('missing scopes are INSUFFICIENT_SCOPE; a calendar shared read-only is READ_ONLY', async () => {
    const readOnly = await startGoogleHarness({ scopes: ['openid', 'email', 'https://www.googleapis.com/auth/calendar.readonly'] });
    try {
      await readOnly.provider.listCalendars(readOnly.ctx);
      await assert.rejects(
        readOnly.provider.createEvent(readOnly.ctx, { calendarId: readOnly.email, title: 'x', start: new Date('2025-11-01T10:00:00Z'), end: new Date('2025-11-01T11:00:00Z'), allDay: false }),
        code('INSUFFICIENT_SCOPE'),
      );
    } finally {
      await readOnly.close();
    }
    const shared = h.emulator.addCalendar(h.email, { summary: 'Shared with me', accessRole: 'reader' }).id;
    await assert.rejects(
      h.provider.createEvent(h.ctx, { calendarId: shared, title: 'x', start: new Date('2025-11-01T10:00:00Z'), end: new Date('2025-11-01T11:00:00Z'), allDay: false }),
      code('READ_ONLY'),
    );
    const listed = await h.provider.listCalendars(h.ctx);
    assert.equal(listed.find((c) => c.id === shared)?.readOnly, true);
    assert.equal(listed.find((c) => c.id === h.email)?.readOnly, false);
  });

  test('unknown calendars and events are NOT_FOUND', async () => {
    reset();
    await assert.rejects(
      h.provider.listEvents(h.ctx, { calendarId: 'nobody@group.calendar.google.com', start: new Date('2025-11-01T00:00:00Z'), end: new Date('2025-12-01T00:00:00Z'), singleEvents: true, pageSize: 10 }),
      code('NOT_FOUND'),
    );
    await assert.rejects(h.provider.updateEvent(h.ctx, { calendarId: h.email, eventId: 'doesnotexist0' }, { title: 'x' }), code('NOT_FOUND'));
  });

  test('an expired sync token: the emulator answers 410 fullSyncRequired, which maps to CURSOR_INVALID', async () => {
    const token = await h.manager.getAccessToken();
    const base = `${h.emulator.url}/calendar/v3/calendars/${encodeURIComponent(h.email)}/events`;
    const full = (await (await fetch(base, { headers: { authorization: `Bearer ${token}` } })).json()) as { nextSyncToken: string };
    assert.ok(full.nextSyncToken);
    const incremental = await fetch(`${base}?syncToken=${encodeURIComponent(full.nextSyncToken)}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(incremental.status, 200);
    h.emulator.store.expireSyncTokens();
    const gone = await fetch(`${base}?syncToken=${encodeURIComponent(full.nextSyncToken)}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(gone.status, 410);
    const body = await gone.json();
    assert.equal(googleErrorReason(body), 'fullSyncRequired');
    assert.equal(mapGoogleError({ status: 410, reason: googleErrorReason(body) }).code, 'CURSOR_INVALID');
  });

  test('the error map: one place, Google’s documented codes', () => {
    const cases: [number, string | undefined, ProviderErrorCode][] = [
      [400, 'invalid', 'INVALID_INPUT'],
      [401, 'authError', 'AUTH_REVOKED'],
      [403, 'rateLimitExceeded', 'RATE_LIMITED'],
      [403, 'userRateLimitExceeded', 'RATE_LIMITED'],
      [403, 'quotaExceeded', 'RATE_LIMITED'],
      [403, 'insufficientPermissions', 'INSUFFICIENT_SCOPE'],
      [403, 'forbiddenForNonOrganizer', 'READ_ONLY'],
      [403, 'requiredAccessLevel', 'READ_ONLY'],
      [404, 'notFound', 'NOT_FOUND'],
      [409, 'duplicate', 'CONFLICT'],
      [410, 'deleted', 'NOT_FOUND'],
      [410, 'fullSyncRequired', 'CURSOR_INVALID'],
      [412, 'conditionNotMet', 'CONFLICT'],
      [429, 'rateLimitExceeded', 'RATE_LIMITED'],
      [500, 'backendError', 'TEMPORARY'],
      [503, undefined, 'TEMPORARY'],
      [418, undefined, 'UNKNOWN'],
    ];
    for (const [status, reason, expected] of cases) {
      assert.equal(mapGoogleError({ status, reason }).code, expected, `${status} ${reason}`);
    }
    const limited = mapGoogleError({ status: 429, retryAfterMs: 1234 });
    assert.equal(limited.retryAfterMs, 1234);
    assert.equal(mapGoogleError({ status: 404, retryAfterMs: 5 }).retryAfterMs, undefined);
  });
});
