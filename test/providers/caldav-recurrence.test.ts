/**
 * Series edits on a real Radicale. Every result is checked twice: through the
 * adapter's listing, and in the stored iCalendar fetched with a plain GET.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CalendarEvent } from '../../src/domain/calendar.js';
import { createGuardedFetch } from '../../src/http/guarded-fetch.js';
import { createCaldavProvider } from '../../src/providers/caldav/index.js';
import { ProviderError, type BasicCredentials, type ProviderContext } from '../../src/providers/types.js';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { VTIMEZONE_BERLIN } from '../support/ics-fixtures.js';

const log = { debug() {}, info() {}, warn() {}, error() {} };
const provider = createCaldavProvider();

/**
 * Mondays 10:00 Europe/Berlin from 2 March 2026, ten times (to 4 May), across the
 * 29 March DST change: 16 March excluded, an extra Wednesday 18 March (RDATE), and
 * the 23 March occurrence moved to Tuesday 24 March 11:00 and renamed.
 */
function seriesIcs(uid: string): string {
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//other client//EN',
    ...VTIMEZONE_BERLIN,
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20260101T000000Z',
    'DTSTART;TZID=Europe/Berlin:20260302T100000',
    'DTEND;TZID=Europe/Berlin:20260302T110000',
    'RRULE:FREQ=WEEKLY;COUNT=10',
    'EXDATE;TZID=Europe/Berlin:20260316T100000',
    'RDATE;TZID=Europe/Berlin:20260318T100000',
    'SUMMARY:Weekly',
    'LOCATION:Room 1',
    'END:VEVENT',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20260101T000000Z',
    'RECURRENCE-ID;TZID=Europe/Berlin:20260323T100000',
    'DTSTART;TZID=Europe/Berlin:20260324T110000',
    'DTEND;TZID=Europe/Berlin:20260324T120000',
    'SUMMARY:Moved',
    'LOCATION:Room 1',
    'END:VEVENT',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20260101T000000Z',
    'RECURRENCE-ID;TZID=Europe/Berlin:20260330T100000',
    'DTSTART;TZID=Europe/Berlin:20260330T100000',
    'DTEND;TZID=Europe/Berlin:20260330T110000',
    'SUMMARY:Weekly',
    'LOCATION:Room 9',
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

/** UTC starts of the series as first stored. */
const INITIAL = [
  '2026-03-02T09:00:00.000Z',
  '2026-03-09T09:00:00.000Z',
  '2026-03-18T09:00:00.000Z', // RDATE
  '2026-03-24T10:00:00.000Z', // moved override (CET)
  '2026-03-30T08:00:00.000Z', // CEST from here on
  '2026-04-06T08:00:00.000Z',
  '2026-04-13T08:00:00.000Z',
  '2026-04-20T08:00:00.000Z',
  '2026-04-27T08:00:00.000Z',
  '2026-05-04T08:00:00.000Z',
];

function isCode(code: ProviderError['code']) {
  return (err: unknown): boolean => err instanceof ProviderError && err.code === code;
}

describe('recurring series against Radicale', { skip: RADICALE_SKIP }, () => {
  let radicale: RadicaleServer;
  let ctx: ProviderContext<BasicCredentials>;
  let calendar: string;

  async function list(singleEvents = true): Promise<CalendarEvent[]> {
    const page = await provider.listEvents(ctx, {
      calendarId: calendar,
      start: new Date('2026-02-01T00:00:00Z'),
      end: new Date('2026-06-01T00:00:00Z'),
      singleEvents,
      pageSize: 1000,
    });
    return page.events;
  }

  async function seed(): Promise<{ uid: string; url: string; instances: CalendarEvent[] }> {
    const uid = `series-${randomUUID()}`;
    const url = `${calendar}${uid}.ics`;
    const put = await radicale.put('alice', url, seriesIcs(uid));
    assert.equal(put.status, 201);
    const instances = (await list()).filter((e) => e.recurringEventId === uid);
    return { uid, url, instances };
  }

  function instance(instances: CalendarEvent[], start: string): CalendarEvent {
    const found = instances.find((e) => e.start === start);
    assert.ok(found, `no instance at ${start}`);
    return found;
  }

  async function raw(url: string): Promise<string> {
    const response = await radicale.get('alice', url);
    assert.equal(response.status, 200, `GET ${url}`);
    return response.body.replace(/\r\n[ \t]/g, '');
  }

  async function uidsOnServer(): Promise<Map<string, string>> {
    const events = await list(false);
    return new Map(events.map((e) => [e.id, (e.original as { href: string }).href]));
  }

  before(async () => {
    radicale = await startRadicale({ users: { alice: 'pw' } });
    calendar = await radicale.mkcalendar('alice', 'series', { displayName: 'Series' });
    ctx = {
      credentials: { kind: 'basic', serverUrl: radicale.url, username: 'alice', password: 'pw', calendarHomeUrl: `${radicale.url}alice/` },
      fetch: createGuardedFetch({ allowPrivateNetworks: true }),
      log,
    };
  });

  after(async () => {
    await radicale?.stop();
  });

  test('expansion honours EXDATE, RDATE, overrides and DST', async () => {
    const { uid, instances } = await seed();
    assert.deepEqual(instances.map((e) => e.start), INITIAL);
    const moved = instance(instances, '2026-03-24T10:00:00.000Z');
    assert.equal(moved.title, 'Moved');
    assert.equal(moved.id, `${uid}::20260323T090000Z`);
    assert.equal(moved.end, '2026-03-24T11:00:00.000Z');
    assert.equal(instance(instances, '2026-03-30T08:00:00.000Z').location, 'Room 9');
    for (const e of instances) assert.equal(e.recurringEventId, uid);

    const masters = (await list(false)).filter((e) => e.id === uid);
    assert.equal(masters.length, 1);
    assert.deepEqual(masters[0]!.recurrence, { frequency: 'WEEKLY', count: 10 });
    assert.equal(masters[0]!.start, '2026-03-02T09:00:00.000Z');
    assert.equal(masters[0]!.recurringEventId, undefined);

    // A window in the middle of the series sees only its part, the moved occurrence included.
    const middle = await provider.listEvents(ctx, {
      calendarId: calendar,
      start: new Date('2026-03-24T00:00:00Z'),
      end: new Date('2026-03-25T00:00:00Z'),
      singleEvents: true,
      pageSize: 100,
    });
    assert.deepEqual(middle.events.filter((e) => e.recurringEventId === uid).map((e) => e.title), ['Moved']);
  });

  test('"this" update adds an override with a RECURRENCE-ID in the series zone, and the id is stable', async () => {
    const { uid, url, instances } = await seed();
    const target = instance(instances, '2026-04-06T08:00:00.000Z');
    const updated = await provider.updateEvent(
      ctx,
      { calendarId: calendar, eventId: target.id, recurringEventId: uid },
      { title: 'Special', start: new Date('2026-04-06T12:00:00Z'), end: new Date('2026-04-06T13:00:00Z') },
      'this',
    );
    assert.equal(updated.id, target.id);
    assert.equal(updated.recurringEventId, uid);
    assert.equal(updated.title, 'Special');
    assert.equal(updated.start, '2026-04-06T12:00:00.000Z');

    const body = await raw(url);
    assert.match(body, /RECURRENCE-ID;TZID=Europe\/Berlin:20260406T100000/);
    assert.match(body, /DTSTART;TZID=Europe\/Berlin:20260406T140000/);
    assert.match(body, /SUMMARY:Special/);

    // The same id again edits the same override instead of adding a second one.
    await provider.updateEvent(ctx, { calendarId: calendar, eventId: target.id }, { location: 'Annex' }, 'this');
    const again = await raw(url);
    assert.equal(again.match(/RECURRENCE-ID/g)?.length, 3);
    const after = (await list()).filter((e) => e.recurringEventId === uid);
    const special = after.find((e) => e.id === target.id)!;
    assert.deepEqual([special.title, special.location, special.start], ['Special', 'Annex', '2026-04-06T12:00:00.000Z']);
    assert.equal(after.length, 10);
    assert.equal(after.filter((e) => e.title === 'Weekly').length, 8);
  });

  test('"this" delete adds an EXDATE and drops the override', async () => {
    const { uid, url, instances } = await seed();
    await provider.deleteEvent(ctx, { calendarId: calendar, eventId: instance(instances, '2026-04-13T08:00:00.000Z').id }, 'this');
    await provider.deleteEvent(ctx, { calendarId: calendar, eventId: instance(instances, '2026-03-24T10:00:00.000Z').id }, 'this');
    const body = await raw(url);
    assert.match(body, /EXDATE;TZID=Europe\/Berlin:20260413T100000/);
    assert.match(body, /EXDATE;TZID=Europe\/Berlin:20260323T100000/);
    assert.doesNotMatch(body, /RECURRENCE-ID;TZID=Europe\/Berlin:20260323T100000/);
    assert.doesNotMatch(body, /SUMMARY:Moved/);
    const starts = (await list()).filter((e) => e.recurringEventId === uid).map((e) => e.start);
    assert.deepEqual(starts, INITIAL.filter((s) => s !== '2026-04-13T08:00:00.000Z' && s !== '2026-03-24T10:00:00.000Z'));
    await assert.rejects(
      provider.deleteEvent(ctx, { calendarId: calendar, eventId: instance(instances, '2026-04-13T08:00:00.000Z').id }, 'this'),
      isCode('NOT_FOUND'),
    );
  });

  test('"following" update ends the master with UNTIL and starts a new UID', async () => {
    const { uid, url, instances } = await seed();
    const before = await uidsOnServer();
    const pivot = instance(instances, '2026-04-13T08:00:00.000Z');
    const result = await provider.updateEvent(
      ctx,
      { calendarId: calendar, eventId: pivot.id, recurringEventId: uid },
      { title: 'New era', start: new Date('2026-04-13T09:00:00Z'), end: new Date('2026-04-13T10:00:00Z') },
      'following',
    );
    assert.notEqual(result.id, uid);
    assert.equal(result.title, 'New era');
    assert.equal(result.start, '2026-04-13T09:00:00.000Z');
    assert.deepEqual(result.recurrence, { frequency: 'WEEKLY', count: 4 });

    const old = await raw(url);
    assert.match(old, /RRULE:FREQ=WEEKLY;UNTIL=20260413T075959Z\r\n/);
    assert.doesNotMatch(old, /COUNT=/);
    // Overrides before the split stay.
    assert.match(old, /RECURRENCE-ID;TZID=Europe\/Berlin:20260323T100000/);

    const after = await uidsOnServer();
    const created = [...after.keys()].filter((id) => !before.has(id));
    assert.deepEqual(created, [result.id]);
    const fresh = await raw(after.get(result.id)!);
    assert.match(fresh, new RegExp(`UID:${result.id}`));
    assert.match(fresh, /DTSTART;TZID=Europe\/Berlin:20260413T110000/);
    assert.match(fresh, /RRULE:FREQ=WEEKLY;COUNT=4/);
    assert.match(fresh, /BEGIN:VTIMEZONE/);
    assert.doesNotMatch(fresh, /RECURRENCE-ID/);

    const events = await list();
    assert.deepEqual(
      events.filter((e) => e.recurringEventId === uid).map((e) => e.start),
      INITIAL.slice(0, 6),
    );
    assert.deepEqual(
      events.filter((e) => e.recurringEventId === result.id).map((e) => [e.start, e.title]),
      [
        ['2026-04-13T09:00:00.000Z', 'New era'],
        ['2026-04-20T09:00:00.000Z', 'New era'],
        ['2026-04-27T09:00:00.000Z', 'New era'],
        ['2026-05-04T09:00:00.000Z', 'New era'],
      ],
    );
  });

  test('a split whose new series cannot be stored puts the old series back', async () => {
    const { uid, url, instances } = await seed();
    const original = await raw(url);
    const failingFetch: typeof fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      if (init?.method === 'PUT' && headers.get('if-none-match') === '*') return new Response('nope', { status: 507 });
      return ctx.fetch(input, init);
    };
    await assert.rejects(
      provider.updateEvent({ ...ctx, fetch: failingFetch }, { calendarId: calendar, eventId: instance(instances, '2026-04-13T08:00:00.000Z').id }, { title: 'x' }, 'following'),
      isCode('UNKNOWN'),
    );
    assert.equal(await raw(url), original);
    assert.deepEqual((await list()).filter((e) => e.recurringEventId === uid).map((e) => e.start), INITIAL);
  });

  test('"following" update before an override moves later overrides and EXDATEs to the new series, which keep what was their own', async () => {
    const { uid, url, instances } = await seed();
    const result = await provider.updateEvent(
      ctx,
      { calendarId: calendar, eventId: instance(instances, '2026-03-09T09:00:00.000Z').id },
      { location: 'New room' },
      'following',
    );
    const old = await raw(url);
    assert.match(old, /RRULE:FREQ=WEEKLY;UNTIL=20260309T085959Z/);
    assert.doesNotMatch(old, /RECURRENCE-ID/);
    assert.doesNotMatch(old, /EXDATE|RDATE/);
    const continuedIcs = await raw((result.original as { href: string }).href);
    assert.match(continuedIcs, /RECURRENCE-ID;TZID=Europe\/Berlin:20260323T100000/);
    assert.match(continuedIcs, /RECURRENCE-ID;TZID=Europe\/Berlin:20260330T100000/);
    assert.match(continuedIcs, /EXDATE;TZID=Europe\/Berlin:20260316T100000/);
    const events = await list();
    assert.deepEqual(events.filter((e) => e.recurringEventId === uid).map((e) => e.start), ['2026-03-02T09:00:00.000Z']);
    const continued = events.filter((e) => e.recurringEventId === result.id);
    // The same occurrences as before the split, from 9 March on: 16 March stays deleted, 18 March (RDATE) stays, 23 March stays moved.
    assert.deepEqual(continued.map((e) => e.start), INITIAL.slice(1));
    const moved = continued.find((e) => e.start === '2026-03-24T10:00:00.000Z')!;
    assert.deepEqual([moved.title, moved.location], ['Moved', 'New room'], 'the moved occurrence shared the location, so it takes the new one');
    const ownRoom = continued.find((e) => e.start === '2026-03-30T08:00:00.000Z')!;
    assert.equal(ownRoom.location, 'Room 9', 'an occurrence with a room of its own keeps it');
    for (const e of continued.filter((x) => x !== ownRoom)) assert.equal(e.location, 'New room');
  });

  test('"following" delete ends the series; on the first occurrence it deletes all', async () => {
    const { uid, url, instances } = await seed();
    const before = await uidsOnServer();
    await provider.deleteEvent(ctx, { calendarId: calendar, eventId: instance(instances, '2026-04-13T08:00:00.000Z').id }, 'following');
    const body = await raw(url);
    assert.match(body, /RRULE:FREQ=WEEKLY;UNTIL=20260413T075959Z\r\n/);
    assert.deepEqual([...(await uidsOnServer()).keys()].sort(), [...before.keys()].sort(), 'no new series');
    assert.deepEqual(
      (await list()).filter((e) => e.recurringEventId === uid).map((e) => e.start),
      INITIAL.slice(0, 6),
    );

    const second = await seed();
    await provider.deleteEvent(ctx, { calendarId: calendar, eventId: second.instances[0]!.id }, 'following');
    assert.equal((await radicale.get('alice', second.url)).status, 404);
  });

  test('"all" update moves the series and its overrides, and fills in fields the overrides shared', async () => {
    const { uid, url, instances } = await seed();
    const target = instance(instances, '2026-03-09T09:00:00.000Z');
    const updated = await provider.updateEvent(
      ctx,
      { calendarId: calendar, eventId: target.id, recurringEventId: uid },
      { title: 'Renamed', start: new Date('2026-03-09T10:00:00Z'), end: new Date('2026-03-09T11:00:00Z') },
      'all',
    );
    assert.equal(updated.id, uid);
    assert.equal(updated.title, 'Renamed');
    assert.equal(updated.start, '2026-03-02T10:00:00.000Z');

    const body = await raw(url);
    assert.match(body, /DTSTART;TZID=Europe\/Berlin:20260302T110000/);
    assert.match(body, /RRULE:FREQ=WEEKLY;COUNT=10/);
    assert.match(body, /EXDATE;TZID=Europe\/Berlin:20260316T110000/);
    assert.match(body, /RDATE;TZID=Europe\/Berlin:20260318T110000/);
    assert.match(body, /RECURRENCE-ID;TZID=Europe\/Berlin:20260323T110000/);
    assert.match(body, /RECURRENCE-ID;TZID=Europe\/Berlin:20260330T110000/);

    const after = (await list()).filter((e) => e.recurringEventId === uid);
    assert.deepEqual(
      after.map((e) => [e.start, e.title, e.location]),
      [
        ['2026-03-02T10:00:00.000Z', 'Renamed', 'Room 1'],
        ['2026-03-09T10:00:00.000Z', 'Renamed', 'Room 1'],
        ['2026-03-18T10:00:00.000Z', 'Renamed', 'Room 1'],
        // The moved occurrence keeps its own time and title.
        ['2026-03-24T10:00:00.000Z', 'Moved', 'Room 1'],
        // This override only changed the room: it takes the new title and moves with the series.
        ['2026-03-30T09:00:00.000Z', 'Renamed', 'Room 9'],
        ['2026-04-06T09:00:00.000Z', 'Renamed', 'Room 1'],
        ['2026-04-13T09:00:00.000Z', 'Renamed', 'Room 1'],
        ['2026-04-20T09:00:00.000Z', 'Renamed', 'Room 1'],
        ['2026-04-27T09:00:00.000Z', 'Renamed', 'Room 1'],
        ['2026-05-04T09:00:00.000Z', 'Renamed', 'Room 1'],
      ],
    );
  });

  test('"all" with a new rule replaces the overrides; delete without a mode removes the series', async () => {
    const { uid, url } = await seed();
    const updated = await provider.updateEvent(ctx, { calendarId: calendar, eventId: uid }, { recurrence: { frequency: 'DAILY', count: 3 } }, 'all');
    assert.deepEqual(updated.recurrence, { frequency: 'DAILY', count: 3 });
    const body = await raw(url);
    assert.doesNotMatch(body, /RECURRENCE-ID|EXDATE|RDATE/);
    assert.deepEqual(
      (await list()).filter((e) => e.recurringEventId === uid).map((e) => e.start),
      ['2026-03-02T09:00:00.000Z', '2026-03-03T09:00:00.000Z', '2026-03-04T09:00:00.000Z'],
    );
    const instanceId = `${uid}::20260303T090000Z`;
    await provider.deleteEvent(ctx, { calendarId: calendar, eventId: instanceId, recurringEventId: uid });
    assert.equal((await radicale.get('alice', url)).status, 404);
  });

  test('"this" on a series cannot take a rule', async () => {
    const { instances } = await seed();
    await assert.rejects(
      provider.updateEvent(ctx, { calendarId: calendar, eventId: instances[1]!.id }, { recurrence: { frequency: 'DAILY' } }, 'this'),
      isCode('INVALID_INPUT'),
    );
  });

  test('all-day series: DATE RECURRENCE-ID, EXDATE and UNTIL', async () => {
    const series = await provider.createEvent(ctx, {
      calendarId: calendar,
      title: 'Daily all-day',
      start: new Date('2026-05-10T00:00:00Z'),
      end: new Date('2026-05-11T00:00:00Z'),
      allDay: true,
      recurrence: { frequency: 'DAILY', until: '20260516T000000Z' },
    });
    const url = (series.original as { href: string }).href;
    assert.match(await raw(url), /RRULE:FREQ=DAILY;UNTIL=20260516\r\n/);
    const instances = (await list()).filter((e) => e.recurringEventId === series.id);
    assert.equal(instances.length, 7);
    assert.equal(instances[0]!.id, `${series.id}::20260510`);
    assert.deepEqual([instances[0]!.start, instances[0]!.end, instances[0]!.allDay], ['2026-05-10T00:00:00.000Z', '2026-05-11T00:00:00.000Z', true]);

    await provider.updateEvent(ctx, { calendarId: calendar, eventId: `${series.id}::20260511` }, { title: 'Different' }, 'this');
    await provider.deleteEvent(ctx, { calendarId: calendar, eventId: `${series.id}::20260512` }, 'this');
    await provider.deleteEvent(ctx, { calendarId: calendar, eventId: `${series.id}::20260515` }, 'following');
    const body = await raw(url);
    assert.match(body, /RECURRENCE-ID;VALUE=DATE:20260511/);
    assert.match(body, /EXDATE;VALUE=DATE:20260512/);
    assert.match(body, /RRULE:FREQ=DAILY;UNTIL=20260514\r\n/);
    const after = (await list()).filter((e) => e.recurringEventId === series.id);
    assert.deepEqual(
      after.map((e) => [e.id.split('::')[1], e.title]),
      [
        ['20260510', 'Daily all-day'],
        ['20260511', 'Different'],
        ['20260513', 'Daily all-day'],
        ['20260514', 'Daily all-day'],
      ],
    );
  });
});
