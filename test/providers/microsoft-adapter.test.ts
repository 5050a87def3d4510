/**
 * The Microsoft adapter against the Graph emulator: zones both ways, the all-day rule,
 * field mappings, recurrence patterns ↔ RRULE, paging, conditional writes, throttling,
 * token refresh and the per-mailbox concurrency limit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CalendarEvent, Recurrence } from '../../src/domain/calendar.js';
import { OAuthTokenManager, SharedOAuthState, type OAuthTokens } from '../../src/providers/oauth-token-manager.js';
import { MemoryCredentialStore } from '../support/memory-credential-store.js';
import { ProviderError, type ChangeFeed } from '../../src/providers/types.js';
import { startMicrosoftHarness, type MicrosoftHarness } from '../emulators/microsoft/microsoft-test-harness.js';

const isCode = (code: ProviderError['code'], pattern?: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof ProviderError, String(err));
  assert.equal(err.code, code, err.message);
  if (pattern) assert.match(err.message, pattern);
  return true;
};

/** Every field of `expected` is in `actual` with the same value (recursively). */
function assertSubset(actual: unknown, expected: unknown, path = 'recurrence'): void {
  if (typeof expected !== 'object' || expected === null || Array.isArray(expected)) {
    assert.deepEqual(actual, expected, path);
    return;
  }
  for (const [key, value] of Object.entries(expected)) assertSubset((actual as Record<string, unknown>)?.[key], value, `${path}.${key}`);
}

describe('Microsoft adapter on the Graph emulator', () => {
  let h: MicrosoftHarness;
  let calendarId: string;
  const list = async (start: string, end: string, singleEvents = true, pageSize = 50, id = calendarId): Promise<CalendarEvent[]> => {
    const out: CalendarEvent[] = [];
    let pageToken: string | undefined;
    for (let i = 0; i < 100; i++) {
      const page = await h.provider.listEvents(h.ctx, { calendarId: id, start: new Date(start), end: new Date(end), singleEvents, pageSize, ...(pageToken ? { pageToken } : {}) });
      out.push(...page.events);
      pageToken = page.nextPageToken;
      if (!pageToken) return out;
    }
    throw new Error('paging did not end');
  };

  before(async () => {
    h = await startMicrosoftHarness();
    calendarId = h.emulator.addUser(h.email).defaultCalendar.id;
  });
  after(() => h.close());

  test('calendars: hexColor wins, the color enum maps to hex, auto gets a stable colour; canEdit false is readOnly', async () => {
    const hex = h.emulator.addCalendar(h.email, { name: 'Hex', hexColor: '#aa3300', color: 'lightBlue' });
    const named = h.emulator.addCalendar(h.email, { name: 'Named', color: 'lightRed' });
    const shared = h.emulator.addCalendar(h.email, { name: 'Shared', canEdit: false, owner: { name: 'Megan', address: 'megan@contoso.com' } });
    const byId = new Map((await h.provider.listCalendars(h.ctx)).map((c) => [c.id, c]));
    assert.equal(byId.get(hex.id)!.color, '#AA3300');
    assert.equal(byId.get(named.id)!.color, '#F88C9B');
    assert.match(byId.get(calendarId)!.color, /^#[0-9A-F]{6}$/i);
    assert.equal(byId.get(shared.id)!.readOnly, true);
    assert.equal(byId.get(hex.id)!.readOnly, false);
    assert.equal((byId.get(calendarId)!.original as { isDefaultCalendar: boolean }).isDefaultCalendar, true);
  });

  test('calendars are paged by next link', async () => {
    h.emulator.knobs.maxPageSize = 2;
    try {
      const before = (await h.provider.listCalendars(h.ctx)).length;
      assert.ok(before >= 4);
      assert.ok(h.emulator.requests.filter((r) => r.path === '/v1.0/me/calendars' || r.query.$skiptoken).length >= 2);
    } finally {
      h.emulator.knobs.maxPageSize = 1000;
    }
  });

  test('Windows zones on read: a Pacific Standard Time event comes back as the right UTC instant', async () => {
    const cal = h.emulator.addCalendar(h.email, { name: 'Zones' }).id;
    h.emulator.seedEvent(cal, { subject: 'West coast', start: { dateTime: '2027-07-01T09:00:00', timeZone: 'Pacific Standard Time' }, end: { dateTime: '2027-07-01T10:00:00', timeZone: 'Pacific Standard Time' } });
    const [event] = await list('2027-07-01T00:00:00Z', '2027-07-02T00:00:00Z', true, 50, cal);
    assert.equal(event!.start, '2027-07-01T16:00:00.000Z');
    assert.equal(event!.end, '2027-07-01T17:00:00.000Z');
    assert.ok(h.emulator.requests.some((r) => /outlook\.timezone="UTC"/.test(r.prefer ?? '')));
  });

  test('IANA zones on write become Windows names; all-day events are written midnight to midnight and read as UTC dates', async () => {
    const cal = h.emulator.addCalendar(h.email, { name: 'Writes' }).id;
    const timed = await h.provider.createEvent(h.ctx, { calendarId: cal, title: 'NY', start: new Date('2027-01-15T15:00:00Z'), end: new Date('2027-01-15T16:00:00Z'), allDay: false, timeZone: 'America/New_York' });
    assert.deepEqual(h.emulator.store.events.get(timed.id)!.start, { dateTime: '2027-01-15T10:00:00', timeZone: 'Eastern Standard Time' });
    const allDay = await h.provider.createEvent(h.ctx, { calendarId: cal, title: 'Day off', start: new Date('2027-01-20T00:00:00Z'), end: new Date('2027-01-21T00:00:00Z'), allDay: true, timeZone: 'Asia/Tokyo' });
    const stored = h.emulator.store.events.get(allDay.id)!;
    assert.equal(stored.isAllDay, true);
    assert.deepEqual([stored.start.dateTime, stored.end.dateTime], ['2027-01-20T00:00:00', '2027-01-21T00:00:00']);
    assert.equal(stored.start.timeZone, 'Tokyo Standard Time');
    const seen = await list('2027-01-20T00:00:00Z', '2027-01-20T01:00:00Z', true, 50, cal);
    assert.deepEqual(seen.map((e) => [e.title, e.allDay, e.start, e.end]), [['Day off', true, '2027-01-20T00:00:00.000Z', '2027-01-21T00:00:00.000Z']]);
    await assert.rejects(h.provider.createEvent(h.ctx, { calendarId: cal, title: 'x', start: new Date(), end: new Date(), allDay: false, timeZone: 'Mars/Olympus' }), isCode('INVALID_INPUT', /time zone/));
  });

  test('showAs, sensitivity, isCancelled, attendees with the organizer, Teams link, custom', async () => {
    const cal = h.emulator.addCalendar(h.email, { name: 'Fields' }).id;
    const seeded = h.emulator.seedEvent(cal, {
      subject: 'Review',
      body: { contentType: 'text', content: 'Notes' },
      start: { dateTime: '2027-08-02T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2027-08-02T10:00:00', timeZone: 'UTC' },
      showAs: 'tentative',
      sensitivity: 'confidential',
      isCancelled: true,
      location: { displayName: 'Room 4' },
      attendees: [
        { emailAddress: { address: 'grace@example.com' }, status: { response: 'accepted' } },
        { emailAddress: { address: 'alan@example.com' }, status: { response: 'tentativelyAccepted' } },
        { emailAddress: { address: 'ada@example.com' }, status: { response: 'declined' } },
      ],
      isOnlineMeeting: true,
      onlineMeetingProvider: 'teamsForBusiness',
      singleValueExtendedProperties: [{ id: 'String {5b9bc4d2-1c3e-4a7f-9e55-6d0f3b0a7c21} Name almanac.custom', value: '{"crm":"7"}' }],
    }, { name: 'Boss', address: 'boss@contoso.com' });
    const [event] = await list('2027-08-02T00:00:00Z', '2027-08-03T00:00:00Z', true, 50, cal);
    assert.equal(event!.id, seeded.id);
    assert.equal(event!.description, 'Notes');
    assert.equal(event!.location, 'Room 4');
    assert.equal(event!.availability, 'busy');
    assert.equal(event!.privacy, 'confidential');
    assert.equal(event!.status, 'cancelled');
    assert.deepEqual(event!.attendees, [
      { email: 'boss@contoso.com', status: 'accepted', organizer: true },
      { email: 'grace@example.com', status: 'accepted' },
      { email: 'alan@example.com', status: 'tentative' },
      { email: 'ada@example.com', status: 'declined' },
    ]);
    assert.equal(event!.conferenceData?.provider, 'microsoft-teams');
    assert.match(event!.conference!, /^https:\/\/teams\.microsoft\.com\//);
    assert.deepEqual(event!.custom, { crm: '7' });
    assert.match((event!.original as { etag: string }).etag, /^W\/"/);
  });

  const patterns: [string, Recurrence, unknown][] = [
    ['every third day, ten times', { frequency: 'DAILY', interval: 3, count: 10 }, { pattern: { type: 'daily', interval: 3 }, range: { type: 'numbered', numberOfOccurrences: 10 } }],
    ['Mondays and Wednesdays every other week', { frequency: 'WEEKLY', interval: 2, byDay: ['MO', 'WE'], count: 6 }, { pattern: { type: 'weekly', interval: 2, daysOfWeek: ['monday', 'wednesday'], firstDayOfWeek: 'monday' } }],
    ['the last Friday of the month', { frequency: 'MONTHLY', byDay: ['-1FR'], until: '20271231T235959Z' }, { pattern: { type: 'relativeMonthly', interval: 1, daysOfWeek: ['friday'], index: 'last' }, range: { type: 'endDate' } }],
    ['the 15th of every month', { frequency: 'MONTHLY', byMonthDay: [15] }, { pattern: { type: 'absoluteMonthly', interval: 1, dayOfMonth: 15 }, range: { type: 'noEnd' } }],
    ['10 March every year', { frequency: 'YEARLY', byMonth: [3], byMonthDay: [10], count: 3 }, { pattern: { type: 'absoluteYearly', interval: 1, month: 3, dayOfMonth: 10 } }],
    ['the second Tuesday of November', { frequency: 'YEARLY', byMonth: [11], byDay: ['2TU'], count: 3 }, { pattern: { type: 'relativeYearly', interval: 1, month: 11, daysOfWeek: ['tuesday'], index: 'second' } }],
  ];
  for (const [name, recurrence, expected] of patterns) {
    test(`recurrence ${name}: written as Graph's pattern and read back as the same rule`, async () => {
      const cal = h.emulator.addCalendar(h.email, { name }).id;
      const created = await h.provider.createEvent(h.ctx, { calendarId: cal, title: name, start: new Date('2027-01-04T09:00:00Z'), end: new Date('2027-01-04T10:00:00Z'), allDay: false, timeZone: 'Europe/Berlin', recurrence });
      const stored = h.emulator.store.events.get(created.id)!;
      assertSubset(stored.recurrence, expected);
      const [master] = await list('2027-01-01T00:00:00Z', '2028-12-31T00:00:00Z', false, 50, cal);
      assert.ok(master, 'the series is listed with singleEvents=false');
      const read = master.recurrence!;
      assert.equal(read.frequency, recurrence.frequency);
      assert.deepEqual(read.byDay ?? [], recurrence.byDay ?? []);
      assert.deepEqual(read.byMonthDay ?? [], recurrence.byMonthDay ?? []);
      assert.deepEqual(read.byMonth ?? [], recurrence.byMonth ?? []);
      assert.equal(read.count, recurrence.count);
      assert.equal(read.interval ?? 1, recurrence.interval ?? 1);
      if (recurrence.until) assert.equal(read.until?.slice(0, 8), recurrence.until.slice(0, 8));
    });
  }

  test('the last Friday of the month expands to last Fridays at Microsoft', async () => {
    const cal = h.emulator.addCalendar(h.email, { name: 'Last Friday' }).id;
    await h.provider.createEvent(h.ctx, { calendarId: cal, title: 'Retro', start: new Date('2027-01-29T14:00:00Z'), end: new Date('2027-01-29T15:00:00Z'), allDay: false, timeZone: 'UTC', recurrence: { frequency: 'MONTHLY', byDay: ['-1FR'], count: 4 } });
    const occurrences = await list('2027-01-01T00:00:00Z', '2027-12-31T00:00:00Z', true, 50, cal);
    assert.deepEqual(occurrences.map((e) => e.start.slice(0, 10)), ['2027-01-29', '2027-02-26', '2027-03-26', '2027-04-30']);
    assert.ok(occurrences.every((e) => e.recurringEventId));
  });

  test('recurrences Graph cannot store are INVALID_INPUT with the reason', async () => {
    const base = { calendarId, title: 'x', start: new Date('2027-01-04T09:00:00Z'), end: new Date('2027-01-04T10:00:00Z'), allDay: false };
    await assert.rejects(h.provider.createEvent(h.ctx, { ...base, recurrence: { frequency: 'MONTHLY', byDay: ['1MO', '2TU'] } }), isCode('INVALID_INPUT', /same position/));
    await assert.rejects(h.provider.createEvent(h.ctx, { ...base, recurrence: { frequency: 'MONTHLY', byMonthDay: [1, 15] } }), isCode('INVALID_INPUT', /one day of the month/));
  });

  test('calendarView pages follow the next link with Prefer: odata.maxpagesize; each event once, in start order', async () => {
    const cal = h.emulator.addCalendar(h.email, { name: 'Paging' }).id;
    for (let i = 9; i >= 0; i--) {
      h.emulator.seedEvent(cal, { subject: `E${i}`, start: { dateTime: `2027-09-0${1 + (i % 9)}T${String(8 + i).padStart(2, '0')}:00:00`, timeZone: 'UTC' }, end: { dateTime: `2027-09-0${1 + (i % 9)}T${String(9 + i).padStart(2, '0')}:00:00`, timeZone: 'UTC' } });
    }
    const events = await list('2027-09-01T00:00:00Z', '2027-09-30T00:00:00Z', true, 3, cal);
    assert.equal(events.length, 10);
    assert.equal(new Set(events.map((e) => e.id)).size, 10);
    const starts = events.map((e) => Date.parse(e.start));
    assert.deepEqual(starts, [...starts].sort((x, y) => x - y));
    assert.ok(h.emulator.requests.some((r) => /odata\.maxpagesize=3/.test(r.prefer ?? '') && r.query.$skiptoken));
  });

  test('a calendarView refused for its $expand (as a basic grant may be) is read again without it', async () => {
    h.emulator.injectFault({ status: 403, code: 'ErrorAccessDenied', path: '/calendarView', times: 1 });
    const before = h.emulator.requests.length;
    assert.deepEqual(await list('2027-09-01T00:00:00Z', '2027-09-02T00:00:00Z'), []);
    const sent = h.emulator.requests.slice(before);
    assert.deepEqual(sent.map((r) => [r.status, '$expand' in r.query]), [[403, true], [200, false]]);
  });

  test('a page token of another query, or one pointing away from Graph, is refused', async () => {
    const q = { calendarId, start: new Date('2027-01-01T00:00:00Z'), end: new Date('2027-02-01T00:00:00Z'), singleEvents: true, pageSize: 5 };
    const forged = Buffer.from(JSON.stringify({ l: 'https://attacker.example/v1.0/me/calendars', c: calendarId, s: q.start.getTime(), e: q.end.getTime() })).toString('base64url');
    await assert.rejects(h.provider.listEvents(h.ctx, { ...q, pageToken: forged }), isCode('UNKNOWN', /outside Graph/));
    await assert.rejects(h.provider.listEvents(h.ctx, { ...q, pageToken: 'garbage' }), isCode('INVALID_INPUT'));
  });

  test('moving an occurrence past its neighbour is INVALID_INPUT that says why', async () => {
    const cal = h.emulator.addCalendar(h.email, { name: 'Crossing' }).id;
    await h.provider.createEvent(h.ctx, { calendarId: cal, title: 'Daily', start: new Date('2027-03-01T09:00:00Z'), end: new Date('2027-03-01T09:30:00Z'), allDay: false, timeZone: 'UTC', recurrence: { frequency: 'DAILY', count: 5 } });
    const [, second] = await list('2027-03-01T00:00:00Z', '2027-03-10T00:00:00Z', true, 50, cal);
    await assert.rejects(
      h.provider.updateEvent(h.ctx, { calendarId: cal, eventId: second!.id, recurringEventId: second!.recurringEventId }, { start: new Date('2027-03-04T09:00:00Z'), end: new Date('2027-03-04T09:30:00Z') }, 'this'),
      isCode('INVALID_INPUT', /neighbouring occurrence/),
    );
  });

  test('an expired access token is refreshed once and the request repeated; the rotated refresh token is kept', async () => {
    const before = h.persisted.length;
    h.emulator.identity.expireAccessTokens(h.email);
    const events = await list('2027-09-01T00:00:00Z', '2027-09-02T00:00:00Z');
    assert.deepEqual(events, []);
    assert.equal(h.persisted.length, before + 1);
    assert.match(h.persisted.at(-1)!.refreshToken, /^M\.C5/);
    assert.notEqual(h.persisted.at(-1)!.refreshToken, h.persisted.at(-2)?.refreshToken);
  });

  for (const code of [700082, 50173, 70000] as const) {
    test(`invalid_grant AADSTS${code} on refresh is AUTH_REVOKED`, async () => {
      const email = `dead${code}@contoso.com`;
      const issued = h.emulator.issueTokens(email);
      const store = new MemoryCredentialStore<OAuthTokens>({ accessToken: issued.accessToken, refreshToken: issued.refreshToken, expiresAt: 0 });
      const manager = new OAuthTokenManager({
        accountKey: `microsoft:dead:${code}:${process.pid}`,
        providerName: 'Microsoft',
        initial: store.stored,
        refresh: (refreshToken) => h.oauth.refresh(refreshToken),
        store,
        shared: new SharedOAuthState(),
      });
      h.emulator.identity.killRefreshTokens(email, code);
      await assert.rejects(manager.getAccessToken(), isCode('AUTH_REVOKED', /invalid_grant/));
      await assert.rejects(h.oauth.refresh(issued.refreshToken), (err: Error & { error?: string; description?: string }) => err.error === 'invalid_grant' && new RegExp(`AADSTS${code}`).test(err.description ?? ''));
    });
  }

  test('429 with Retry-After and 503 on reads are waited out; a 412 on a stale write is CONFLICT', async () => {
    h.emulator.injectFault({ status: 429, retryAfter: '0', path: '/calendarView' });
    h.emulator.injectFault({ status: 503, path: '/calendarView' });
    assert.deepEqual(await list('2027-09-01T00:00:00Z', '2027-09-02T00:00:00Z'), []);
    const created = await h.provider.createEvent(h.ctx, { calendarId, title: 'Mine', start: new Date('2027-10-01T09:00:00Z'), end: new Date('2027-10-01T10:00:00Z'), allDay: false });
    const etag = (created.original as { etag: string }).etag;
    h.emulator.store.update(h.emulator.store.find(created.id)!, { subject: 'Theirs' });
    await assert.rejects(h.provider.updateEvent(h.ctx, { calendarId, eventId: created.id, etag }, { title: 'Mine again' }), isCode('CONFLICT'));
    assert.equal(h.emulator.store.events.get(created.id)!.subject, 'Theirs');
  });

  test('at most four requests per mailbox in flight, as Outlook allows: no MailboxConcurrency 429', async () => {
    h.emulator.delayMs = 40;
    h.emulator.maxConcurrent = 0;
    try {
      const results = await Promise.all(Array.from({ length: 12 }, () => h.provider.listEvents(h.ctx, { calendarId, start: new Date('2027-09-01T00:00:00Z'), end: new Date('2027-09-02T00:00:00Z'), singleEvents: true, pageSize: 10 })));
      assert.equal(results.length, 12);
      assert.equal(h.emulator.maxConcurrent, 4);
      assert.ok(!h.emulator.requests.some((r) => r.status === 429 && r.path.endsWith('/calendarView') && !r.query.$skiptoken && r.prefer?.includes('maxpagesize=10')));
      // A caller that gives up while waiting for a slot leaves without taking one.
      const q = { calendarId, start: new Date('2027-09-01T00:00:00Z'), end: new Date('2027-09-02T00:00:00Z'), singleEvents: true, pageSize: 10 };
      const busy = Array.from({ length: 4 }, () => h.provider.listEvents(h.ctx, q));
      const controller = new AbortController();
      const waiting = h.provider.listEvents({ ...h.ctx, signal: controller.signal }, q);
      setTimeout(() => controller.abort(new Error('gave up')), 10);
      await assert.rejects(waiting, /gave up/);
      await Promise.all(busy);
      assert.equal((await h.provider.listEvents(h.ctx, q)).events.length, 0, 'the slots are all free again');
    } finally {
      h.emulator.delayMs = 0;
    }
  });
});

describe('Microsoft change feed on the Graph emulator', () => {
  let h: MicrosoftHarness;
  before(async () => {
    h = await startMicrosoftHarness({ email: 'feed@contoso.com' });
  });
  after(() => h.close());

  const window = { start: new Date('2027-05-01T00:00:00Z'), end: new Date('2027-06-01T00:00:00Z') };

  test('a removed occurrence makes the next pass a relisting; an expired delta link is CURSOR_INVALID', async () => {
    const feed = (h.provider as unknown as { changes: ChangeFeed }).changes;
    const calendarId = h.emulator.addCalendar(h.email, { name: 'Feed' }).id;
    const series = h.emulator.seedEvent(calendarId, { subject: 'Daily', start: { dateTime: '2027-05-03T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2027-05-03T09:30:00', timeZone: 'UTC' }, recurrence: { pattern: { type: 'daily', interval: 1 }, range: { type: 'numbered', startDate: '2027-05-03', numberOfOccurrences: 3 } } });
    const versions = new Map<string, string>();
    const read = (cursor?: string) =>
      feed.readChanges(h.ctx, { calendarId, ...(cursor ? { cursor } : {}), window, pageSize: 50, knownVersions: async (keys) => new Map(keys.filter((k) => versions.has(k)).map((k) => [k, versions.get(k)!])) });
    const first = await read();
    assert.equal(first.full, true);
    assert.deepEqual(first.upserts.map((u) => [u.key, u.instances.length, u.masters.length]), [[series.id, 3, 1]]);
    for (const u of first.upserts) versions.set(u.key, u.version);
    const second = h.emulator.store.expand(series, Date.parse('2027-06-01T00:00:00Z')).filter((i) => i.type === 'occurrence')[1]!;
    h.emulator.store.delete(second);
    const next = await read(first.cursor);
    assert.equal(next.full, true, 'relisted: delta does not say which series lost an occurrence');
    assert.deepEqual(next.upserts.map((u) => [u.key, u.instances.length]), [[series.id, 2]]);
    h.emulator.expireDeltaTokens();
    await assert.rejects(read(next.cursor), isCode('CURSOR_INVALID'));
  });
});
