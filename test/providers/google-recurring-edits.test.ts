import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CalendarEvent } from '../../src/domain/calendar.js';
import { ProviderError } from '../../src/providers/types.js';
import type { EventResource } from '../emulators/google/emulator-store.js';
import { startGoogleHarness } from '../emulators/google/google-test-harness.js';
import type { GoogleHarness } from '../emulators/google/google-test-harness.js';

describe('Google recurring edits: this / following / all', () => {
  let h: GoogleHarness;

  before(async () => {
    h = await startGoogleHarness({ timeZone: 'America/New_York' });
  });
  after(() => h.close());

  /** A fresh calendar with a daily 09:00 New York series of `count` from Mon 2025-11-03, and its instances. */
  async function series(rule: { count?: number; until?: string } = { count: 10 }, allDay = false): Promise<{ calendarId: string; master: CalendarEvent; instances: CalendarEvent[] }> {
    const calendarId = h.emulator.addCalendar(h.email, { summary: 'Series', timeZone: 'America/New_York' }).id;
    const master = await h.provider.createEvent(h.ctx, {
      calendarId,
      title: 'Standup',
      start: new Date(allDay ? '2025-11-03T00:00:00Z' : '2025-11-03T14:00:00Z'),
      end: new Date(allDay ? '2025-11-04T00:00:00Z' : '2025-11-03T14:15:00Z'),
      allDay,
      timeZone: 'America/New_York',
      attendees: ['bob@example.com'],
      custom: { team: 'core' },
      recurrence: { frequency: 'DAILY', ...rule },
    });
    return { calendarId, master, instances: await list(calendarId) };
  }

  async function list(calendarId: string): Promise<CalendarEvent[]> {
    const page = await h.provider.listEvents(h.ctx, {
      calendarId,
      start: new Date('2025-10-01T00:00:00Z'),
      end: new Date('2026-02-01T00:00:00Z'),
      singleEvents: true,
      pageSize: 1000,
    });
    assert.equal(page.nextPageToken, undefined);
    return page.events;
  }

  const stored = (calendarId: string): EventResource[] => h.emulator.store.stored(calendarId);
  const rruleOf = (e: EventResource | undefined): string | undefined => e?.recurrence?.find((l) => l.startsWith('RRULE:'));

  test('update this: the occurrence becomes an exception, the series is untouched, the change is conditional', async () => {
    const { calendarId, master, instances } = await series();
    const target = instances[2]!;
    h.emulator.requests.length = 0;
    const updated = await h.provider.updateEvent(h.ctx, { calendarId, eventId: target.id, recurringEventId: master.id }, { title: 'Demo day' }, 'this');
    assert.equal(updated.id, target.id);
    assert.equal(updated.title, 'Demo day');
    assert.equal(updated.recurringEventId, master.id);

    const exception = stored(calendarId).find((e) => e.id === target.id)!;
    assert.equal(exception.recurringEventId, master.id);
    assert.deepEqual(exception.originalStartTime, { dateTime: '2025-11-05T09:00:00-05:00', timeZone: 'America/New_York' });
    assert.equal(stored(calendarId).find((e) => e.id === master.id)!.summary, 'Standup');
    const patch = h.emulator.requests.find((r) => r.method === 'PATCH')!;
    assert.match(patch.ifMatch ?? '', /^"\d+"$/);

    const titles = (await list(calendarId)).map((e) => e.title);
    assert.deepEqual(titles.filter((t) => t === 'Demo day').length, 1);
    assert.equal(titles.length, 10);
  });

  test('update all from an occurrence: the master changes (built from the master), times shift by the occurrence’s move', async () => {
    const { calendarId, master, instances } = await series();
    const target = instances[4]!;
    const updated = await h.provider.updateEvent(
      h.ctx,
      { calendarId, eventId: target.id, recurringEventId: master.id },
      { title: 'Standup (new time)', start: new Date(Date.parse(target.start) + 3_600_000), end: new Date(Date.parse(target.end) + 2 * 3_600_000) },
      'all',
    );
    assert.equal(updated.id, master.id);
    const storedMaster = stored(calendarId).find((e) => e.id === master.id)!;
    assert.equal(storedMaster.summary, 'Standup (new time)');
    assert.deepEqual(storedMaster.start, { dateTime: '2025-11-03T10:00:00-05:00', timeZone: 'America/New_York' });
    assert.deepEqual(storedMaster.end, { dateTime: '2025-11-03T11:15:00-05:00', timeZone: 'America/New_York' });
    assert.equal(rruleOf(storedMaster), 'RRULE:FREQ=DAILY;COUNT=10');
    assert.deepEqual(storedMaster.extendedProperties, { private: { team: '"core"' } });
    assert.equal(stored(calendarId).length, 1, 'no exception created');
    const after = await list(calendarId);
    assert.equal(after.length, 10);
    assert.ok(after.every((e) => e.title === 'Standup (new time)' && e.start.endsWith('T15:00:00.000Z')));
  });

  test('update following: the series ends before the occurrence, a new series carries the rest', async () => {
    const { calendarId, master, instances } = await series({ count: 10 });
    const target = instances[3]!; // Thu 2025-11-06 09:00 New York
    const created = await h.provider.updateEvent(
      h.ctx,
      { calendarId, eventId: target.id, recurringEventId: master.id },
      { title: 'Standup v2', location: 'Room 2' },
      'following',
    );
    const all = stored(calendarId);
    assert.equal(all.length, 2);
    const oldMaster = all.find((e) => e.id === master.id)!;
    const newMaster = all.find((e) => e.id === created.id)!;
    assert.equal(rruleOf(oldMaster), 'RRULE:FREQ=DAILY;UNTIL=20251106T135959Z');
    assert.equal(rruleOf(newMaster), 'RRULE:FREQ=DAILY;COUNT=7');
    assert.deepEqual(newMaster.start, { dateTime: '2025-11-06T09:00:00-05:00', timeZone: 'America/New_York' });
    assert.equal(newMaster.summary, 'Standup v2');
    assert.equal(newMaster.location, 'Room 2');
    assert.deepEqual(newMaster.extendedProperties, { private: { team: '"core"' } });
    assert.deepEqual(newMaster.attendees?.map((a) => a.email), ['bob@example.com']);

    const after = await list(calendarId);
    assert.equal(after.length, 10);
    assert.deepEqual(after.map((e) => e.title), [...Array(3).fill('Standup'), ...Array(7).fill('Standup v2')]);
    assert.deepEqual(after.map((e) => e.start), instances.map((e) => e.start));
  });

  /** The occurrence of a listing that starts at `iso`. */
  const at = (events: CalendarEvent[], iso: string): CalendarEvent => {
    const found = events.find((e) => e.start === iso);
    assert.ok(found, `an occurrence at ${iso}`);
    return found;
  };
  /** Replaces the master's recurrence lines in Google's store (EXDATEs as other clients write them). */
  const setRecurrence = (calendarId: string, masterId: string, lines: string[]): void => {
    h.emulator.store.patch(calendarId, masterId, { recurrence: lines }, { conferenceDataVersion: 0, actorEmail: h.email });
  };
  const shown = (events: CalendarEvent[]): string[] => events.map((e) => `${e.start} ${e.title}${e.location ? ` @${e.location}` : ''}`);

  test('update following counts COUNT by slot: an occurrence moved past the split and excluded ones before it still count', async () => {
    const { calendarId, master, instances } = await series({ count: 10 });
    const ref = (e: CalendarEvent) => ({ calendarId, eventId: e.id, recurringEventId: master.id });
    // Tue Nov 4 moves to Mon Nov 10 15:00 New York; Wed Nov 5 is excluded by EXDATE; Thu Nov 6 is cancelled.
    await h.provider.updateEvent(h.ctx, ref(instances[1]!), { start: new Date('2025-11-10T20:00:00Z'), end: new Date('2025-11-10T20:15:00Z') }, 'this');
    setRecurrence(calendarId, master.id, ['RRULE:FREQ=DAILY;COUNT=10', 'EXDATE;TZID=America/New_York:20251105T090000']);
    await h.provider.deleteEvent(h.ctx, ref(instances[3]!), 'this');
    const before = await list(calendarId);
    assert.equal(before.length, 8);

    const created = await h.provider.updateEvent(h.ctx, ref(at(before, '2025-11-07T14:00:00.000Z')), { title: 'Standup v2' }, 'following');
    assert.equal(rruleOf(stored(calendarId).find((e) => e.id === created.id)), 'RRULE:FREQ=DAILY;COUNT=6', 'Nov 7 to Nov 12: ten minus the four slots before');
    const after = await list(calendarId);
    assert.deepEqual(after.map((e) => e.start), before.map((e) => e.start), 'both series together hold exactly the original occurrences');
    assert.deepEqual(
      after.filter((e) => e.title === 'Standup').map((e) => e.start),
      ['2025-11-03T14:00:00.000Z', '2025-11-10T20:00:00.000Z'],
      'the moved occurrence stays with the series its slot belongs to',
    );
  });

  test('update following keeps later exceptions: cancelled and excluded stay away, moved stays moved, retitled keeps its title', async () => {
    const { calendarId, master, instances } = await series({ count: 10 });
    const ref = (e: CalendarEvent) => ({ calendarId, eventId: e.id, recurringEventId: master.id });
    await h.provider.deleteEvent(h.ctx, ref(instances[5]!), 'this'); // Sat Nov 8
    await h.provider.updateEvent(h.ctx, ref(instances[6]!), { start: new Date('2025-11-09T20:00:00Z'), end: new Date('2025-11-09T20:15:00Z') }, 'this'); // Sun Nov 9 at 15:00
    await h.provider.updateEvent(h.ctx, ref(instances[7]!), { title: 'Demo day' }, 'this'); // Mon Nov 10
    setRecurrence(calendarId, master.id, ['RRULE:FREQ=DAILY;COUNT=10', 'EXDATE;TZID=America/New_York:20251111T090000']); // Tue Nov 11
    const before = await list(calendarId);
    assert.equal(before.length, 8);

    const created = await h.provider.updateEvent(h.ctx, ref(at(before, '2025-11-06T14:00:00.000Z')), { location: 'Room 2' }, 'following');
    const after = await list(calendarId);
    assert.deepEqual(shown(after), [
      '2025-11-03T14:00:00.000Z Standup',
      '2025-11-04T14:00:00.000Z Standup',
      '2025-11-05T14:00:00.000Z Standup',
      '2025-11-06T14:00:00.000Z Standup @Room 2',
      '2025-11-07T14:00:00.000Z Standup @Room 2',
      '2025-11-09T20:00:00.000Z Standup @Room 2',
      '2025-11-10T14:00:00.000Z Demo day @Room 2',
      '2025-11-12T14:00:00.000Z Standup @Room 2',
    ]);
    assert.ok(after.slice(3).every((e) => e.recurringEventId === created.id), 'the rest belongs to the new series');

    // In Google's own store: the new series excludes the cancelled and the excluded day, and holds the two exceptions.
    const newMaster = stored(calendarId).find((e) => e.id === created.id)!;
    assert.deepEqual(newMaster.recurrence, ['RRULE:FREQ=DAILY;COUNT=7', 'EXDATE;TZID=America/New_York:20251108T090000,20251111T090000']);
    const exceptions = stored(calendarId).filter((e) => e.recurringEventId === created.id);
    assert.deepEqual(
      exceptions.map((e) => [e.originalStartTime?.dateTime, e.start?.dateTime, e.summary, e['location']]).sort(),
      [
        ['2025-11-09T09:00:00-05:00', '2025-11-09T15:00:00-05:00', 'Standup', 'Room 2'],
        ['2025-11-10T09:00:00-05:00', '2025-11-10T09:00:00-05:00', 'Demo day', 'Room 2'],
      ],
    );
  });

  test('update following that moves the series’ time keeps later exceptions in their positions', async () => {
    const { calendarId, master, instances } = await series({ count: 10 });
    const ref = (e: CalendarEvent) => ({ calendarId, eventId: e.id, recurringEventId: master.id });
    await h.provider.deleteEvent(h.ctx, ref(instances[5]!), 'this'); // Sat Nov 8
    await h.provider.updateEvent(h.ctx, ref(instances[6]!), { start: new Date('2025-11-09T20:00:00Z'), end: new Date('2025-11-09T20:15:00Z') }, 'this'); // Sun Nov 9 at 15:00
    await h.provider.updateEvent(h.ctx, ref(instances[7]!), { title: 'Demo day' }, 'this'); // Mon Nov 10
    setRecurrence(calendarId, master.id, ['RRULE:FREQ=DAILY;COUNT=10', 'EXDATE;TZID=America/New_York:20251111T090000']); // Tue Nov 11

    // From Thu Nov 6 on the standup is at 10:00 New York.
    const created = await h.provider.updateEvent(h.ctx, ref(instances[3]!), { start: new Date('2025-11-06T15:00:00Z'), end: new Date('2025-11-06T15:15:00Z') }, 'following');
    assert.deepEqual(shown(await list(calendarId)), [
      '2025-11-03T14:00:00.000Z Standup',
      '2025-11-04T14:00:00.000Z Standup',
      '2025-11-05T14:00:00.000Z Standup',
      '2025-11-06T15:00:00.000Z Standup',
      '2025-11-07T15:00:00.000Z Standup',
      '2025-11-09T20:00:00.000Z Standup',
      '2025-11-10T15:00:00.000Z Demo day',
      '2025-11-12T15:00:00.000Z Standup',
    ]);
    assert.deepEqual(stored(calendarId).find((e) => e.id === created.id)!.recurrence, [
      'RRULE:FREQ=DAILY;COUNT=7',
      'EXDATE;TZID=America/New_York:20251108T100000,20251111T100000',
    ]);
  });

  test('update following from an occurrence changed on its own: the edit wins where it sets a field, the rest of its changes stay', async () => {
    const { calendarId, master, instances } = await series({ count: 5 });
    const ref = (e: CalendarEvent) => ({ calendarId, eventId: e.id, recurringEventId: master.id });
    await h.provider.updateEvent(h.ctx, ref(instances[2]!), { title: 'Demo day', location: 'Lab', start: new Date('2025-11-05T20:00:00Z'), end: new Date('2025-11-05T20:15:00Z') }, 'this');
    await h.provider.updateEvent(h.ctx, ref(instances[2]!), { title: 'Standup v2' }, 'following');
    assert.deepEqual(shown(await list(calendarId)), [
      '2025-11-03T14:00:00.000Z Standup',
      '2025-11-04T14:00:00.000Z Standup',
      '2025-11-05T20:00:00.000Z Standup v2 @Lab',
      '2025-11-06T14:00:00.000Z Standup v2',
      '2025-11-07T14:00:00.000Z Standup v2',
    ]);
  });

  test('all-day series: following keeps cancelled and excluded days as dates and counts them', async () => {
    const { calendarId, master, instances } = await series({ count: 8 }, true);
    const ref = (e: CalendarEvent) => ({ calendarId, eventId: e.id, recurringEventId: master.id });
    await h.provider.deleteEvent(h.ctx, ref(instances[1]!), 'this'); // Nov 4, before the split
    await h.provider.deleteEvent(h.ctx, ref(instances[5]!), 'this'); // Nov 8, after it
    setRecurrence(calendarId, master.id, ['RRULE:FREQ=DAILY;COUNT=8', 'EXDATE;VALUE=DATE:20251109']);
    const before = await list(calendarId);
    const created = await h.provider.updateEvent(h.ctx, ref(at(before, '2025-11-06T00:00:00.000Z')), { title: 'Later' }, 'following');
    assert.deepEqual(stored(calendarId).find((e) => e.id === created.id)!.recurrence, ['RRULE:FREQ=DAILY;COUNT=5', 'EXDATE;VALUE=DATE:20251108,20251109']);
    const after = await list(calendarId);
    assert.deepEqual(after.map((e) => e.start), before.map((e) => e.start));
    assert.deepEqual(after.map((e) => e.start.slice(0, 10)), ['2025-11-03', '2025-11-05', '2025-11-06', '2025-11-07', '2025-11-10']);
  });

  test('update this with a recurrence on an occurrence is INVALID_INPUT and writes nothing', async () => {
    const { calendarId, master, instances } = await series({ count: 3 });
    h.emulator.requests.length = 0;
    await assert.rejects(
      h.provider.updateEvent(h.ctx, { calendarId, eventId: instances[1]!.id }, { recurrence: { frequency: 'WEEKLY' } }, 'this'),
      (e: unknown) => e instanceof ProviderError && e.code === 'INVALID_INPUT',
    );
    assert.deepEqual(h.emulator.requests.filter((r) => r.method !== 'GET'), []);
    assert.equal(stored(calendarId).length, 1);
    assert.equal(rruleOf(stored(calendarId)[0]), 'RRULE:FREQ=DAILY;COUNT=3');
    assert.equal(master.id, stored(calendarId)[0]!.id);
  });

  test('the application’s ETag makes writes conditional: stale is CONFLICT and changes nothing, current writes', async () => {
    const event = await h.provider.createEvent(h.ctx, { calendarId: h.email, title: 'Draft', start: new Date('2025-11-12T15:00:00Z'), end: new Date('2025-11-12T16:00:00Z'), allDay: false });
    const seen = (event.original as EventResource).etag!;
    h.emulator.store.patch(h.email, event.id, { summary: 'Edited elsewhere' }, { conferenceDataVersion: 0, actorEmail: h.email });
    const isConflict = (e: unknown): boolean => e instanceof ProviderError && e.code === 'CONFLICT';
    await assert.rejects(h.provider.updateEvent(h.ctx, { calendarId: h.email, eventId: event.id, etag: seen }, { title: 'Mine' }), isConflict);
    await assert.rejects(h.provider.deleteEvent(h.ctx, { calendarId: h.email, eventId: event.id, etag: seen }), isConflict);
    assert.equal(h.emulator.store.storedEvent(h.email, event.id)!.summary, 'Edited elsewhere');
    assert.equal(h.emulator.store.storedEvent(h.email, event.id)!.status, 'confirmed');
    const current = h.emulator.store.storedEvent(h.email, event.id)!.etag!;
    // Copied without its quotes it still names the same version.
    const updated = await h.provider.updateEvent(h.ctx, { calendarId: h.email, eventId: event.id, etag: current.replaceAll('"', '') }, { title: 'Mine' });
    assert.equal(updated.title, 'Mine');
  });

  test('update following on an UNTIL series keeps the end; on the first occurrence it edits the whole series', async () => {
    const { calendarId, master, instances } = await series({ until: '20251112T235959Z' });
    const created = await h.provider.updateEvent(h.ctx, { calendarId, eventId: instances[5]!.id, recurringEventId: master.id }, { title: 'Later' }, 'following');
    assert.equal(rruleOf(stored(calendarId).find((e) => e.id === created.id)), 'RRULE:FREQ=DAILY;UNTIL=20251112T235959Z');
    assert.equal((await list(calendarId)).length, 10);

    const second = await series({ count: 3 });
    const whole = await h.provider.updateEvent(h.ctx, { calendarId: second.calendarId, eventId: second.instances[0]!.id, recurringEventId: second.master.id }, { title: 'Everything' }, 'following');
    assert.equal(whole.id, second.master.id);
    assert.equal(stored(second.calendarId).length, 1);
    assert.ok((await list(second.calendarId)).every((e) => e.title === 'Everything'));
  });

  test('all-day series: following ends the rule with a DATE the day before', async () => {
    const { calendarId, master, instances } = await series({ count: 6 }, true);
    await h.provider.deleteEvent(h.ctx, { calendarId, eventId: instances[2]!.id, recurringEventId: master.id }, 'following');
    assert.equal(rruleOf(stored(calendarId).find((e) => e.id === master.id)), 'RRULE:FREQ=DAILY;UNTIL=20251104');
    assert.deepEqual((await list(calendarId)).map((e) => e.start), ['2025-11-03T00:00:00.000Z', '2025-11-04T00:00:00.000Z']);
  });

  test('delete this: one occurrence cancelled, stored as a cancelled exception', async () => {
    const { calendarId, master, instances } = await series({ count: 5 });
    await h.provider.deleteEvent(h.ctx, { calendarId, eventId: instances[1]!.id, recurringEventId: master.id }, 'this');
    const exception = stored(calendarId).find((e) => e.id === instances[1]!.id)!;
    assert.equal(exception.status, 'cancelled');
    assert.equal(exception.recurringEventId, master.id);
    assert.equal(stored(calendarId).find((e) => e.id === master.id)!.status, 'confirmed');
    assert.deepEqual((await list(calendarId)).map((e) => e.id), instances.filter((_, i) => i !== 1).map((e) => e.id));
  });

  test('delete following: only the series end moves', async () => {
    const { calendarId, master, instances } = await series({ count: 5 });
    await h.provider.deleteEvent(h.ctx, { calendarId, eventId: instances[3]!.id, recurringEventId: master.id }, 'following');
    assert.equal(stored(calendarId).length, 1);
    assert.equal(rruleOf(stored(calendarId)[0]), 'RRULE:FREQ=DAILY;UNTIL=20251106T135959Z');
    assert.deepEqual((await list(calendarId)).map((e) => e.id), instances.slice(0, 3).map((e) => e.id));
  });

  test('delete all, or no mode, from an occurrence removes the whole series; a single event is just deleted', async () => {
    for (const mode of ['all', undefined] as const) {
      const { calendarId, master, instances } = await series({ count: 5 });
      await h.provider.deleteEvent(h.ctx, { calendarId, eventId: instances[2]!.id, recurringEventId: master.id }, mode);
      assert.equal(stored(calendarId).find((e) => e.id === master.id)!.status, 'cancelled');
      assert.deepEqual(await list(calendarId), []);
    }
    const single = await h.provider.createEvent(h.ctx, { calendarId: h.email, title: 'One', start: new Date('2025-11-10T15:00:00Z'), end: new Date('2025-11-10T16:00:00Z'), allDay: false });
    await h.provider.deleteEvent(h.ctx, { calendarId: h.email, eventId: single.id });
    assert.equal(h.emulator.store.storedEvent(h.email, single.id)!.status, 'cancelled');
    await assert.rejects(
      h.provider.deleteEvent(h.ctx, { calendarId: h.email, eventId: single.id }),
      (e: unknown) => e instanceof ProviderError && e.code === 'NOT_FOUND',
    );
    await assert.rejects(
      h.provider.updateEvent(h.ctx, { calendarId: h.email, eventId: single.id }, { title: 'x' }),
      (e: unknown) => e instanceof ProviderError && e.code === 'NOT_FOUND',
    );
  });

  test('a change made at Google between our read and our write is a CONFLICT (412), and nothing is overwritten', async () => {
    const event = await h.provider.createEvent(h.ctx, { calendarId: h.email, title: 'Original', start: new Date('2025-11-11T15:00:00Z'), end: new Date('2025-11-11T16:00:00Z'), allDay: false });
    const racing = {
      ...h.ctx,
      fetch: (async (input: string | URL | Request, init?: RequestInit) => {
        if (init?.method === 'PATCH') {
          // Someone else edits the event at Google just before our PATCH arrives.
          h.emulator.store.patch(h.email, event.id, { summary: 'Edited elsewhere' }, { conferenceDataVersion: 0, actorEmail: h.email });
        }
        return fetch(input, init);
      }) as typeof fetch,
    };
    await assert.rejects(
      h.provider.updateEvent(racing, { calendarId: h.email, eventId: event.id }, { title: 'Mine' }),
      (e: unknown) => e instanceof ProviderError && e.code === 'CONFLICT',
    );
    assert.equal(h.emulator.store.storedEvent(h.email, event.id)!.summary, 'Edited elsewhere');
  });
});
