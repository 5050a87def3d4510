import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CalendarEvent } from '../../src/domain/calendar.js';
import { createGuardedFetch } from '../../src/http/guarded-fetch.js';
import { createCaldavProvider } from '../../src/providers/caldav/index.js';
import { ProviderError, type BasicCredentials, type ProviderContext } from '../../src/providers/types.js';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { VTIMEZONE_BERLIN } from '../support/ics-fixtures.js';

const log = { debug() {}, info() {}, warn() {}, error() {} };
const provider = createCaldavProvider();
const USER = 'mail@example.com';

const BERLIN_TZ = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...VTIMEZONE_BERLIN, 'END:VCALENDAR'].join('\r\n');

function vcalendar(...lines: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//other client//EN', ...lines, 'END:VCALENDAR', ''].join('\r\n');
}

function isCode(code: ProviderError['code']) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ProviderError, `expected ProviderError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

function href(event: CalendarEvent): string {
  return (event.original as { href: string }).href;
}

function etag(event: CalendarEvent): string {
  return (event.original as { etag: string }).etag;
}

describe('CalDAV events against Radicale', { skip: RADICALE_SKIP }, () => {
  let radicale: RadicaleServer;
  let ctx: ProviderContext<BasicCredentials>;
  let work: string;
  let berlin: string;

  const list = async (calendarId: string, start: string, end: string, extra: { singleEvents?: boolean; pageSize?: number } = {}) =>
    (
      await provider.listEvents(ctx, {
        calendarId,
        start: new Date(start),
        end: new Date(end),
        singleEvents: extra.singleEvents ?? true,
        pageSize: extra.pageSize ?? 1000,
      })
    ).events;

  before(async () => {
    radicale = await startRadicale({ users: { [USER]: 'pw' } });
    work = await radicale.mkcalendar(USER, 'work', { displayName: 'Work' });
    berlin = await radicale.mkcalendar(USER, 'berlin', { displayName: 'Berlin', timezone: BERLIN_TZ });
    ctx = {
      credentials: { kind: 'basic', serverUrl: radicale.url, username: USER, password: 'pw', calendarHomeUrl: new URL(`/${USER}/`, radicale.url).toString() },
      fetch: createGuardedFetch({ allowPrivateNetworks: true }),
      log,
    };
  });

  after(async () => {
    await radicale?.stop();
  });

  test('create writes every field and reads them back', async () => {
    const custom = { crm: { id: 42, tags: ['a,b', 'c;d'] }, note: 'line 1\nline 2, with "quotes" \\ and ünïcødé' };
    const event = await provider.createEvent(ctx, {
      calendarId: work,
      title: 'Planning, Q3; final',
      description: 'Agenda:\n1. budget',
      location: 'Room 4, Building B',
      start: new Date('2026-06-10T13:00:00Z'),
      end: new Date('2026-06-10T14:30:00Z'),
      allDay: false,
      custom,
      conference: 'https://meet.google.com/abc-defg-hij',
      availability: 'free',
      privacy: 'private',
      status: 'tentative',
    });
    assert.equal(event.provider, 'caldav');
    assert.equal(event.calendarId, work);
    assert.equal(event.title, 'Planning, Q3; final');
    assert.equal(event.description, 'Agenda:\n1. budget');
    assert.equal(event.location, 'Room 4, Building B');
    assert.equal(event.start, '2026-06-10T13:00:00.000Z');
    assert.equal(event.end, '2026-06-10T14:30:00.000Z');
    assert.equal(event.allDay, false);
    assert.deepEqual(event.custom, custom);
    assert.equal(event.conference, 'https://meet.google.com/abc-defg-hij');
    assert.deepEqual(event.conferenceData, { provider: 'google-meet', url: 'https://meet.google.com/abc-defg-hij' });
    assert.equal(event.availability, 'free');
    assert.equal(event.privacy, 'private');
    assert.equal(event.status, 'tentative');
    assert.equal(event.link, href(event));
    assert.ok(event.lastModified);
    assert.ok(etag(event));
    assert.equal(event.recurringEventId, undefined);

    const raw = await radicale.get(USER, href(event));
    assert.equal(raw.status, 200);
    assert.match(raw.body, new RegExp(`UID:${event.id}`));
    assert.match(raw.body, /DTSTART:20260610T130000Z/);
    assert.match(raw.body, /TRANSP:TRANSPARENT/);
    assert.match(raw.body, /CLASS:PRIVATE/);
    assert.match(raw.body, /STATUS:TENTATIVE/);
    assert.match(raw.body, /CONFERENCE;[^\r\n]*VALUE=URI[^\r\n]*:https:\/\/meet\.google\.com\/abc-defg-hij/);
    assert.match(raw.body, /X-ALMANAC-CUSTOM/);

    const [listed] = await list(work, '2026-06-10T00:00:00Z', '2026-06-11T00:00:00Z');
    assert.deepEqual({ ...listed, original: undefined }, { ...event, original: undefined });
  });

  test('reads other clients\' events: DURATION, COLOR names, URL and vendor conference links', async () => {
    await radicale.put(
      USER,
      `${work}foreign.ics`,
      vcalendar(
        'BEGIN:VEVENT',
        'UID:foreign',
        'DTSTAMP:20260101T000000Z',
        'DTSTART:20260612T080000Z',
        'DURATION:PT1H30M',
        'SUMMARY:Sync',
        'COLOR:turquoise',
        'CLASS:CONFIDENTIAL',
        'STATUS:CONFIRMED',
        'TRANSP:OPAQUE',
        'URL:https://acme.zoom.us/j/987654321?pwd=x',
        'LAST-MODIFIED:20260110T101010Z',
        'END:VEVENT',
      ),
    );
    await radicale.put(
      USER,
      `${work}teams.ics`,
      vcalendar(
        'BEGIN:VEVENT',
        'UID:teams',
        'DTSTAMP:20260101T000000Z',
        'DTSTART:20260612T120000Z',
        'DTEND:20260612T123000Z',
        'SUMMARY:Teams call',
        'URL:https://example.com/agenda',
        'X-MICROSOFT-SKYPETEAMSMEETINGURL:https://teams.microsoft.com/l/meetup-join/abc',
        'END:VEVENT',
      ),
    );
    const events = await list(work, '2026-06-12T00:00:00Z', '2026-06-13T00:00:00Z');
    const foreign = events.find((e) => e.id === 'foreign')!;
    assert.deepEqual(
      [foreign.start, foreign.end, foreign.color, foreign.privacy, foreign.status, foreign.availability, foreign.lastModified],
      ['2026-06-12T08:00:00.000Z', '2026-06-12T09:30:00.000Z', '#40E0D0', 'confidential', 'confirmed', 'busy', '2026-01-10T10:10:10.000Z'],
    );
    assert.equal(foreign.conference, 'https://acme.zoom.us/j/987654321?pwd=x');
    assert.equal(foreign.conferenceData?.provider, 'zoom');
    const teams = events.find((e) => e.id === 'teams')!;
    assert.equal(teams.conferenceData?.provider, 'microsoft-teams');
    // The vendor's meeting property wins over a URL that is just a link.
    assert.equal(teams.conference, 'https://teams.microsoft.com/l/meetup-join/abc');
    assert.deepEqual(events.map((e) => e.id), ['foreign', 'teams'], 'sorted by start');
  });

  test('patch: omitted fields stay, null clears', async () => {
    const created = await provider.createEvent(ctx, {
      calendarId: work,
      title: 'Original',
      description: 'keep me',
      location: 'Somewhere',
      start: new Date('2026-06-11T09:00:00Z'),
      end: new Date('2026-06-11T10:00:00Z'),
      allDay: false,
      custom: { a: 1 },
      conference: 'https://zoom.us/j/123',
    });
    const updated = await provider.updateEvent(ctx, { calendarId: work, eventId: created.id }, { title: 'Renamed', location: null, custom: null, conference: null });
    assert.equal(updated.id, created.id);
    assert.equal(updated.title, 'Renamed');
    assert.equal(updated.description, 'keep me');
    assert.equal(updated.location, undefined);
    assert.equal(updated.custom, undefined);
    assert.equal(updated.conference, undefined);
    assert.equal(updated.start, created.start);
    assert.equal(updated.end, created.end);
    const raw = await radicale.get(USER, href(updated));
    assert.doesNotMatch(raw.body, /LOCATION|X-ALMANAC-CUSTOM|CONFERENCE|\r\nURL/);
    assert.match(raw.body, /SEQUENCE:1/);

    // Moving the start keeps the length.
    const moved = await provider.updateEvent(ctx, { calendarId: work, eventId: created.id }, { start: new Date('2026-06-11T15:00:00Z') });
    assert.equal(moved.start, '2026-06-11T15:00:00.000Z');
    assert.equal(moved.end, '2026-06-11T16:00:00.000Z');
  });

  test('all-day events are dates with an exclusive end', async () => {
    const event = await provider.createEvent(ctx, {
      calendarId: work,
      title: 'Holiday',
      start: new Date('2026-11-15T00:00:00Z'),
      end: new Date('2026-11-16T00:00:00Z'),
      allDay: true,
    });
    assert.equal(event.allDay, true);
    assert.equal(event.start, '2026-11-15T00:00:00.000Z');
    assert.equal(event.end, '2026-11-16T00:00:00.000Z');
    const raw = await radicale.get(USER, href(event));
    assert.match(raw.body, /DTSTART;VALUE=DATE:20261115/);
    assert.match(raw.body, /DTEND;VALUE=DATE:20261116/);

    await radicale.put(
      USER,
      `${work}trip.ics`,
      vcalendar('BEGIN:VEVENT', 'UID:trip', 'DTSTAMP:20260101T000000Z', 'DTSTART;VALUE=DATE:20261120', 'DTEND;VALUE=DATE:20261123', 'SUMMARY:Trip', 'END:VEVENT'),
    );
    await radicale.put(
      USER,
      `${work}birthday.ics`,
      vcalendar('BEGIN:VEVENT', 'UID:birthday', 'DTSTAMP:20260101T000000Z', 'DTSTART;VALUE=DATE:20261121', 'SUMMARY:No end', 'END:VEVENT'),
    );
    const events = await list(work, '2026-11-14T00:00:00Z', '2026-11-30T00:00:00Z');
    const byId = new Map(events.map((e) => [e.id, e]));
    assert.deepEqual([byId.get('trip')?.start, byId.get('trip')?.end, byId.get('trip')?.allDay], ['2026-11-20T00:00:00.000Z', '2026-11-23T00:00:00.000Z', true]);
    assert.deepEqual([byId.get('birthday')?.start, byId.get('birthday')?.end], ['2026-11-21T00:00:00.000Z', '2026-11-22T00:00:00.000Z']);
    // Turning a timed event into an all-day one writes dates.
    const timed = await provider.createEvent(ctx, { calendarId: work, title: 't', start: new Date('2026-11-25T10:00:00Z'), end: new Date('2026-11-25T11:00:00Z'), allDay: false });
    const flipped = await provider.updateEvent(ctx, { calendarId: work, eventId: timed.id }, { allDay: true });
    assert.deepEqual([flipped.allDay, flipped.start, flipped.end], [true, '2026-11-25T00:00:00.000Z', '2026-11-26T00:00:00.000Z']);
  });

  test('floating times are read in the calendar zone, else as UTC', async () => {
    const floating = vcalendar('BEGIN:VEVENT', 'UID:floating-1', 'DTSTAMP:20260101T000000Z', 'DTSTART:20260115T090000', 'DTEND:20260115T100000', 'SUMMARY:Floating', 'END:VEVENT');
    await radicale.put(USER, `${berlin}floating-1.ics`, floating);
    await radicale.put(USER, `${work}floating-1.ics`, floating);
    const [inBerlin] = await list(berlin, '2026-01-15T00:00:00Z', '2026-01-16T00:00:00Z');
    assert.deepEqual([inBerlin?.start, inBerlin?.end], ['2026-01-15T08:00:00.000Z', '2026-01-15T09:00:00.000Z']);
    const [inUtc] = await list(work, '2026-01-15T00:00:00Z', '2026-01-16T00:00:00Z');
    assert.deepEqual([inUtc?.start, inUtc?.end], ['2026-01-15T09:00:00.000Z', '2026-01-15T10:00:00.000Z']);
    // Editing keeps the time floating.
    await provider.updateEvent(ctx, { calendarId: berlin, eventId: 'floating-1' }, { start: new Date('2026-01-15T10:00:00Z'), end: new Date('2026-01-15T11:00:00Z') });
    const raw = await radicale.get(USER, `${berlin}floating-1.ics`);
    assert.match(raw.body, /DTSTART:20260115T110000\r\n/);
  });

  test('a weekly 09:00 Europe/Berlin series shifts its UTC instants across the DST change', async () => {
    const series = await provider.createEvent(ctx, {
      calendarId: work,
      title: 'Standup',
      start: new Date('2026-03-16T08:00:00Z'),
      end: new Date('2026-03-16T08:15:00Z'),
      allDay: false,
      timeZone: 'Europe/Berlin',
      recurrence: { frequency: 'WEEKLY', count: 4 },
    });
    assert.deepEqual(series.recurrence, { frequency: 'WEEKLY', count: 4 });
    const raw = await radicale.get(USER, href(series));
    assert.match(raw.body, /DTSTART;TZID=Europe\/Berlin:20260316T090000/);
    assert.match(raw.body, /BEGIN:VTIMEZONE\r\nTZID:Europe\/Berlin/);
    const instances = (await list(work, '2026-03-01T00:00:00Z', '2026-05-01T00:00:00Z')).filter((e) => e.recurringEventId === series.id);
    assert.deepEqual(
      instances.map((e) => e.start),
      ['2026-03-16T08:00:00.000Z', '2026-03-23T08:00:00.000Z', '2026-03-30T07:00:00.000Z', '2026-04-06T07:00:00.000Z'],
    );
    assert.deepEqual(instances.map((e) => e.id.split('::')[1]), ['20260316T080000Z', '20260323T080000Z', '20260330T070000Z', '20260406T070000Z']);

    // Other clients: a TZID with no VTIMEZONE (iCloud does this), and a Windows zone name (Outlook).
    for (const [uid, tzid] of [
      ['no-vtimezone', 'Europe/Berlin'],
      ['windows-zone', 'W. Europe Standard Time'],
    ]) {
      await radicale.put(
        USER,
        `${work}${uid}.ics`,
        vcalendar('BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', `DTSTART;TZID=${tzid}:20260323T090000`, `DTEND;TZID=${tzid}:20260323T100000`, 'RRULE:FREQ=WEEKLY;COUNT=2', 'SUMMARY:x', 'END:VEVENT'),
      );
      const found = (await list(work, '2026-03-20T00:00:00Z', '2026-04-05T00:00:00Z')).filter((e) => e.recurringEventId === uid);
      assert.deepEqual(found.map((e) => e.start), ['2026-03-23T08:00:00.000Z', '2026-03-30T07:00:00.000Z'], tzid);
    }
  });

  test('attendees map PARTSTAT and list the organizer', async () => {
    await radicale.put(
      USER,
      `${work}meeting.ics`,
      vcalendar(
        'BEGIN:VEVENT',
        'UID:meeting',
        'DTSTAMP:20260101T000000Z',
        'DTSTART:20260701T100000Z',
        'DTEND:20260701T110000Z',
        'SUMMARY:Review',
        'ORGANIZER;CN=Olga:mailto:olga@example.com',
        'ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.com',
        'ATTENDEE;PARTSTAT=DECLINED:mailto:carol@example.com',
        'ATTENDEE;PARTSTAT=TENTATIVE:mailto:dave@example.com',
        'ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:erin@example.com',
        'ATTENDEE:mailto:frank@example.com',
        'END:VEVENT',
      ),
    );
    const [meeting] = await list(work, '2026-07-01T00:00:00Z', '2026-07-02T00:00:00Z');
    assert.deepEqual(meeting?.attendees, [
      { email: 'olga@example.com', status: 'accepted', organizer: true },
      { email: 'bob@example.com', status: 'accepted' },
      { email: 'carol@example.com', status: 'declined' },
      { email: 'dave@example.com', status: 'tentative' },
      { email: 'erin@example.com', status: 'none' },
      { email: 'frank@example.com', status: 'none' },
    ]);
    // Replacing the list keeps known attendees' answers.
    const updated = await provider.updateEvent(ctx, { calendarId: work, eventId: 'meeting' }, { attendees: ['bob@example.com', 'zoe@example.com'] });
    assert.deepEqual(updated.attendees, [
      { email: 'olga@example.com', status: 'accepted', organizer: true },
      { email: 'bob@example.com', status: 'accepted' },
      { email: 'zoe@example.com', status: 'none' },
    ]);

    // Our own invitations name the account as organizer.
    const invite = await provider.createEvent(ctx, {
      calendarId: work,
      title: 'Invite',
      start: new Date('2026-07-02T10:00:00Z'),
      end: new Date('2026-07-02T11:00:00Z'),
      allDay: false,
      attendees: ['bob@example.com'],
    });
    assert.deepEqual(invite.attendees, [
      { email: USER, status: 'accepted', organizer: true },
      { email: 'bob@example.com', status: 'none' },
    ]);
    await assert.rejects(
      provider.updateEvent(ctx, { calendarId: work, eventId: invite.id }, { attendees: ['not an email'] }),
      isCode('INVALID_INPUT'),
    );
  });

  test('pages walk the range once, in start order', async () => {
    const paged = await radicale.mkcalendar(USER, 'paged', { displayName: 'Paged' });
    const expected = new Set<string>();
    for (let i = 0; i < 23; i++) {
      // Several events share a start to exercise the tie-break.
      const start = new Date(Date.UTC(2026, 7, 1 + Math.floor(i / 3), 9 + (i % 2)));
      const created = await provider.createEvent(ctx, { calendarId: paged, title: `e${i}`, start, end: new Date(start.getTime() + 3600_000), allDay: false });
      expected.add(created.id);
    }
    const daily = await provider.createEvent(ctx, {
      calendarId: paged,
      title: 'daily',
      start: new Date('2026-08-01T07:00:00Z'),
      end: new Date('2026-08-01T07:30:00Z'),
      allDay: false,
      timeZone: 'UTC',
      recurrence: { frequency: 'DAILY', count: 10 },
    });
    for (let d = 1; d <= 10; d++) expected.add(`${daily.id}::202608${String(d).padStart(2, '0')}T070000Z`);

    const seen: CalendarEvent[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const page = await provider.listEvents(ctx, {
        calendarId: paged,
        start: new Date('2026-08-01T00:00:00Z'),
        end: new Date('2026-09-01T00:00:00Z'),
        singleEvents: true,
        pageSize: 7,
        ...(pageToken ? { pageToken } : {}),
      });
      assert.ok(page.events.length <= 7);
      seen.push(...page.events);
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken && pages < 20);
    assert.equal(pages, Math.ceil(33 / 7));
    assert.deepEqual(new Set(seen.map((e) => e.id)), expected);
    assert.equal(seen.length, expected.size, 'no event twice');
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i - 1]!.start <= seen[i]!.start, 'non-decreasing start');

    await assert.rejects(
      provider.listEvents(ctx, { calendarId: paged, start: new Date('2026-08-01T00:00:00Z'), end: new Date('2026-09-01T00:00:00Z'), singleEvents: true, pageSize: 7, pageToken: 'garbage!' }),
      isCode('CURSOR_INVALID'),
    );
  });

  test('a change behind the adapter\'s back makes the write a CONFLICT', async () => {
    const created = await provider.createEvent(ctx, { calendarId: work, title: 'Contested', start: new Date('2026-09-01T10:00:00Z'), end: new Date('2026-09-01T11:00:00Z'), allDay: false });
    const [seen] = (await list(work, '2026-09-01T00:00:00Z', '2026-09-02T00:00:00Z')).filter((e) => e.id === created.id);
    const raw = await radicale.get(USER, href(created));
    const changed = await radicale.put(USER, href(created), raw.body.replace('SUMMARY:Contested', 'SUMMARY:Changed elsewhere'), { 'if-match': raw.etag! });
    assert.equal(changed.status, 201);

    await assert.rejects(provider.updateEvent(ctx, { calendarId: work, eventId: created.id, etag: etag(seen!) }, { title: 'Mine' }), isCode('CONFLICT'));
    await assert.rejects(provider.deleteEvent(ctx, { calendarId: work, eventId: created.id, etag: etag(seen!) }), isCode('CONFLICT'));
    assert.match((await radicale.get(USER, href(created))).body, /SUMMARY:Changed elsewhere/);

    // Without a caller ETag the adapter still guards its own read-modify-write: a change
    // landing between its GET and its PUT is refused, not overwritten.
    let raced = false;
    const racingFetch: typeof fetch = async (input, init) => {
      if (init?.method === 'PUT' && !raced) {
        raced = true;
        const current = await radicale.get(USER, href(created));
        await radicale.put(USER, href(created), current.body.replace('SUMMARY:Changed elsewhere', 'SUMMARY:Raced'), { 'if-match': current.etag! });
      }
      return ctx.fetch(input, init);
    };
    await assert.rejects(provider.updateEvent({ ...ctx, fetch: racingFetch }, { calendarId: work, eventId: created.id }, { title: 'Mine' }), isCode('CONFLICT'));
    assert.match((await radicale.get(USER, href(created))).body, /SUMMARY:Raced/);
  });

  test('events stored under another name or with an awkward UID are still found', async () => {
    const uid = 'Weird UID/with slash & spaces@other-client';
    await radicale.put(
      USER,
      `${work}some-other-name.ics`,
      vcalendar('BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', 'DTSTART:20261001T100000Z', 'DTEND:20261001T110000Z', 'SUMMARY:Elsewhere', 'END:VEVENT'),
    );
    const updated = await provider.updateEvent(ctx, { calendarId: work, eventId: uid }, { title: 'Found' });
    assert.equal(updated.id, uid);
    assert.equal(updated.title, 'Found');
    assert.equal(href(updated), `${work}some-other-name.ics`);
    await provider.deleteEvent(ctx, { calendarId: work, eventId: uid });
    assert.equal((await radicale.get(USER, `${work}some-other-name.ics`)).status, 404);
  });

  test('unknown events are NOT_FOUND', async () => {
    await assert.rejects(provider.updateEvent(ctx, { calendarId: work, eventId: 'nope' }, { title: 'x' }), isCode('NOT_FOUND'));
    await assert.rejects(provider.deleteEvent(ctx, { calendarId: work, eventId: 'nope' }), isCode('NOT_FOUND'));
    const single = await provider.createEvent(ctx, { calendarId: work, title: 's', start: new Date('2026-10-05T10:00:00Z'), end: new Date('2026-10-05T11:00:00Z'), allDay: false });
    await assert.rejects(
      provider.updateEvent(ctx, { calendarId: work, eventId: `${single.id}::20261005T100000Z` }, { title: 'x' }, 'this'),
      isCode('NOT_FOUND'),
    );
    await assert.rejects(
      provider.createEvent(ctx, { calendarId: work, title: 'bad', start: new Date('2026-10-05T10:00:00Z'), end: new Date('2026-10-05T09:00:00Z'), allDay: false }),
      isCode('INVALID_INPUT'),
    );
    await assert.rejects(
      provider.createEvent(ctx, { calendarId: work, title: 'bad', start: new Date('2026-10-05T10:00:00Z'), end: new Date('2026-10-05T11:00:00Z'), allDay: false, timeZone: 'Mars/Olympus' }),
      isCode('INVALID_INPUT'),
    );
  });
});
