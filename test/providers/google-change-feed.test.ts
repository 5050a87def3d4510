/**
 * The Google change feed against the emulator with tiny pages (one item per Google page,
 * empty pages between): a series whose master and exceptions fall on different pages is
 * mirrored whole; incremental passes handle a changed exception alone (the series is
 * read again), a cancelled occurrence, a deleted series and a deleted single; the mirror
 * equals a live read after each pass; an unchanged single costs nothing in a relisting.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CalendarEvent } from '../../src/domain/calendar.js';
import type { ChangeFeed, MirrorUnit, OAuthCredentials, SyncWindow } from '../../src/providers/types.js';
import { basicUtcStamp } from '../emulators/google/emulator-time.js';
import { startGoogleHarness, type GoogleHarness } from '../emulators/google/google-test-harness.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const WINDOW: SyncWindow = { start: new Date('2027-01-01T00:00:00Z'), end: new Date('2028-01-01T00:00:00Z') };
const FIRST = Date.UTC(2027, 2, 1, 9);

const order = (events: CalendarEvent[]): CalendarEvent[] =>
  [...events].sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

describe('Google change feed across short pages', () => {
  let h: GoogleHarness;
  let feed: ChangeFeed<OAuthCredentials>;
  let calendarId: string;
  let seriesId: string;
  let singleId: string;
  let otherSeriesId: string;
  const mirror = new Map<string, MirrorUnit>();
  let cursor: string | undefined;

  /** One pass to its end, applied to `mirror` as the engine does; returns the units it upserted. */
  async function pass(): Promise<{ upserts: string[]; unchanged: string[]; full: boolean }> {
    const upserts: string[] = [];
    const unchanged: string[] = [];
    const seen = new Set<string>();
    let full = false;
    for (let pages = 0; pages < 500; pages++) {
      const page = await feed.readChanges(h.ctx, {
        calendarId,
        ...(cursor !== undefined ? { cursor } : {}),
        window: WINDOW,
        pageSize: 3,
        knownVersions: async (keys) => new Map(keys.filter((k) => mirror.has(k)).map((k) => [k, mirror.get(k)!.version])),
      });
      full ||= page.full;
      for (const unit of page.upserts) {
        mirror.set(unit.key, unit);
        upserts.push(unit.key);
        seen.add(unit.key);
      }
      for (const key of page.unchanged) {
        unchanged.push(key);
        seen.add(key);
      }
      for (const key of page.deletions) mirror.delete(key);
      cursor = page.cursor;
      if (!page.more) {
        if (page.full) for (const key of [...mirror.keys()]) if (!seen.has(key)) mirror.delete(key);
        return { upserts, unchanged, full };
      }
    }
    throw new Error('the pass did not end');
  }

  async function live(singleEvents: boolean): Promise<CalendarEvent[]> {
    const out: CalendarEvent[] = [];
    let pageToken: string | undefined;
    do {
      const page = await h.provider.listEvents(h.ctx, { calendarId, start: WINDOW.start, end: WINDOW.end, singleEvents, pageSize: 1000, ...(pageToken ? { pageToken } : {}) });
      out.push(...page.events);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return order(out);
  }

  async function assertEqualsLive(): Promise<void> {
    assert.deepEqual(order([...mirror.values()].flatMap((u) => u.instances)), await live(true), 'instances');
    assert.deepEqual(order([...mirror.values()].flatMap((u) => u.masters)), await live(false), 'masters');
  }

  const exceptionId = (n: number) => `${seriesId}_${basicUtcStamp(FIRST + n * 7 * DAY)}`;

  before(async () => {
    h = await startGoogleHarness({ emulator: { pageSizeCap: 1, emptyPages: true } });
    feed = (h.provider as unknown as { changes: ChangeFeed<OAuthCredentials> }).changes;
    calendarId = h.emulator.addCalendar(h.email, { summary: 'Feed', timeZone: 'Europe/Berlin' }).id;
    seriesId = h.emulator.seedEvent(calendarId, {
      summary: 'Weekly',
      start: { dateTime: iso(FIRST), timeZone: 'UTC' },
      end: { dateTime: iso(FIRST + HOUR), timeZone: 'UTC' },
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=8'],
    }).id;
    singleId = h.emulator.seedEvent(calendarId, { summary: 'Single', start: { dateTime: '2027-04-02T10:00:00Z' }, end: { dateTime: '2027-04-02T11:00:00Z' } }).id;
    h.emulator.seedEvent(calendarId, {
      id: exceptionId(2),
      recurringEventId: seriesId,
      originalStartTime: { dateTime: iso(FIRST + 14 * DAY), timeZone: 'UTC' },
      summary: 'Weekly (moved)',
      start: { dateTime: iso(FIRST + 14 * DAY + 3 * HOUR), timeZone: 'UTC' },
      end: { dateTime: iso(FIRST + 14 * DAY + 4 * HOUR), timeZone: 'UTC' },
    });
    otherSeriesId = h.emulator.seedEvent(calendarId, {
      summary: 'Daily',
      start: { date: '2027-06-01' },
      end: { date: '2027-06-02' },
      recurrence: ['RRULE:FREQ=DAILY;COUNT=3'],
    }).id;
    // Outside the window: a unit without events.
    h.emulator.seedEvent(calendarId, { summary: 'Old', start: { dateTime: '2001-01-01T10:00:00Z' }, end: { dateTime: '2001-01-01T11:00:00Z' } });
  });

  after(async () => h?.close());

  test('a relisting over many pages mirrors every unit whole, and equals a live read', async () => {
    const first = await pass();
    assert.equal(first.full, true);
    assert.equal(mirror.size, 4, 'two series, the single and the old event');
    assert.equal(mirror.get(seriesId)!.instances.length, 8);
    assert.equal(mirror.get(seriesId)!.instances.find((e) => e.id === exceptionId(2))?.title, 'Weekly (moved)');
    assert.deepEqual([...mirror.values()].filter((u) => u.instances.length === 0).length, 1);
    await assertEqualsLive();
  });

  test('a quiet pass reads nothing again', async () => {
    const quiet = await pass();
    assert.deepEqual(quiet, { upserts: [], unchanged: [], full: false });
  });

  test('a change to one exception alone re-reads its series', async () => {
    h.emulator.store.patch(calendarId, exceptionId(2), { summary: 'Weekly (moved, renamed)' }, { conferenceDataVersion: 0, actorEmail: h.email });
    const next = await pass();
    assert.deepEqual(next.upserts, [seriesId]);
    assert.equal(mirror.get(seriesId)!.instances.find((e) => e.id === exceptionId(2))?.title, 'Weekly (moved, renamed)');
    await assertEqualsLive();
  });

  test('a cancelled occurrence leaves its series without it', async () => {
    h.emulator.store.delete(calendarId, exceptionId(4), undefined);
    const next = await pass();
    assert.deepEqual(next.upserts, [seriesId]);
    assert.equal(mirror.get(seriesId)!.instances.length, 7);
    assert.ok(!mirror.get(seriesId)!.instances.some((e) => e.id === exceptionId(4)));
    await assertEqualsLive();
  });

  test('a deleted series and a deleted single are removed', async () => {
    h.emulator.store.delete(calendarId, otherSeriesId, undefined);
    h.emulator.store.delete(calendarId, singleId, undefined);
    const next = await pass();
    assert.deepEqual(next.upserts, []);
    assert.ok(!mirror.has(otherSeriesId));
    assert.ok(!mirror.has(singleId));
    await assertEqualsLive();
  });

  test('after an expired token the relisting keeps unchanged singles without reading them, and re-reads series', async () => {
    h.emulator.store.expireSyncTokens();
    await assert.rejects(pass(), (err: { code?: string }) => err.code === 'CURSOR_INVALID');
    cursor = undefined;
    const relisting = await pass();
    assert.equal(relisting.full, true);
    assert.deepEqual(relisting.upserts, [seriesId]);
    assert.equal(relisting.unchanged.length, 1, 'the old single is known and unchanged');
    await assertEqualsLive();
  });

  test('occurrences the user was invited to without their series are mirrored as events of their own, incremental and relisted', async () => {
    // Another organizer's weekly series: this calendar holds two of its occurrences and not the series.
    const invitedSeries = 'invitedseries0001';
    const at = (n: number) => Date.UTC(2027, 8, 6 + 7 * n, 15);
    const orphan = (n: number) =>
      h.emulator.seedEvent(calendarId, {
        id: `${invitedSeries}_${basicUtcStamp(at(n))}`,
        recurringEventId: invitedSeries,
        originalStartTime: { dateTime: iso(at(n)), timeZone: 'UTC' },
        summary: `Guest lecture ${n}`,
        start: { dateTime: iso(at(n)), timeZone: 'UTC' },
        end: { dateTime: iso(at(n) + HOUR), timeZone: 'UTC' },
      }).id;
    const first = orphan(0);
    const second = orphan(3);
    const added = await pass();
    assert.deepEqual([...added.upserts].sort(), [first, second].sort());
    assert.deepEqual(mirror.get(first)!.instances.map((e) => e.title), ['Guest lecture 0']);
    assert.deepEqual(mirror.get(first)!.masters, [], 'no series master, as a live singleEvents=false read');
    await assertEqualsLive();

    h.emulator.store.patch(calendarId, second, { summary: 'Guest lecture 3 (room change)' }, { conferenceDataVersion: 0, actorEmail: h.email });
    await pass();
    assert.deepEqual(mirror.get(second)!.instances.map((e) => e.title), ['Guest lecture 3 (room change)']);
    await assertEqualsLive();

    h.emulator.store.expireSyncTokens();
    await assert.rejects(pass(), (err: { code?: string }) => err.code === 'CURSOR_INVALID');
    cursor = undefined;
    const relisting = await pass();
    assert.ok(relisting.upserts.includes(first) && relisting.upserts.includes(second), JSON.stringify(relisting.upserts));
    assert.ok(mirror.has(first) && mirror.has(second), 'kept by the relisting');
    await assertEqualsLive();

    h.emulator.store.delete(calendarId, first, undefined);
    await pass();
    assert.ok(!mirror.has(first), 'an occurrence the user was removed from leaves the mirror');
    assert.ok(mirror.has(second));
    await assertEqualsLive();

    // Invited to the whole series later: its occurrences move into the series unit, none twice.
    h.emulator.seedEvent(calendarId, {
      id: invitedSeries,
      summary: 'Guest lecture',
      start: { dateTime: iso(at(0)), timeZone: 'UTC' },
      end: { dateTime: iso(at(0) + HOUR), timeZone: 'UTC' },
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=6'],
    });
    const joined = await pass();
    assert.ok(joined.upserts.includes(invitedSeries));
    assert.ok(!mirror.has(second), 'the occurrence mirrored alone is now part of the series');
    assert.equal(mirror.get(invitedSeries)!.instances.filter((e) => e.id === second).length, 1);
    await assertEqualsLive();
  });
});
