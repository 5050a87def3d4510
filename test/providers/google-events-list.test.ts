import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CalendarEvent } from '../../src/domain/calendar.js';
import { ProviderError } from '../../src/providers/types.js';
import type { EventQuery } from '../../src/providers/types.js';
import { startGoogleHarness } from '../emulators/google/google-test-harness.js';
import type { GoogleHarness } from '../emulators/google/google-test-harness.js';

const DAY = 86_400_000;

/** Walks every page of a query, asserting the EventPage ordering contract on the way. */
async function walk(h: GoogleHarness, q: Omit<EventQuery, 'pageToken'>): Promise<{ events: CalendarEvent[]; pages: number }> {
  const events: CalendarEvent[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  do {
    const page = await h.provider.listEvents(h.ctx, { ...q, pageToken });
    events.push(...page.events);
    pageToken = page.nextPageToken;
    pages += 1;
    assert.ok(pages < 10_000, 'paging does not end');
  } while (pageToken);
  for (let i = 1; i < events.length; i++) {
    assert.ok(
      events[i - 1]!.start <= events[i]!.start,
      `out of order at ${i}: ${events[i - 1]!.start} (${events[i - 1]!.id}) before ${events[i]!.start} (${events[i]!.id})`,
    );
  }
  return { events, pages };
}

const ids = (events: CalendarEvent[]): string[] => events.map((e) => e.id);
const iso = (ms: number): string => new Date(ms).toISOString();

describe('Google events list: order and range across short pages', () => {
  let h: GoogleHarness;
  const calendars: Record<string, string> = {};
  /** Almanac-convention [start, end) of every seeded event, by calendar, to compute expectations independently. */
  const seeded: Record<string, { id: string; s: number; e: number }[]> = {};

  before(async () => {
    h = await startGoogleHarness({ emulator: { pageSizeCap: 4, emptyPages: true } });
    for (const zone of ['America/Los_Angeles', 'Asia/Tokyo', 'UTC', 'Pacific/Kiritimati', 'Pacific/Pago_Pago']) {
      const calendar = h.emulator.addCalendar(h.email, { summary: zone, timeZone: zone });
      calendars[zone] = calendar.id;
      const list: { id: string; s: number; e: number }[] = (seeded[calendar.id] = []);
      const base = Date.UTC(2025, 9, 29); // Oct 29: some events fall before the range
      for (let day = 0; day < 36; day++) {
        const midnight = base + day * DAY;
        const date = iso(midnight).slice(0, 10);
        // All-day events: one-day, and every fifth day a three-day one.
        const allDay = h.emulator.seedEvent(calendar.id, {
          summary: 'all day',
          start: { date },
          end: { date: iso(midnight + DAY).slice(0, 10) },
        });
        list.push({ id: allDay.id, s: midnight, e: midnight + DAY });
        if (day % 5 === 0) {
          const long = h.emulator.seedEvent(calendar.id, {
            summary: 'three days',
            start: { date },
            end: { date: iso(midnight + 3 * DAY).slice(0, 10) },
          });
          list.push({ id: long.id, s: midnight, e: midnight + 3 * DAY });
        }
        for (const hour of [0, 3, 7.5, 12, 15, 21, 23.5]) {
          const s = midnight + hour * 3_600_000;
          const e = s + 45 * 60_000;
          const timed = h.emulator.seedEvent(calendar.id, {
            summary: `at ${hour}`,
            start: { dateTime: iso(s) },
            end: { dateTime: iso(e) },
          });
          list.push({ id: timed.id, s, e });
        }
      }
      // Boundary cases: ends exactly at the range start, starts exactly at its end, zero length at start.
      const start = Date.UTC(2025, 10, 1);
      const end = Date.UTC(2025, 11, 1);
      for (const [s, e] of [
        [start - 3_600_000, start],
        [end, end + 3_600_000],
        [start, start],
        [end - 1000, end],
      ] as const) {
        const ev = h.emulator.seedEvent(calendar.id, { summary: 'edge', start: { dateTime: iso(s) }, end: { dateTime: iso(e) } });
        list.push({ id: ev.id, s, e });
      }
    }
  });
  after(() => h.close());

  const ranges: [string, string][] = [
    ['2025-11-01T00:00:00Z', '2025-12-01T00:00:00Z'],
    // Off-midnight bounds: all-day events Google files under another zone's midnight must still match Almanac's rule.
    ['2025-11-01T20:00:00Z', '2025-11-15T04:00:00Z'],
  ];
  for (const zone of ['America/Los_Angeles', 'Asia/Tokyo', 'UTC', 'Pacific/Kiritimati', 'Pacific/Pago_Pago']) {
    for (const [from, to] of ranges) {
      test(`calendar in ${zone}, ${from} → ${to}: every event of the range exactly once, in start order`, async () => {
        const start = new Date(from);
        const end = new Date(to);
        const calendarId = calendars[zone]!;
        const { events, pages } = await walk(h, { calendarId, start, end, singleEvents: true, pageSize: 5 });
        const expected = seeded[calendarId]!.filter((x) => x.e > start.getTime() && x.s < end.getTime()).map((x) => x.id);
        assert.equal(new Set(ids(events)).size, events.length, 'an event came twice');
        assert.deepEqual(new Set(ids(events)), new Set(expected));
        assert.ok(pages > 10);
        assert.ok(events.every((e) => e.calendarId === calendarId && e.provider === 'google'));
        const allDay = events.filter((e) => e.allDay);
        assert.ok(allDay.length > 0 && allDay.every((e) => e.start.endsWith('T00:00:00.000Z') && e.end.endsWith('T00:00:00.000Z')));
      });
    }
  }

  test('Google is asked for expanded instances ordered by start, with its page tokens wrapped in ours', async () => {
    const calendarId = calendars.UTC!;
    h.emulator.requests.length = 0;
    const page = await h.provider.listEvents(h.ctx, {
      calendarId,
      start: new Date('2025-11-01T00:00:00Z'),
      end: new Date('2025-11-03T00:00:00Z'),
      singleEvents: true,
      pageSize: 3,
    });
    const sent = h.emulator.requests.filter((r) => r.path.endsWith('/events'));
    assert.ok(sent.length >= 1);
    assert.equal(sent[0]!.query.singleEvents, 'true');
    assert.equal(sent[0]!.query.orderBy, 'startTime');
    assert.ok(page.nextPageToken);
    assert.ok(!sent.some((r) => r.query.pageToken === page.nextPageToken), 'Google’s token is not passed through bare');
  });

  test('a page token from another query, or a tampered one, is refused as invalid input', async () => {
    const q = { calendarId: calendars.UTC!, start: new Date('2025-11-01T00:00:00Z'), end: new Date('2025-11-10T00:00:00Z'), singleEvents: true, pageSize: 3 };
    const first = await h.provider.listEvents(h.ctx, q);
    assert.ok(first.nextPageToken);
    const invalid = (e: unknown): boolean => e instanceof ProviderError && e.code === 'INVALID_INPUT';
    await assert.rejects(h.provider.listEvents(h.ctx, { ...q, end: new Date('2025-11-11T00:00:00Z'), pageToken: first.nextPageToken }), invalid);
    await assert.rejects(h.provider.listEvents(h.ctx, { ...q, pageToken: `${first.nextPageToken}x!` }), invalid);
    await assert.rejects(h.provider.listEvents(h.ctx, { ...q, singleEvents: false, pageToken: first.nextPageToken }), invalid);
  });
});

describe('Google events list: recurring series', () => {
  let h: GoogleHarness;
  let masterId: string;
  let bigSeriesCalendar: string;

  before(async () => {
    h = await startGoogleHarness({ timeZone: 'America/New_York', emulator: { pageSizeCap: 100 } });
    bigSeriesCalendar = h.emulator.addCalendar(h.email, { summary: 'Big', timeZone: 'America/New_York' }).id;
    const created = await h.provider.createEvent(h.ctx, {
      calendarId: bigSeriesCalendar,
      title: 'Daily',
      start: new Date('2025-01-01T14:00:00Z'),
      end: new Date('2025-01-01T14:30:00Z'),
      allDay: false,
      timeZone: 'America/New_York',
      recurrence: { frequency: 'DAILY', count: 5000 },
    });
    masterId = created.id;
  });
  after(() => h.close());

  test('a series with 5,000 instances in range: every instance exactly once, in order, with Google instance ids', async () => {
    h.emulator.requests.length = 0;
    const { events, pages } = await walk(h, {
      calendarId: bigSeriesCalendar,
      start: new Date('2024-12-01T00:00:00Z'),
      end: new Date('2040-01-01T00:00:00Z'),
      singleEvents: true,
      pageSize: 250,
    });
    assert.equal(events.length, 5000);
    assert.equal(new Set(ids(events)).size, 5000);
    // Google served short pages (100), and Almanac's pages are about the requested size.
    assert.ok(h.emulator.requests.filter((r) => r.path.endsWith('/events')).length >= 50);
    assert.ok(pages >= 5000 / 300);
    assert.ok(events.every((e) => e.recurringEventId === masterId && /^[a-v0-9]+_\d{8}T\d{6}Z$/.test(e.id)));
    // Wall-clock recurrence: 09:00 in New York is 14:00Z in winter and 13:00Z in summer.
    assert.equal(events[0]!.start, '2025-01-01T14:00:00.000Z');
    assert.equal(events.find((e) => e.start.startsWith('2025-07-01'))!.start, '2025-07-01T13:00:00.000Z');
    assert.equal(events[0]!.id, `${masterId}_20250101T140000Z`);
  });

  test('exceptions and cancelled occurrences show up as Google lists them', async () => {
    const calendarId = h.email;
    const series = await h.provider.createEvent(h.ctx, {
      calendarId,
      title: 'Weekly',
      start: new Date('2025-03-03T15:00:00Z'),
      end: new Date('2025-03-03T16:00:00Z'),
      allDay: false,
      timeZone: 'America/New_York',
      recurrence: { frequency: 'WEEKLY', byDay: ['MO', 'WE'], count: 6 },
    });
    const range = { calendarId, start: new Date('2025-03-01T00:00:00Z'), end: new Date('2025-04-01T00:00:00Z'), singleEvents: true, pageSize: 50 };
    const before = (await walk(h, range)).events.filter((e) => e.recurringEventId === series.id);
    assert.equal(before.length, 6);
    // Move the second occurrence two hours later and cancel the fourth.
    const second = before[1]!;
    await h.provider.updateEvent(h.ctx, { calendarId, eventId: second.id, recurringEventId: series.id }, {
      title: 'Moved',
      start: new Date(Date.parse(second.start) + 2 * 3_600_000),
      end: new Date(Date.parse(second.end) + 2 * 3_600_000),
    }, 'this');
    await h.provider.deleteEvent(h.ctx, { calendarId, eventId: before[3]!.id, recurringEventId: series.id }, 'this');

    const after = (await walk(h, range)).events.filter((e) => e.recurringEventId === series.id);
    assert.equal(after.length, 5);
    const moved = after.find((e) => e.id === second.id)!;
    assert.equal(moved.title, 'Moved');
    assert.equal(moved.start, new Date(Date.parse(second.start) + 2 * 3_600_000).toISOString());
    assert.ok(!after.some((e) => e.id === before[3]!.id));
  });

  test('singleEvents=false: singles and series masters only, in start order, paged locally', async () => {
    const calendarId = h.emulator.addCalendar(h.email, { summary: 'Masters', timeZone: 'Europe/Paris' }).id;
    const mk = (title: string, start: string, end: string, recurrence?: string[]): string =>
      h.emulator.seedEvent(calendarId, {
        summary: title,
        start: { dateTime: start, timeZone: 'Europe/Paris' },
        end: { dateTime: end, timeZone: 'Europe/Paris' },
        ...(recurrence ? { recurrence } : {}),
      }).id;
    const early = mk('started before range', '2025-01-06T09:00:00+01:00', '2025-01-06T10:00:00+01:00', ['RRULE:FREQ=WEEKLY;BYDAY=MO']);
    const done = mk('ended before range', '2024-01-01T09:00:00+01:00', '2024-01-01T10:00:00+01:00', ['RRULE:FREQ=DAILY;COUNT=3']);
    const single1 = mk('single late', '2025-06-20T09:00:00+02:00', '2025-06-20T10:00:00+02:00');
    const single2 = mk('single early', '2025-06-02T09:00:00+02:00', '2025-06-02T10:00:00+02:00');
    const inRange = mk('series in range', '2025-06-10T09:00:00+02:00', '2025-06-10T10:00:00+02:00', ['RRULE:FREQ=DAILY;COUNT=5']);
    const later = mk('series after', '2025-08-01T09:00:00+02:00', '2025-08-01T10:00:00+02:00', ['RRULE:FREQ=DAILY']);
    h.emulator.seedEvent(calendarId, { id: `${inRange}_20250611T070000Z`, recurringEventId: inRange, summary: 'exception', start: { dateTime: '2025-06-11T12:00:00+02:00' }, end: { dateTime: '2025-06-11T13:00:00+02:00' }, originalStartTime: { dateTime: '2025-06-11T09:00:00+02:00' } });
    h.emulator.seedEvent(calendarId, { summary: 'deleted', status: 'cancelled', start: { dateTime: '2025-06-05T09:00:00+02:00' }, end: { dateTime: '2025-06-05T10:00:00+02:00' } });

    h.emulator.requests.length = 0;
    const { events, pages } = await walk(h, {
      calendarId,
      start: new Date('2025-06-01T00:00:00Z'),
      end: new Date('2025-07-01T00:00:00Z'),
      singleEvents: false,
      pageSize: 2,
    });
    assert.deepEqual(ids(events), [early, single2, inRange, single1]);
    assert.equal(pages, 2);
    assert.ok(!ids(events).includes(done) && !ids(events).includes(later));
    assert.deepEqual(events.find((e) => e.id === inRange)!.recurrence, { frequency: 'DAILY', count: 5 });
    const sent = h.emulator.requests.filter((r) => r.path.endsWith('/events'));
    assert.ok(sent.every((r) => r.query.singleEvents === 'false' && r.query.orderBy === undefined));
  });
});
