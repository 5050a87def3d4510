/**
 * The promises every adapter keeps, as one set of tests run against each fixture
 * (contract-fixture.ts): through the CalendarProvider interface, and where the HTTP
 * answer is the promise, through the API of a real Almanac server. What an adapter
 * did is always checked on the provider's side (the fixture's snapshot and its own
 * reading of the stored data), not only through the adapter.
 *
 * - conditional writes: a stale version is CONFLICT (409) and nothing changes;
 * - edit modes keep exceptions: this / following / all (and deletes) on a series with
 *   a moved occurrence, a cancelled occurrence and an EXDATE on both sides of the
 *   edited occurrence;
 * - occurrence counts: a COUNT series split with `following` after an EXDATE or a
 *   moved occurrence keeps exactly its occurrences (RFC 5545: EXDATEs count toward
 *   COUNT, moved occurrences count at their RECURRENCE-ID);
 * - read-only calendars: `readOnly: true`, and writes are READ_ONLY (403 calendar_read_only);
 * - narrow ranges: a later occurrence alone, exact boundaries, all-day events in a
 *   calendar far from UTC (an all-day event is its UTC-midnight day on the wire);
 * - change feed (adapters that have one): a first pass holds exactly what a live read
 *   returns; additions, renames (of a series too) and removals made at the provider are in
 *   the next pass, which re-reads only what changed; a cursor the provider does not accept
 *   is CURSOR_INVALID.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { CalendarEvent, EditMode, EventPatch, EventRef } from '../../src/domain/calendar.js';
import { ProviderError, type ChangeFeed, type MirrorUnit } from '../../src/providers/types.js';
import { wallToInstant } from '../emulators/google/emulator-time.js';
import { api, finishConnect, openConnect } from '../support/connect-flow.js';
import { startServer, type TestServer } from '../support/server.js';
import type { ContractFixture, KnownGaps, SeedEvent, ServerOccurrence, WallTime } from './contract-fixture.js';

const BERLIN = 'Europe/Berlin';

/** The instant of a wall time in `zone`, as the wire writes it. */
function at(wall: WallTime, zone = BERLIN): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(wall);
  if (!m) throw new Error(`not a wall time: ${wall}`);
  return new Date(wallToInstant({ y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +m[4]!, mi: +m[5]!, s: 0 }, zone)).toISOString();
}

function occ(title: string, start: WallTime, end: WallTime): ServerOccurrence {
  return { title, start: at(start), end: at(end) };
}

/** A daily Berlin series of ten with exceptions on both sides of 8 May: EXDATEs, moved and cancelled occurrences. */
const SERIES: SeedEvent = {
  title: 'Standup',
  start: '2027-05-03T09:00',
  end: '2027-05-03T09:30',
  timeZone: BERLIN,
  rrule: 'FREQ=DAILY;COUNT=10',
  exdates: ['2027-05-04T09:00', '2027-05-10T09:00'],
  moved: [
    { original: '2027-05-05T09:00', start: '2027-05-05T14:00', end: '2027-05-05T14:30', title: 'Standup (moved early)' },
    { original: '2027-05-09T09:00', start: '2027-05-09T16:00', end: '2027-05-09T16:30', title: 'Standup (moved late)' },
  ],
  cancelled: ['2027-05-06T09:00', '2027-05-11T09:00'],
};
const EDIT_RANGE = { start: new Date('2027-04-25T00:00:00Z'), end: new Date('2027-06-01T00:00:00Z') };
const MOVED_EARLY = occ('Standup (moved early)', '2027-05-05T14:00', '2027-05-05T14:30');
const MOVED_LATE = occ('Standup (moved late)', '2027-05-09T16:00', '2027-05-09T16:30');
const standup = (day: string, title = 'Standup'): ServerOccurrence => occ(title, `2027-05-${day}T09:00`, `2027-05-${day}T09:30`);
/** SERIES as stored: 4, 6, 10 and 11 May are gone, 5 and 9 May moved. */
const SERIES_AS_SEEDED = [standup('03'), MOVED_EARLY, standup('07'), standup('08'), MOVED_LATE, standup('12')];

function isCode(code: ProviderError['code']) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ProviderError, `expected a ProviderError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

function etagOf(event: CalendarEvent): string {
  const etag = (event.original as { etag?: unknown } | null)?.etag;
  assert.equal(typeof etag, 'string', `${event.id} carries original.etag`);
  return etag as string;
}

/** What the adapter lists, in the fixtures' occurrence form. */
function asOccurrence(event: CalendarEvent): ServerOccurrence {
  return event.allDay ? { title: event.title, start: event.start.slice(0, 10), end: event.end.slice(0, 10) } : { title: event.title, start: event.start, end: event.end };
}

export interface ContractOptions {
  /** Why the whole contract cannot run here (a missing server), as a skip message. */
  skip?: string | false;
  knownGaps?: KnownGaps;
}

export function runProviderContract(name: string, start: () => Promise<ContractFixture>, options: ContractOptions = {}): void {
  describe(`provider contract: ${name}`, { skip: options.skip ?? false }, () => {
    let f: ContractFixture;
    before(async () => {
      f = await start();
    });
    after(async () => {
      await f?.close();
    });

    /**
     * A contract test. A known gap of this adapter that fails is reported as todo with
     * its reason; one that passes fails, so the gap is removed once the adapter keeps it.
     */
    const titles = new Set<string>();
    const promise = (title: string, fn: (t: TestContext) => Promise<void>): void => {
      titles.add(title);
      const gap = options.knownGaps?.[title];
      if (!gap) {
        test(title, fn);
        return;
      }
      test(title, async (t) => {
        try {
          await fn(t);
        } catch (err) {
          t.todo(`${gap} (${String((err as Error).message).split('\n')[0]})`);
          return;
        }
        assert.fail(`this adapter now keeps the promise: remove it from knownGaps (${gap})`);
      });
    };
    after(() => {
      // A gap whose test was renamed or removed would silently stop being reported.
      const unknown = Object.keys(options.knownGaps ?? {}).filter((t) => !titles.has(t));
      assert.deepEqual(unknown, [], 'known gaps name contract tests');
    });

    /** Read-only tests skip themselves when the fixture's server has no read-only calendars. */
    const readOnlyUnsupported = (t: TestContext): boolean => {
      if (typeof f.readOnly !== 'string') return false;
      t.skip(f.readOnly);
      return true;
    };

    async function list(calendarId: string, range: { start: Date; end: Date }, singleEvents = true): Promise<CalendarEvent[]> {
      const events: CalendarEvent[] = [];
      let pageToken: string | undefined;
      for (let pages = 0; pages < 100; pages++) {
        const page = await f.provider.listEvents(f.ctx, { calendarId, start: range.start, end: range.end, singleEvents, pageSize: 50, ...(pageToken ? { pageToken } : {}) });
        events.push(...page.events);
        pageToken = page.nextPageToken;
        if (!pageToken) return events;
      }
      throw new Error('paging did not end');
    }

    async function occurrenceAt(calendarId: string, wall: WallTime, range = EDIT_RANGE): Promise<CalendarEvent> {
      const events = await list(calendarId, range);
      const found = events.find((e) => e.start === at(wall));
      assert.ok(found, `an occurrence at ${wall} among ${events.map((e) => e.start).join(', ')}`);
      return found;
    }

    const refOf = (calendarId: string, event: CalendarEvent, etag?: string): EventRef => ({
      calendarId,
      eventId: event.id,
      ...(event.recurringEventId ? { recurringEventId: event.recurringEventId } : {}),
      ...(etag ? { etag } : {}),
    });

    /** The provider's own reading and the adapter's listing agree, and are `expected`. */
    async function assertOccurrences(calendarId: string, expected: ServerOccurrence[], range = EDIT_RANGE): Promise<void> {
      assert.deepEqual(await f.serverOccurrences(calendarId, range), expected, 'as stored at the provider');
      assert.deepEqual((await list(calendarId, range)).map(asOccurrence), expected, 'as the adapter lists them');
    }

    async function seededSeries(title: string, event: SeedEvent = SERIES): Promise<string> {
      const calendarId = await f.createCalendar(title);
      await f.seed(calendarId, event);
      await assertOccurrences(calendarId, event === SERIES ? SERIES_AS_SEEDED : await f.serverOccurrences(calendarId, EDIT_RANGE));
      return calendarId;
    }

    describe('conditional writes', () => {
      promise('an update with a stale version is CONFLICT and changes nothing; the current version is accepted', async () => {
        const calendarId = await f.createCalendar('Conditional update');
        const seeded = await f.seed(calendarId, { title: 'Draft', start: '2027-05-20T10:00', end: '2027-05-20T11:00', timeZone: BERLIN });
        const [read] = await list(calendarId, EDIT_RANGE);
        assert.ok(read);
        await f.renameOnServer(calendarId, seeded, 'Changed elsewhere');
        const before = await f.snapshot(calendarId);
        await assert.rejects(f.provider.updateEvent(f.ctx, refOf(calendarId, read, etagOf(read)), { title: 'Mine' }), isCode('CONFLICT'));
        assert.deepEqual(await f.snapshot(calendarId), before, 'nothing changed at the provider');
        const [fresh] = await list(calendarId, EDIT_RANGE);
        const updated = await f.provider.updateEvent(f.ctx, refOf(calendarId, fresh!, etagOf(fresh!)), { title: 'Mine' });
        assert.equal(updated.title, 'Mine');
        assert.deepEqual((await f.serverOccurrences(calendarId, EDIT_RANGE)).map((o) => o.title), ['Mine']);
      });

      promise('a delete with a stale version is CONFLICT and changes nothing', async () => {
        const calendarId = await f.createCalendar('Conditional delete');
        const seeded = await f.seed(calendarId, { title: 'Keep me', start: '2027-05-20T10:00', end: '2027-05-20T11:00', timeZone: BERLIN });
        const [read] = await list(calendarId, EDIT_RANGE);
        await f.renameOnServer(calendarId, seeded, 'Changed elsewhere');
        const before = await f.snapshot(calendarId);
        await assert.rejects(f.provider.deleteEvent(f.ctx, refOf(calendarId, read!, etagOf(read!))), isCode('CONFLICT'));
        assert.deepEqual(await f.snapshot(calendarId), before, 'nothing changed at the provider');
      });

      promise('an occurrence edit or delete with a stale version of its series is CONFLICT and changes nothing', async () => {
        const calendarId = await f.createCalendar('Conditional occurrence');
        const seeded = await f.seed(calendarId, SERIES);
        const target = await occurrenceAt(calendarId, '2027-05-07T09:00');
        await f.renameOnServer(calendarId, seeded, 'Renamed elsewhere');
        const before = await f.snapshot(calendarId);
        await assert.rejects(f.provider.updateEvent(f.ctx, refOf(calendarId, target, etagOf(target)), { title: 'Only this' }, 'this'), isCode('CONFLICT'));
        await assert.rejects(f.provider.deleteEvent(f.ctx, refOf(calendarId, target, etagOf(target)), 'this'), isCode('CONFLICT'));
        assert.deepEqual(await f.snapshot(calendarId), before, 'nothing changed at the provider');
      });
    });

    describe('edit modes keep exceptions', () => {
      async function edit(title: string, mode: EditMode, patch: EventPatch): Promise<string> {
        const calendarId = await seededSeries(title);
        const target = await occurrenceAt(calendarId, '2027-05-08T09:00');
        await f.provider.updateEvent(f.ctx, refOf(calendarId, target), patch, mode);
        return calendarId;
      }

      promise('this: only the edited occurrence changes; EXDATEs, moved and cancelled occurrences on both sides stay', async () => {
        const calendarId = await edit('Edit this', 'this', { title: 'Only this' });
        await assertOccurrences(calendarId, [standup('03'), MOVED_EARLY, standup('07'), standup('08', 'Only this'), MOVED_LATE, standup('12')]);
      });

      promise('this on a moved occurrence: it stays where it was moved', async () => {
        const calendarId = await seededSeries('Edit moved');
        const target = await occurrenceAt(calendarId, '2027-05-09T16:00');
        await f.provider.updateEvent(f.ctx, refOf(calendarId, target), { title: 'Moved and renamed' }, 'this');
        await assertOccurrences(calendarId, [standup('03'), MOVED_EARLY, standup('07'), standup('08'), { ...MOVED_LATE, title: 'Moved and renamed' }, standup('12')]);
      });

      promise('following: earlier exceptions stay; later ones too (moved stays moved, cancelled stays cancelled, EXDATEs stay)', async () => {
        const calendarId = await edit('Edit following', 'following', { title: 'Later' });
        const stored = await f.serverOccurrences(calendarId, EDIT_RANGE);
        assert.deepEqual(
          stored.map((o) => [o.start, o.end]),
          SERIES_AS_SEEDED.map((o) => [o.start, o.end]),
          'the same occurrences at the same times: nothing excluded or cancelled came back, nothing moved went back',
        );
        assert.deepEqual(stored.filter((o) => o.start !== MOVED_LATE.start).map((o) => o.title), ['Standup', 'Standup (moved early)', 'Standup', 'Later', 'Later']);
        assert.deepEqual((await list(calendarId, EDIT_RANGE)).map(asOccurrence), stored, 'as the adapter lists them');
      });

      promise('all: every occurrence is renamed; moved, cancelled and excluded ones stay as they were', async () => {
        const calendarId = await edit('Edit all', 'all', { title: 'Renamed' });
        const stored = await f.serverOccurrences(calendarId, EDIT_RANGE);
        assert.deepEqual(stored.map((o) => [o.start, o.end]), SERIES_AS_SEEDED.map((o) => [o.start, o.end]));
        assert.deepEqual(stored.filter((o) => o.start !== MOVED_EARLY.start && o.start !== MOVED_LATE.start).map((o) => o.title), ['Renamed', 'Renamed', 'Renamed', 'Renamed']);
        assert.deepEqual((await list(calendarId, EDIT_RANGE)).map(asOccurrence), stored, 'as the adapter lists them');
      });

      promise('delete this removes one occurrence; delete following removes the rest and keeps the earlier exceptions', async () => {
        const calendarId = await seededSeries('Delete modes');
        await f.provider.deleteEvent(f.ctx, refOf(calendarId, await occurrenceAt(calendarId, '2027-05-07T09:00')), 'this');
        await assertOccurrences(calendarId, [standup('03'), MOVED_EARLY, standup('08'), MOVED_LATE, standup('12')]);
        await f.provider.deleteEvent(f.ctx, refOf(calendarId, await occurrenceAt(calendarId, '2027-05-08T09:00')), 'following');
        await assertOccurrences(calendarId, [standup('03'), MOVED_EARLY]);
      });
    });

    describe('occurrence counts', () => {
      const counted = (extra: Partial<SeedEvent>): SeedEvent => ({ title: 'Count', start: '2027-05-03T09:00', end: '2027-05-03T09:30', timeZone: BERLIN, rrule: 'FREQ=DAILY;COUNT=6', ...extra });

      async function splitAt(calendarId: string, wall: WallTime): Promise<void> {
        const target = await occurrenceAt(calendarId, wall);
        await f.provider.updateEvent(f.ctx, refOf(calendarId, target), { title: 'After' }, 'following');
      }

      promise('a COUNT series split with following after an EXDATE: both series together have exactly the original occurrences', async () => {
        const calendarId = await seededSeries('Count after EXDATE', counted({ exdates: ['2027-05-04T09:00'] }));
        await splitAt(calendarId, '2027-05-06T09:00');
        const c = (day: string, title: string): ServerOccurrence => occ(title, `2027-05-${day}T09:00`, `2027-05-${day}T09:30`);
        await assertOccurrences(calendarId, [c('03', 'Count'), c('05', 'Count'), c('06', 'After'), c('07', 'After'), c('08', 'After')]);
      });

      promise('a COUNT series split with following after an occurrence moved past the split point: exactly the original occurrences', async () => {
        const moved = { original: '2027-05-04T09:00', start: '2027-05-07T18:00', end: '2027-05-07T18:30', title: 'Moved' };
        const calendarId = await seededSeries('Count after move', counted({ moved: [moved] }));
        await splitAt(calendarId, '2027-05-06T09:00');
        const c = (day: string, title: string): ServerOccurrence => occ(title, `2027-05-${day}T09:00`, `2027-05-${day}T09:30`);
        await assertOccurrences(calendarId, [c('03', 'Count'), c('05', 'Count'), c('06', 'After'), c('07', 'After'), occ('Moved', moved.start, moved.end), c('08', 'After')]);
      });
    });

    describe('read-only calendars', () => {
      let writable: string;
      let readOnly: string;

      before(async () => {
        if (typeof f.readOnly === 'string') return;
        writable = await f.createCalendar('Writable');
        readOnly = await f.createCalendar('Shared read-only');
        await f.seed(readOnly, { title: 'Shared', start: '2027-05-20T10:00', end: '2027-05-20T11:00', timeZone: BERLIN });
        await f.readOnly.make(readOnly);
      });

      promise('a calendar the account may only read is listed with readOnly: true, a writable one with false', async (t) => {
        if (readOnlyUnsupported(t)) return;
        const calendars = await f.provider.listCalendars(f.ctx);
        const byId = new Map(calendars.map((c) => [c.id, c]));
        assert.equal(byId.get(readOnly)?.readOnly, true);
        assert.equal(byId.get(writable)?.readOnly, false);
      });

      promise('create, update and delete on it are READ_ONLY and change nothing', async (t) => {
        if (readOnlyUnsupported(t)) return;
        const before = await f.snapshot(readOnly);
        await assert.rejects(
          f.provider.createEvent(f.ctx, { calendarId: readOnly, title: 'Not allowed', start: new Date('2027-05-21T10:00:00Z'), end: new Date('2027-05-21T11:00:00Z'), allDay: false }),
          isCode('READ_ONLY'),
        );
        const [event] = await list(readOnly, EDIT_RANGE);
        assert.ok(event, 'the calendar can still be read');
        await assert.rejects(f.provider.updateEvent(f.ctx, refOf(readOnly, event), { title: 'Not allowed' }), isCode('READ_ONLY'));
        await assert.rejects(f.provider.deleteEvent(f.ctx, refOf(readOnly, event)), isCode('READ_ONLY'));
        assert.deepEqual(await f.snapshot(readOnly), before, 'nothing changed at the provider');
      });
    });

    describe('narrow ranges', () => {
      let calendarId: string;
      before(async () => {
        calendarId = await f.createCalendar('Narrow ranges');
        await f.seed(calendarId, { title: 'Weekly', start: '2026-01-05T09:00', end: '2026-01-05T10:00', timeZone: BERLIN, rrule: 'FREQ=WEEKLY' });
        await f.seed(calendarId, { title: 'Single', start: '2027-05-20T10:00', end: '2027-05-20T11:00', timeZone: BERLIN });
      });
      const range = (start: string, end: string) => ({ start: new Date(start), end: new Date(end) });

      promise('a range holding only a later occurrence of a series (not its DTSTART) returns that occurrence, and the series with singleEvents=false', async () => {
        // Monday 17 May 2027, 09:00 in Berlin is 07:00Z.
        const later = range('2027-05-17T06:00:00Z', '2027-05-17T08:00:00Z');
        assert.deepEqual((await list(calendarId, later)).map(asOccurrence), [occ('Weekly', '2027-05-17T09:00', '2027-05-17T10:00')]);
        const masters = await list(calendarId, later, false);
        assert.deepEqual(masters.map((e) => e.title), ['Weekly']);
        assert.equal(masters[0]!.recurringEventId, undefined);
      });

      promise('a range ending exactly at an event’s start, or starting exactly at its end, excludes it', async () => {
        const titles = async (start: string, end: string): Promise<string[]> => (await list(calendarId, range(start, end))).map((e) => e.title);
        // Single: 08:00Z–09:00Z on 20 May; Weekly: 07:00Z–08:00Z on Monday 24 May.
        assert.deepEqual(await titles('2027-05-20T07:00:00Z', '2027-05-20T08:00:00Z'), []);
        assert.deepEqual(await titles('2027-05-20T09:00:00Z', '2027-05-20T10:00:00Z'), []);
        assert.deepEqual(await titles('2027-05-20T07:00:00Z', '2027-05-20T08:00:01Z'), ['Single']);
        assert.deepEqual(await titles('2027-05-20T08:59:59Z', '2027-05-20T09:00:00Z'), ['Single']);
        assert.deepEqual(await titles('2027-05-24T06:00:00Z', '2027-05-24T07:00:00Z'), []);
        assert.deepEqual(await titles('2027-05-24T08:00:00Z', '2027-05-24T09:00:00Z'), []);
        assert.deepEqual(await titles('2027-05-24T07:59:59Z', '2027-05-24T08:00:00Z'), ['Weekly']);
      });

      promise('all-day events in a calendar 14 hours ahead of UTC: each is its UTC-midnight day on the wire and in ranges', async () => {
        const far = await f.createCalendar('Kiritimati', { timeZone: 'Pacific/Kiritimati' });
        await f.seed(far, { title: 'Holiday', start: '2027-05-21', end: '2027-05-22', allDay: true, timeZone: 'Pacific/Kiritimati' });
        await f.seed(far, { title: 'Thursdays', start: '2026-01-01', end: '2026-01-02', allDay: true, timeZone: 'Pacific/Kiritimati', rrule: 'FREQ=WEEKLY' });
        const seen = async (start: string, end: string): Promise<string[]> =>
          (await list(far, range(start, end))).map((e) => `${e.title} ${e.allDay ? 'all-day' : 'timed'} ${e.start}/${e.end}`);
        const holiday = 'Holiday all-day 2027-05-21T00:00:00.000Z/2027-05-22T00:00:00.000Z';
        const thursday = 'Thursdays all-day 2027-05-20T00:00:00.000Z/2027-05-21T00:00:00.000Z';
        assert.deepEqual(await seen('2027-05-21T00:00:00Z', '2027-05-21T01:00:00Z'), [holiday]);
        // Late on 21 May UTC: already 22 May in the calendar's zone, still the holiday on the wire.
        assert.deepEqual(await seen('2027-05-21T12:00:00Z', '2027-05-21T13:00:00Z'), [holiday]);
        assert.deepEqual(await seen('2027-05-20T12:00:00Z', '2027-05-21T00:00:00Z'), [thursday]);
        assert.deepEqual(await seen('2027-05-22T00:00:00Z', '2027-05-22T06:00:00Z'), []);
      });
    });

    describe('change feed', () => {
      const feedOf = (t: TestContext): ChangeFeed | undefined => {
        const feed = (f.provider as { changes?: ChangeFeed }).changes;
        if (!feed) t.skip('this adapter has no change feed yet: its reads stay live');
        return feed;
      };

      /**
       * Follows the feed to the end of a pass from `cursor`, applying each page to `mirror`
       * (unit key → unit) the way the sync engine does, relistings swept included.
       */
      async function drain(feed: ChangeFeed, calendarId: string, mirror: Map<string, MirrorUnit>, cursor?: string): Promise<{ cursor: string; upserts: number }> {
        let seen = new Set<string>();
        let relisting = false;
        let upserts = 0;
        for (let pages = 0; pages < 100; pages++) {
          const page = await feed.readChanges(f.ctx, {
            calendarId,
            ...(cursor !== undefined ? { cursor } : {}),
            window: EDIT_RANGE,
            pageSize: 50,
            knownVersions: async (keys) => new Map(keys.filter((k) => mirror.has(k)).map((k) => [k, mirror.get(k)!.version])),
          });
          if (page.full && !relisting) {
            relisting = true;
            seen = new Set();
          }
          for (const unit of page.upserts) {
            mirror.set(unit.key, unit);
            seen.add(unit.key);
          }
          upserts += page.upserts.length;
          for (const key of page.deletions) mirror.delete(key);
          for (const key of page.unchanged) seen.add(key);
          cursor = page.cursor;
          if (!page.more) {
            if (page.full) for (const key of [...mirror.keys()]) if (!seen.has(key)) mirror.delete(key);
            return { cursor, upserts };
          }
        }
        throw new Error('the feed did not end its pass');
      }

      const inOrder = (events: CalendarEvent[]): CalendarEvent[] =>
        [...events].sort((a, b) => Date.parse(a.start) - Date.parse(b.start) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const mirrored = (mirror: Map<string, MirrorUnit>, view: 'instances' | 'masters' = 'instances'): CalendarEvent[] => inOrder([...mirror.values()].flatMap((u) => u[view]));

      promise('a first pass holds exactly what a live read returns, in both views', async (t) => {
        const feed = feedOf(t);
        if (!feed) return;
        const calendarId = await seededSeries('Feed first pass');
        await f.seed(calendarId, { title: 'Single', start: '2027-05-20T10:00', end: '2027-05-20T11:00', timeZone: BERLIN });
        const mirror = new Map<string, MirrorUnit>();
        await drain(feed, calendarId, mirror);
        assert.deepEqual(mirrored(mirror), inOrder(await list(calendarId, EDIT_RANGE)), 'instances');
        assert.deepEqual(mirrored(mirror, 'masters'), inOrder(await list(calendarId, EDIT_RANGE, false)), 'masters');
        assert.deepEqual(mirrored(mirror).map(asOccurrence), await f.serverOccurrences(calendarId, EDIT_RANGE));
      });

      promise('additions, renames and removals made at the provider are in the next pass, which re-reads only what changed', async (t) => {
        const feed = feedOf(t);
        if (!feed) return;
        const calendarId = await f.createCalendar('Feed changes');
        const series = await f.seed(calendarId, SERIES);
        const doomed = await f.seed(calendarId, { title: 'To be removed', start: '2027-05-21T10:00', end: '2027-05-21T11:00', timeZone: BERLIN });
        await f.seed(calendarId, { title: 'Untouched', start: '2027-05-22T10:00', end: '2027-05-22T11:00', timeZone: BERLIN });
        const mirror = new Map<string, MirrorUnit>();
        const first = await drain(feed, calendarId, mirror);
        const quiet = await drain(feed, calendarId, mirror, first.cursor);
        assert.equal(quiet.upserts, 0, 'nothing changed, nothing re-read');

        await f.seed(calendarId, { title: 'Added', start: '2027-05-23T10:00', end: '2027-05-23T11:00', timeZone: BERLIN });
        await f.renameOnServer(calendarId, series, 'Standup (renamed)');
        await f.removeOnServer(calendarId, doomed);
        const next = await drain(feed, calendarId, mirror, quiet.cursor);
        assert.ok(next.upserts <= 2, `only the added event and the renamed series were re-read (${next.upserts} units)`);
        const titles = mirrored(mirror).map((e) => e.title);
        assert.ok(titles.includes('Added'));
        assert.ok(titles.includes('Standup (renamed)'));
        assert.ok(!titles.includes('To be removed'));
        assert.ok(titles.includes('Untouched'));
        assert.deepEqual(mirrored(mirror), inOrder(await list(calendarId, EDIT_RANGE)), 'the mirror equals a live read again');
        assert.deepEqual(mirrored(mirror).map(asOccurrence), await f.serverOccurrences(calendarId, EDIT_RANGE));
      });

      promise('a cursor the provider does not accept is CURSOR_INVALID', async (t) => {
        const feed = feedOf(t);
        if (!feed) return;
        const calendarId = await f.createCalendar('Feed cursor');
        await assert.rejects(
          feed.readChanges(f.ctx, { calendarId, cursor: 'not a cursor this provider issued', window: EDIT_RANGE, pageSize: 50, knownVersions: async () => new Map() }),
          isCode('CURSOR_INVALID'),
        );
      });
    });

    describe('through the API', () => {
      let server: TestServer;
      let a: ReturnType<typeof api>;
      let provider: string;

      before(async () => {
        provider = f.provider.id;
        server = await startServer({ env: f.serverEnv() });
        const client = await server.createClient();
        const session = await openConnect(server.url, { client_id: client.clientId, user_id: 'contract-user' });
        await f.connect(server, session);
        a = api(server.url, (await finishConnect(server.url, session, client)).access_token);
      });
      after(async () => {
        await server?.close();
      });

      const withIfMatch = async (method: 'PUT' | 'DELETE', etag: string, body: Record<string, unknown>) => {
        const res = await fetch(`${server.url}/api/event`, {
          method,
          headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json', 'if-match': etag },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };

      promise('API: a stale If-Match on PUT and DELETE /api/event is 409 and changes nothing', async () => {
        const calendarId = await f.createCalendar('API conditional');
        const seeded = await f.seed(calendarId, { title: 'Draft', start: '2027-05-20T10:00', end: '2027-05-20T11:00', timeZone: BERLIN });
        const listed = await a.events({ start: '2027-05-20T00:00:00Z', end: '2027-05-21T00:00:00Z', calendarIds: JSON.stringify({ [provider]: [calendarId] }) });
        assert.equal(listed.status, 200, JSON.stringify(listed.body));
        const event = listed.body.events[0];
        assert.ok(event, JSON.stringify(listed.body));
        await f.renameOnServer(calendarId, seeded, 'Changed elsewhere');
        const before = await f.snapshot(calendarId);
        const stale = event.original.etag as string;
        const put = await withIfMatch('PUT', stale, { provider, calendarId, eventId: event.id, title: 'Mine' });
        assert.equal(put.status, 409, JSON.stringify(put.body));
        const del = await withIfMatch('DELETE', stale, { provider, calendarId, eventId: event.id });
        assert.equal(del.status, 409, JSON.stringify(del.body));
        assert.deepEqual(await f.snapshot(calendarId), before, 'nothing changed at the provider');
      });

      promise('API: writes to a read-only calendar are 403 calendar_read_only; GET /api/calendars says readOnly', async (t) => {
        if (readOnlyUnsupported(t) || typeof f.readOnly === 'string') return;
        const calendarId = await f.createCalendar('API read-only');
        await f.seed(calendarId, { title: 'Shared', start: '2027-05-20T10:00', end: '2027-05-20T11:00', timeZone: BERLIN });
        await f.readOnly.make(calendarId);
        const calendars = await a.get('/api/calendars');
        assert.equal(calendars.status, 200);
        assert.equal(calendars.body.find((c: { id: string }) => c.id === calendarId)?.readOnly, true);
        const before = await f.snapshot(calendarId);
        const created = await a.post('/api/event', { provider, calendarId, title: 'Not allowed', start: '2027-05-21T10:00:00Z', end: '2027-05-21T11:00:00Z' });
        assert.equal(created.status, 403, JSON.stringify(created.body));
        assert.equal(created.body.error, 'calendar_read_only');
        const listed = await a.events({ start: '2027-05-20T00:00:00Z', end: '2027-05-21T00:00:00Z', calendarIds: JSON.stringify({ [provider]: [calendarId] }) });
        const event = listed.body.events[0];
        assert.ok(event, JSON.stringify(listed.body));
        const put = await a.put('/api/event', { provider, calendarId, eventId: event.id, title: 'Not allowed' });
        assert.equal(put.status, 403, JSON.stringify(put.body));
        assert.equal(put.body.error, 'calendar_read_only');
        assert.deepEqual(await f.snapshot(calendarId), before, 'nothing changed at the provider');
      });

      promise('API: GET /api/events for a range holding only a later occurrence of a weekly series returns it', async () => {
        const calendarId = await f.createCalendar('API weekly');
        await f.seed(calendarId, { title: 'Weekly', start: '2026-01-05T09:00', end: '2026-01-05T10:00', timeZone: BERLIN, rrule: 'FREQ=WEEKLY' });
        const res = await a.events({ start: '2027-05-17T00:00:00Z', end: '2027-05-18T00:00:00Z', calendarIds: JSON.stringify({ [provider]: [calendarId] }) });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(res.body.events.map((e: CalendarEvent) => [e.title, e.start]), [['Weekly', at('2027-05-17T09:00')]]);
      });
    });
  });
}
