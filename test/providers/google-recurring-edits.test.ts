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
