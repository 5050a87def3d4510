import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CalendarEvent, EventInput } from '../../src/domain/calendar.js';
import { googleEventColorHex, googleEventColorId } from '../../src/providers/google/google-colors.js';
import { ProviderError } from '../../src/providers/types.js';
import { startGoogleHarness } from '../emulators/google/google-test-harness.js';
import type { GoogleHarness } from '../emulators/google/google-test-harness.js';

describe('Google event mapping, both ways', () => {
  let h: GoogleHarness;
  let cal: string;

  before(async () => {
    h = await startGoogleHarness({ timeZone: 'America/New_York' });
    cal = h.email;
  });
  after(() => h.close());

  const create = (input: Partial<EventInput>): Promise<CalendarEvent> =>
    h.provider.createEvent(h.ctx, {
      calendarId: cal,
      title: 'Event',
      start: new Date('2025-11-15T15:00:00Z'),
      end: new Date('2025-11-15T16:00:00Z'),
      allDay: false,
      ...input,
    });

  /** Reads an event back through events.list, as the API does. */
  async function reread(event: CalendarEvent, singleEvents = false): Promise<CalendarEvent> {
    const page = await h.provider.listEvents(h.ctx, {
      calendarId: cal,
      start: new Date(Date.parse(event.start) - 86_400_000),
      end: new Date(Date.parse(event.end) + 86_400_000),
      singleEvents,
      pageSize: 1000,
    });
    const found = page.events.find((e) => e.id === event.id);
    assert.ok(found, `event ${event.id} not listed`);
    return found;
  }

  test('every writable field reaches Google in Google’s shape and comes back unchanged', async () => {
    const created = await create({
      title: 'Planning',
      description: 'Quarterly planning',
      location: 'Room 4',
      timeZone: 'America/New_York',
      attendees: ['bob@example.com', 'carol@example.com'],
      recurrence: { frequency: 'WEEKLY', interval: 2, byDay: ['MO', 'WE'], until: '20251231T235959Z' },
      custom: { crmId: 'A-17' },
      availability: 'free',
      privacy: 'private',
      status: 'tentative',
      start: new Date('2025-11-17T15:00:00Z'),
      end: new Date('2025-11-17T16:30:00Z'),
    });
    const stored = h.emulator.store.storedEvent(cal, created.id)!;
    assert.deepEqual(stored.start, { dateTime: '2025-11-17T10:00:00-05:00', timeZone: 'America/New_York' });
    assert.deepEqual(stored.end, { dateTime: '2025-11-17T11:30:00-05:00', timeZone: 'America/New_York' });
    assert.equal(stored.summary, 'Planning');
    assert.equal(stored.description, 'Quarterly planning');
    assert.equal(stored.location, 'Room 4');
    assert.deepEqual(stored.recurrence, ['RRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=20251231T235959Z;BYDAY=MO,WE']);
    assert.deepEqual(stored.attendees, [
      { email: 'bob@example.com', responseStatus: 'needsAction' },
      { email: 'carol@example.com', responseStatus: 'needsAction' },
    ]);
    assert.deepEqual(stored.extendedProperties, { private: { crmId: '"A-17"' } });
    assert.equal(stored.transparency, 'transparent');
    assert.equal(stored.visibility, 'private');
    assert.equal(stored.status, 'tentative');

    for (const event of [created, await reread(created)]) {
      assert.equal(event.title, 'Planning');
      assert.equal(event.description, 'Quarterly planning');
      assert.equal(event.location, 'Room 4');
      assert.equal(event.start, '2025-11-17T15:00:00.000Z');
      assert.equal(event.end, '2025-11-17T16:30:00.000Z');
      assert.equal(event.allDay, false);
      assert.deepEqual(event.attendees, [
        { email: 'bob@example.com', status: 'none' },
        { email: 'carol@example.com', status: 'none' },
      ]);
      assert.deepEqual(event.custom, { crmId: 'A-17' });
      assert.equal(event.availability, 'free');
      assert.equal(event.privacy, 'private');
      assert.equal(event.status, 'tentative');
      assert.deepEqual(event.recurrence, { frequency: 'WEEKLY', interval: 2, byDay: ['MO', 'WE'], until: '20251231T235959Z' });
      assert.ok(event.lastModified && event.link);
      assert.equal((event.original as { id: string }).id, created.id);
    }
  });

  test('all-day events: dates with an exclusive end, midnight UTC in Almanac whatever the zone', async () => {
    const created = await create({ allDay: true, start: new Date('2025-11-15T00:00:00Z'), end: new Date('2025-11-17T00:00:00Z') });
    const stored = h.emulator.store.storedEvent(cal, created.id)!;
    assert.deepEqual(stored.start, { date: '2025-11-15' });
    assert.deepEqual(stored.end, { date: '2025-11-17' });
    const back = await reread(created, true);
    assert.equal(back.allDay, true);
    assert.equal(back.start, '2025-11-15T00:00:00.000Z');
    assert.equal(back.end, '2025-11-17T00:00:00.000Z');

    const series = await create({
      allDay: true,
      start: new Date('2025-12-01T00:00:00Z'),
      end: new Date('2025-12-02T00:00:00Z'),
      recurrence: { frequency: 'DAILY', until: '20251205T000000Z' },
    });
    // RFC 5545: an all-day rule's UNTIL is a DATE.
    assert.deepEqual(h.emulator.store.storedEvent(cal, series.id)!.recurrence, ['RRULE:FREQ=DAILY;UNTIL=20251205']);
    const page = await h.provider.listEvents(h.ctx, {
      calendarId: cal,
      start: new Date('2025-12-01T00:00:00Z'),
      end: new Date('2025-12-31T00:00:00Z'),
      singleEvents: true,
      pageSize: 100,
    });
    const instances = page.events.filter((e) => e.recurringEventId === series.id);
    assert.deepEqual(
      instances.map((e) => [e.id, e.start]),
      [1, 2, 3, 4, 5].map((d) => [`${series.id}_2025120${d}`, `2025-12-0${d}T00:00:00.000Z`]),
    );
  });

  test('times in other zones: the instant is kept, Google gets the wall time and zone', async () => {
    const created = await create({ timeZone: 'Asia/Kolkata', start: new Date('2025-11-20T04:30:00Z'), end: new Date('2025-11-20T05:00:00Z') });
    assert.deepEqual(h.emulator.store.storedEvent(cal, created.id)!.start, { dateTime: '2025-11-20T10:00:00+05:30', timeZone: 'Asia/Kolkata' });
    assert.equal(created.start, '2025-11-20T04:30:00.000Z');
    const seeded = h.emulator.seedEvent(cal, {
      summary: 'offset differs from zone',
      start: { dateTime: '2025-11-21T09:00:00+09:00', timeZone: 'Europe/London' },
      end: { dateTime: '2025-11-21T10:00:00+09:00', timeZone: 'Europe/London' },
    });
    const back = await reread({ ...created, id: seeded.id, start: '2025-11-21T00:00:00.000Z', end: '2025-11-21T01:00:00.000Z' });
    assert.equal(back.start, '2025-11-21T00:00:00.000Z');
  });

  test('attendees are exactly Google’s guest list: the organizer only when Google lists it', async () => {
    const withOrganizer = h.emulator.seedEvent(cal, {
      summary: 'Guests',
      start: { dateTime: '2025-11-22T15:00:00Z' },
      end: { dateTime: '2025-11-22T16:00:00Z' },
      organizer: { email: 'boss@example.com', displayName: 'Boss' },
      attendees: [
        { email: 'boss@example.com', organizer: true, responseStatus: 'accepted' },
        { email: 'ada@example.com', self: true, responseStatus: 'tentative' },
        { email: 'x@example.com', responseStatus: 'declined' },
        { email: 'y@example.com', responseStatus: 'needsAction', optional: true },
      ],
    });
    const back = await reread({ id: withOrganizer.id, start: '2025-11-22T15:00:00Z', end: '2025-11-22T16:00:00Z' } as CalendarEvent);
    assert.deepEqual(back.attendees, [
      { email: 'boss@example.com', status: 'accepted', organizer: true },
      { email: 'ada@example.com', status: 'tentative' },
      { email: 'x@example.com', status: 'declined' },
      { email: 'y@example.com', status: 'none' },
    ]);

    const organizerNotGuest = h.emulator.seedEvent(cal, {
      summary: 'No guests listed',
      start: { dateTime: '2025-11-22T17:00:00Z' },
      end: { dateTime: '2025-11-22T18:00:00Z' },
      organizer: { email: 'ada@example.com', self: true },
      attendees: [{ email: 'z@example.com', responseStatus: 'accepted' }],
    });
    const back2 = await reread({ id: organizerNotGuest.id, start: '2025-11-22T17:00:00Z', end: '2025-11-22T18:00:00Z' } as CalendarEvent);
    assert.deepEqual(back2.attendees, [{ email: 'z@example.com', status: 'accepted' }]);
  });

  test('an event organized by a group calendar maps sanely and can still be edited', async () => {
    const group = 'c_8f2a1b@group.calendar.google.com';
    const seeded = h.emulator.seedEvent(cal, {
      summary: 'Team offsite',
      start: { dateTime: '2025-11-23T15:00:00Z' },
      end: { dateTime: '2025-11-23T16:00:00Z' },
      organizer: { email: group, displayName: 'Team calendar', self: false },
      creator: { email: 'someone@example.com' },
      attendees: [
        { email: 'ada@example.com', self: true, responseStatus: 'accepted' },
        { email: 'bob@example.com', responseStatus: 'needsAction' },
      ],
    });
    const back = await reread({ id: seeded.id, start: '2025-11-23T15:00:00Z', end: '2025-11-23T16:00:00Z' } as CalendarEvent);
    assert.equal(back.title, 'Team offsite');
    assert.deepEqual(back.attendees, [
      { email: 'ada@example.com', status: 'accepted' },
      { email: 'bob@example.com', status: 'none' },
    ]);
    assert.ok(!back.attendees!.some((a) => a.email === group || a.organizer));
    assert.equal((back.original as { organizer: { email: string } }).organizer.email, group);

    const updated = await h.provider.updateEvent(h.ctx, { calendarId: cal, eventId: seeded.id }, { location: 'HQ' });
    assert.equal(updated.location, 'HQ');
    assert.equal(h.emulator.store.storedEvent(cal, seeded.id)!.organizer && (h.emulator.store.storedEvent(cal, seeded.id)!.organizer as { email: string }).email, group);
  });

  test('custom data round-trips through private extended properties as JSON strings', async () => {
    const custom = { text: 'x', number: 42, flag: true, nothing: null, nested: { list: [1, 'two', { three: 3 }] }, quoted: '"json"' };
    const created = await create({ custom });
    const stored = h.emulator.store.storedEvent(cal, created.id)!;
    assert.ok(Object.values(stored.extendedProperties!.private!).every((v) => typeof v === 'string'));
    assert.deepEqual(created.custom, custom);
    assert.deepEqual((await reread(created)).custom, custom);

    // Properties another application wrote as plain text come back as that text.
    const foreign = h.emulator.seedEvent(cal, {
      summary: 'foreign',
      start: { dateTime: '2025-11-24T15:00:00Z' },
      end: { dateTime: '2025-11-24T16:00:00Z' },
      extendedProperties: { private: { legacy: 'plain text', count: '7' }, shared: { ignored: 'yes' } },
    });
    const foreignBack = await reread({ id: foreign.id, start: '2025-11-24T15:00:00Z', end: '2025-11-24T16:00:00Z' } as CalendarEvent);
    assert.deepEqual(foreignBack.custom, { legacy: 'plain text', count: 7 });

    // A patch replaces custom as a whole; null clears it.
    const replaced = await h.provider.updateEvent(h.ctx, { calendarId: cal, eventId: created.id }, { custom: { only: 1 } });
    assert.deepEqual(replaced.custom, { only: 1 });
    assert.deepEqual(h.emulator.store.storedEvent(cal, created.id)!.extendedProperties, { private: { only: '1' } });
    const cleared = await h.provider.updateEvent(h.ctx, { calendarId: cal, eventId: created.id }, { custom: null });
    assert.equal(cleared.custom, undefined);
  });

  test('event colour ids map to Google’s palette', async () => {
    const expected: Record<string, string> = {
      '1': '#a4bdfc', '2': '#7ae7bf', '3': '#dbadff', '4': '#ff887c', '5': '#fbd75b', '6': '#ffb878',
      '7': '#46d6db', '8': '#e1e1e1', '9': '#5484ed', '10': '#51b749', '11': '#dc2127',
    };
    for (const [colorId, hex] of Object.entries(expected)) {
      const seeded = h.emulator.seedEvent(cal, { colorId, summary: 'c', start: { dateTime: '2025-11-25T15:00:00Z' }, end: { dateTime: '2025-11-25T16:00:00Z' } });
      const back = await reread({ id: seeded.id, start: '2025-11-25T15:00:00Z', end: '2025-11-25T16:00:00Z' } as CalendarEvent);
      assert.equal(back.color, hex);
      assert.equal(googleEventColorId(hex), colorId);
    }
    assert.equal(googleEventColorHex('99'), undefined);
    assert.equal(googleEventColorId('#dc2128'), '11');
    assert.equal(googleEventColorId('not a colour'), undefined);
    const plain = await create({});
    assert.equal(plain.color, undefined);
  });

  test('conferenceData.autoGenerate creates a Meet (conferenceDataVersion=1) and maps it to conference + conferenceData', async () => {
    h.emulator.requests.length = 0;
    const created = await create({ conferenceData: { provider: 'google-meet', autoGenerate: true } });
    const insert = h.emulator.requests.find((r) => r.method === 'POST')!;
    assert.equal(insert.query.conferenceDataVersion, '1');
    const stored = h.emulator.store.storedEvent(cal, created.id)!;
    assert.match(String(stored.hangoutLink), /^https:\/\/meet\.google\.com\/[a-z]{3}-[a-z]{4}-[a-z]{3}$/);
    assert.equal(created.conference, stored.hangoutLink);
    assert.equal(created.conferenceData?.provider, 'google-meet');
    assert.equal(created.conferenceData?.url, stored.hangoutLink);
    assert.deepEqual((await reread(created)).conference, created.conference);

    h.emulator.store.meetCreation = 'pending';
    try {
      const pending = await create({ conferenceData: { provider: 'google-meet', autoGenerate: true } });
      assert.equal(pending.conference, undefined);
      assert.deepEqual(pending.conferenceData, { provider: 'google-meet', status: 'pending' });
    } finally {
      h.emulator.store.meetCreation = 'success';
    }

    await assert.rejects(create({ conferenceData: { provider: 'zoom', autoGenerate: true } }), (e: unknown) => e instanceof ProviderError && e.code === 'INVALID_INPUT');
  });

  test('conference URLs: an existing Meet attaches as Meet data, other links round-trip', async () => {
    const meet = await create({ conference: 'https://meet.google.com/abc-defg-hij' });
    assert.equal(h.emulator.store.storedEvent(cal, meet.id)!.hangoutLink, 'https://meet.google.com/abc-defg-hij');
    assert.deepEqual(meet.conferenceData, { provider: 'google-meet', url: 'https://meet.google.com/abc-defg-hij', conferenceId: 'abc-defg-hij' });

    const zoom = await create({ conference: 'https://us02web.zoom.us/j/123456' });
    const back = await reread(zoom);
    assert.equal(back.conference, 'https://us02web.zoom.us/j/123456');
    assert.equal(back.conferenceData?.provider, 'zoom');
    assert.equal(back.custom, undefined, 'bookkeeping stays out of custom');

    const addOn = h.emulator.seedEvent(cal, {
      summary: 'teams',
      start: { dateTime: '2025-11-26T15:00:00Z' },
      end: { dateTime: '2025-11-26T16:00:00Z' },
      conferenceData: {
        conferenceSolution: { key: { type: 'addOn' }, name: 'Microsoft Teams Meeting' },
        entryPoints: [{ entryPointType: 'video', uri: 'https://teams.microsoft.com/l/meetup-join/xyz' }],
      },
    });
    const teams = await reread({ id: addOn.id, start: '2025-11-26T15:00:00Z', end: '2025-11-26T16:00:00Z' } as CalendarEvent);
    assert.equal(teams.conferenceData?.provider, 'microsoft-teams');

    const removed = await h.provider.updateEvent(h.ctx, { calendarId: cal, eventId: meet.id }, { conference: null });
    assert.equal(removed.conference, undefined);
    assert.equal(h.emulator.store.storedEvent(cal, meet.id)!.hangoutLink, undefined);
  });

  test('patch semantics: omitted fields stay, null clears, guests keep their answers, all-day switches cleanly', async () => {
    const created = await create({ title: 'Keep', description: 'Drop me', location: 'Here', attendees: ['bob@example.com'] });
    // Bob answers at Google.
    const stored = h.emulator.store.storedEvent(cal, created.id)!;
    h.emulator.store.patch(cal, created.id, { attendees: [{ ...stored.attendees![0], responseStatus: 'accepted' }] }, { conferenceDataVersion: 0, actorEmail: h.email });

    const updated = await h.provider.updateEvent(h.ctx, { calendarId: cal, eventId: created.id }, {
      description: null,
      attendees: ['bob@example.com', 'dan@example.com'],
    });
    assert.equal(updated.title, 'Keep');
    assert.equal(updated.location, 'Here');
    assert.equal(updated.description, undefined);
    assert.deepEqual(updated.attendees, [
      { email: 'bob@example.com', status: 'accepted' },
      { email: 'dan@example.com', status: 'none' },
    ]);

    const allDay = await h.provider.updateEvent(h.ctx, { calendarId: cal, eventId: created.id }, {
      allDay: true,
      start: new Date('2025-11-28T00:00:00Z'),
      end: new Date('2025-11-29T00:00:00Z'),
    });
    assert.equal(allDay.allDay, true);
    const after = h.emulator.store.storedEvent(cal, created.id)!;
    assert.deepEqual(after.start, { date: '2025-11-28' });
    assert.deepEqual(after.end, { date: '2025-11-29' });

    const moved = await h.provider.updateEvent(h.ctx, { calendarId: cal, eventId: created.id }, { allDay: false, start: new Date('2025-11-28T14:00:00Z'), end: new Date('2025-11-28T15:00:00Z') });
    assert.equal(moved.allDay, false);
    assert.equal(moved.start, '2025-11-28T14:00:00.000Z');
  });

  test('invalid input is refused by Google and surfaces as INVALID_INPUT', async () => {
    await assert.rejects(
      create({ start: new Date('2025-11-15T16:00:00Z'), end: new Date('2025-11-15T15:00:00Z') }),
      (e: unknown) => e instanceof ProviderError && e.code === 'INVALID_INPUT',
    );
  });
});
