import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/domain/errors.js';
import {
  parseCreateEventBody,
  parseDeleteEventParams,
  parseUpdateEventBody,
} from '../../src/api/events/parse-event-body.js';

const base = {
  provider: 'google',
  calendarId: 'me@example.com',
  title: 'Standup',
  start: '2025-01-10T10:00:00Z',
  end: '2025-01-10T10:15:00Z',
};

type Details = Array<{ field: string; message: string }>;

function fails(fn: () => unknown, field: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ValidationError, `expected ValidationError, got ${String(err)}`);
    assert.equal(err.status, 400);
    const details = err.details as Details;
    assert.ok(
      details.some((d) => d.field === field),
      `expected an issue for ${field}, got ${JSON.stringify(details)}`,
    );
    if (message) assert.match(err.message, message);
    return true;
  });
}

// ---- create -----------------------------------------------------------------------------

test('create: minimal body', () => {
  const { provider, input } = parseCreateEventBody(base);
  assert.equal(provider, 'google');
  assert.deepEqual(input, {
    calendarId: 'me@example.com',
    title: 'Standup',
    start: new Date('2025-01-10T10:00:00Z'),
    end: new Date('2025-01-10T10:15:00Z'),
    allDay: false,
  });
});

test('create: every field', () => {
  const { input } = parseCreateEventBody({
    ...base,
    description: 'd',
    location: 'Room 1',
    timeZone: 'Europe/Paris',
    attendees: ['a@example.com', { email: 'B@example.com' }, 'A@EXAMPLE.COM'],
    recurrence: { frequency: 'monthly', interval: 2, until: '2025-12-31', byDay: ['1mo', '-1FR', '+2TU'], byMonthDay: 15, byMonth: [1, 6, 6] },
    custom: { crm: { id: 42 } },
    conference: { url: 'https://zoom.us/j/123?pwd=x', provider: 'zoom' },
    conferenceData: { provider: 'google-meet', autoGenerate: true },
    availability: 'free',
    privacy: 'private',
    status: 'tentative',
    unknownExtra: { ignored: true },
  });
  assert.equal(input.description, 'd');
  assert.equal(input.timeZone, 'Europe/Paris');
  assert.deepEqual(input.attendees, ['a@example.com', 'B@example.com']);
  assert.deepEqual(input.recurrence, {
    frequency: 'MONTHLY',
    interval: 2,
    until: '20251231T235959Z',
    byDay: ['1MO', '-1FR', '2TU'],
    byMonthDay: [15],
    byMonth: [1, 6],
  });
  assert.deepEqual(input.custom, { crm: { id: 42 } });
  assert.equal(input.conference, 'https://zoom.us/j/123?pwd=x');
  assert.deepEqual(input.conferenceData, { provider: 'google-meet', autoGenerate: true });
  assert.equal(input.availability, 'free');
  assert.equal(input.privacy, 'private');
  assert.equal(input.status, 'tentative');
  assert.ok(!('unknownExtra' in input));
});

test('create: null optional fields count as absent', () => {
  const { input } = parseCreateEventBody({ ...base, description: null, attendees: null, recurrence: null, custom: null });
  assert.ok(!('description' in input) && !('attendees' in input) && !('recurrence' in input) && !('custom' in input));
});

test('create: dates are normalised', () => {
  const { input } = parseCreateEventBody({ ...base, start: '2025-01-10 10:00 01:00', end: '2025-01-10T10:30' });
  assert.equal(input.start.toISOString(), '2025-01-10T09:00:00.000Z');
  assert.equal(input.end.toISOString(), '2025-01-10T10:30:00.000Z');
});

test('create: all-day handling', () => {
  const cases: Array<[Record<string, unknown>, string, string]> = [
    [{ start: '2025-11-15', end: '2025-11-16' }, '2025-11-15', '2025-11-16'],
    [{ start: '2025-11-15', end: '2025-11-15' }, '2025-11-15', '2025-11-16'],
    [{ start: '2025-11-15', end: '2025-11-18', allDay: true }, '2025-11-15', '2025-11-18'],
    [{ start: '2025-11-15T00:00:00+02:00', end: '2025-11-16T00:00:00+02:00', allDay: true }, '2025-11-15', '2025-11-16'],
    [{ start: '2025-11-15T10:00:00Z', end: '2025-11-15T12:00:00Z', allDay: true }, '2025-11-15', '2025-11-16'],
  ];
  for (const [times, start, end] of cases) {
    const { input } = parseCreateEventBody({ ...base, ...times });
    assert.equal(input.allDay, true, JSON.stringify(times));
    assert.equal(input.start.toISOString(), `${start}T00:00:00.000Z`);
    assert.equal(input.end.toISOString(), `${end}T00:00:00.000Z`);
  }
  // Date-only with allDay: false is a timed event at midnight.
  const timed = parseCreateEventBody({ ...base, start: '2025-11-15', end: '2025-11-16', allDay: false }).input;
  assert.equal(timed.allDay, false);
  fails(() => parseCreateEventBody({ ...base, start: '2025-11-15', end: '2025-11-14' }), 'end', /must not be before start/);
});

test('create: zero-length timed events are allowed; end before start is not', () => {
  parseCreateEventBody({ ...base, end: base.start });
  fails(() => parseCreateEventBody({ ...base, end: '2025-01-10T09:59:59Z' }), 'end', /Invalid end: must not be before start/);
});

test('create: an RRULE string is accepted', () => {
  const { input } = parseCreateEventBody({ ...base, recurrence: 'RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;COUNT=10' });
  assert.deepEqual(input.recurrence, { frequency: 'WEEKLY', interval: 2, count: 10, byDay: ['MO', 'WE'] });
  const until = parseCreateEventBody({ ...base, recurrence: 'FREQ=DAILY;UNTIL=20250131T120000Z' }).input.recurrence;
  assert.equal(until?.until, '20250131T120000Z');
  const ymd = parseCreateEventBody({ ...base, recurrence: { frequency: 'DAILY', until: '20250131' } }).input.recurrence;
  assert.equal(ymd?.until, '20250131T235959Z');
  const iso = parseCreateEventBody({ ...base, recurrence: { frequency: 'DAILY', until: '2025-01-31T12:00:00+01:00' } }).input.recurrence;
  assert.equal(iso?.until, '20250131T110000Z');
});

const createBad: Array<[string, Record<string, unknown>, string, RegExp?]> = [
  ['missing provider', { provider: undefined }, 'provider'],
  ['unknown provider', { provider: 'yahoo' }, 'provider', /^Unknown provider "yahoo"/],
  ['provider of wrong type', { provider: 1 }, 'provider', /^Unknown provider/],
  ['missing calendarId', { calendarId: undefined }, 'calendarId', /Invalid calendarId: is required/],
  ['empty calendarId', { calendarId: '  ' }, 'calendarId'],
  ['calendarId number', { calendarId: 5 }, 'calendarId', /must be a string, got a number/],
  ['missing title', { title: undefined }, 'title'],
  ['null title', { title: null }, 'title'],
  ['title too long', { title: 'x'.repeat(1025) }, 'title'],
  ['title of wrong type', { title: ['a'] }, 'title', /got an array/],
  ['missing start', { start: undefined }, 'start'],
  ['missing end', { end: undefined }, 'end'],
  ['garbage start', { start: 'tomorrow' }, 'start', /Invalid start/],
  ['numeric start', { start: 1736503200000 }, 'start'],
  ['impossible end', { end: '2025-02-30T10:00:00Z' }, 'end'],
  ['allDay string', { allDay: 'true' }, 'allDay'],
  ['description too big', { description: 'é'.repeat(40_000) }, 'description', /bytes/],
  ['location too long', { location: 'x'.repeat(1025) }, 'location'],
  ['bad timeZone', { timeZone: 'Mars/Olympus' }, 'timeZone'],
  ['timeZone number', { timeZone: 1 }, 'timeZone'],
  ['attendees not array', { attendees: 'a@example.com' }, 'attendees'],
  ['attendee bad email', { attendees: ['a@example.com', 'not-an-email'] }, 'attendees[1]'],
  ['attendee no tld', { attendees: ['a@localhost'] }, 'attendees[0]'],
  ['attendee with spaces', { attendees: ['a b@example.com'] }, 'attendees[0]'],
  ['attendee number', { attendees: [5] }, 'attendees[0]'],
  ['attendee object without email', { attendees: [{ name: 'x' }] }, 'attendees[0]'],
  ['too many attendees', { attendees: Array.from({ length: 501 }, (_, i) => `a${i}@example.com`) }, 'attendees'],
  ['recurrence not object', { recurrence: 5 }, 'recurrence'],
  ['recurrence array', { recurrence: [] }, 'recurrence'],
  ['recurrence without frequency', { recurrence: {} }, 'recurrence.frequency'],
  ['bad frequency', { recurrence: { frequency: 'HOURLY' } }, 'recurrence.frequency'],
  ['interval 0', { recurrence: { frequency: 'DAILY', interval: 0 } }, 'recurrence.interval'],
  ['interval 1001', { recurrence: { frequency: 'DAILY', interval: 1001 } }, 'recurrence.interval'],
  ['interval string', { recurrence: { frequency: 'DAILY', interval: '2' } }, 'recurrence.interval'],
  ['count 0', { recurrence: { frequency: 'DAILY', count: 0 } }, 'recurrence.count'],
  ['count 1.5', { recurrence: { frequency: 'DAILY', count: 1.5 } }, 'recurrence.count'],
  ['count with until', { recurrence: { frequency: 'DAILY', count: 3, until: '20251231T000000Z' } }, 'recurrence', /count and until/],
  ['bad until', { recurrence: { frequency: 'DAILY', until: 'someday' } }, 'recurrence.until'],
  ['until before start', { recurrence: { frequency: 'DAILY', until: '20240101T000000Z' } }, 'recurrence.until', /before start/],
  ['bad byDay', { recurrence: { frequency: 'WEEKLY', byDay: ['XX'] } }, 'recurrence.byDay[0]'],
  ['byDay not array', { recurrence: { frequency: 'WEEKLY', byDay: 5 } }, 'recurrence.byDay'],
  ['ordinal byDay on WEEKLY', { recurrence: { frequency: 'WEEKLY', byDay: ['1MO'] } }, 'recurrence.byDay[0]', /MONTHLY or YEARLY/],
  ['ordinal 0', { recurrence: { frequency: 'MONTHLY', byDay: ['0MO'] } }, 'recurrence.byDay[0]'],
  ['ordinal 6 on MONTHLY', { recurrence: { frequency: 'MONTHLY', byDay: ['6MO'] } }, 'recurrence.byDay[0]'],
  ['ordinal 54 on YEARLY', { recurrence: { frequency: 'YEARLY', byDay: ['54MO'] } }, 'recurrence.byDay[0]'],
  ['byMonthDay 0', { recurrence: { frequency: 'MONTHLY', byMonthDay: 0 } }, 'recurrence.byMonthDay'],
  ['byMonthDay 32', { recurrence: { frequency: 'MONTHLY', byMonthDay: [1, 32] } }, 'recurrence.byMonthDay[1]'],
  ['byMonthDay -32', { recurrence: { frequency: 'MONTHLY', byMonthDay: -32 } }, 'recurrence.byMonthDay'],
  ['byMonthDay with WEEKLY', { recurrence: { frequency: 'WEEKLY', byMonthDay: 3 } }, 'recurrence.byMonthDay'],
  ['byMonth 13', { recurrence: { frequency: 'YEARLY', byMonth: 13 } }, 'recurrence.byMonth'],
  ['byMonth string', { recurrence: { frequency: 'YEARLY', byMonth: ['1'] } }, 'recurrence.byMonth[0]'],
  ['RRULE with unsupported part', { recurrence: 'FREQ=DAILY;BYHOUR=3' }, 'recurrence'],
  ['custom array', { custom: [1] }, 'custom'],
  ['custom string', { custom: '{}' }, 'custom'],
  ['custom too big', { custom: { blob: 'x'.repeat(8200) } }, 'custom'],
  ['conference javascript URL', { conference: 'javascript:alert(1)' }, 'conference'],
  ['conference ftp URL', { conference: 'ftp://example.com/x' }, 'conference'],
  ['conference not a URL', { conference: 'meet me' }, 'conference'],
  ['conference number', { conference: 7 }, 'conference'],
  ['conference object without url', { conference: { provider: 'zoom' } }, 'conference.url'],
  ['conference object bad url', { conference: { url: 'data:text/html,x' } }, 'conference.url'],
  ['conferenceData bad provider', { conferenceData: { provider: 'skype' } }, 'conferenceData.provider'],
  ['conferenceData autoGenerate string', { conferenceData: { provider: 'zoom', autoGenerate: 'yes' } }, 'conferenceData.autoGenerate'],
  ['conferenceData not object', { conferenceData: true }, 'conferenceData'],
  ['bad availability', { availability: 'busyish' }, 'availability'],
  ['bad privacy', { privacy: 'secret' }, 'privacy'],
  ['bad status', { status: 'maybe' }, 'status'],
];

for (const [name, change, field, message] of createBad) {
  test(`create rejects: ${name}`, () => {
    fails(() => parseCreateEventBody({ ...base, ...change }), field, message);
  });
}

test('create: body must be an object', () => {
  for (const body of [null, 'x', 5, [], [base]]) {
    fails(() => parseCreateEventBody(body), 'body', /Request body must be a JSON object/);
  }
  // No body at all (a JSON content type with zero bytes) says so.
  fails(() => parseCreateEventBody(undefined), 'body', /Request body is missing/);
  fails(() => parseUpdateEventBody(undefined), 'body', /Request body is missing/);
});

test('create: all problems are listed, the message names the first', () => {
  assert.throws(
    () => parseCreateEventBody({ provider: 'nope', title: 5, start: 'x', attendees: ['bad'], recurrence: { frequency: 'DAILY', count: -1 } }),
    (err: unknown) => {
      assert.ok(err instanceof ValidationError);
      const fields = (err.details as Details).map((d) => d.field);
      for (const f of ['provider', 'calendarId', 'title', 'start', 'end', 'attendees[0]', 'recurrence.count']) {
        assert.ok(fields.includes(f), `missing ${f} in ${fields.join(',')}`);
      }
      assert.match(err.message, /^Unknown provider "nope".*more problems, see details/);
      return true;
    },
  );
});

// ---- update -----------------------------------------------------------------------------

const ref = { provider: 'microsoft', calendarId: 'cal', eventId: 'evt' };

test('update: only the given fields, default mode all', () => {
  const req = parseUpdateEventBody({ ...ref, title: 'New' });
  assert.deepEqual(req, { provider: 'microsoft', ref: { calendarId: 'cal', eventId: 'evt' }, patch: { title: 'New' }, mode: 'all' });
});

test('update: null clears optional fields', () => {
  const { patch } = parseUpdateEventBody({
    ...ref,
    description: null,
    location: null,
    attendees: null,
    recurrence: null,
    custom: null,
    conference: null,
    conferenceData: null,
    availability: null,
    privacy: null,
    status: null,
    timeZone: null,
  });
  assert.deepEqual(patch, {
    description: null,
    location: null,
    attendees: null,
    recurrence: null,
    custom: null,
    conference: null,
    conferenceData: null,
    availability: null,
    privacy: null,
    status: null,
    timeZone: null,
  });
});

test('update: mode, recurringEventId, dates', () => {
  const req = parseUpdateEventBody({
    ...ref,
    recurringEventId: 'series',
    updateMode: 'following',
    start: '2025-03-01',
    end: '2025-03-02',
  });
  assert.equal(req.mode, 'following');
  assert.deepEqual(req.ref, { calendarId: 'cal', eventId: 'evt', recurringEventId: 'series' });
  assert.equal(req.patch.allDay, true);
  assert.equal(req.patch.start?.toISOString(), '2025-03-01T00:00:00.000Z');
  // A lone start: no allDay inferred, no ordering check possible.
  const lone = parseUpdateEventBody({ ...ref, start: '2025-03-01T10:00:00Z' });
  assert.ok(!('allDay' in lone.patch));
});

const updateBad: Array<[string, Record<string, unknown>, string]> = [
  ['missing provider', { provider: undefined }, 'provider'],
  ['missing eventId', { eventId: undefined }, 'eventId'],
  ['missing calendarId', { calendarId: undefined }, 'calendarId'],
  ['null eventId', { eventId: null }, 'eventId'],
  ['null title', { title: null }, 'title'],
  ['null start', { start: null }, 'start'],
  ['null allDay', { allDay: null }, 'allDay'],
  ['bad updateMode', { updateMode: 'some' }, 'updateMode'],
  ['end before start', { start: '2025-01-02T00:00:00Z', end: '2025-01-01T00:00:00Z' }, 'end'],
  ['recurringEventId number', { recurringEventId: 3 }, 'recurringEventId'],
];
for (const [name, change, field] of updateBad) {
  test(`update rejects: ${name}`, () => {
    fails(() => parseUpdateEventBody({ ...ref, ...change }), field);
  });
}

test('update: a recurrence with updateMode this is refused for an occurrence, kept for a single event or the series', () => {
  const rule = { frequency: 'WEEKLY' };
  for (const recurrence of [rule, null]) {
    fails(() => parseUpdateEventBody({ ...ref, recurringEventId: 'series', updateMode: 'this', recurrence }), 'recurrence', /^One occurrence cannot take a recurrence rule; use updateMode "following" or "all" to change the series$/);
  }
  // Without recurringEventId the request does not say it is an occurrence: the adapter decides.
  assert.deepEqual(parseUpdateEventBody({ ...ref, updateMode: 'this', recurrence: rule }).patch.recurrence, { frequency: 'WEEKLY' });
  // The series addressed by its own id.
  assert.equal(parseUpdateEventBody({ ...ref, recurringEventId: 'evt', updateMode: 'this', recurrence: rule }).mode, 'this');
  for (const updateMode of ['following', 'all', undefined]) {
    assert.ok(parseUpdateEventBody({ ...ref, recurringEventId: 'series', updateMode, recurrence: rule }).patch.recurrence);
  }
});

// ---- delete -----------------------------------------------------------------------------

test('delete: from the query, from the body, or both when they agree', () => {
  const want = { provider: 'apple', ref: { calendarId: 'c', eventId: 'e' }, mode: 'all' };
  const params = { provider: 'apple', calendarId: 'c', eventId: 'e' };
  assert.deepEqual(parseDeleteEventParams(params, undefined), want);
  assert.deepEqual(parseDeleteEventParams({}, params), want);
  assert.deepEqual(parseDeleteEventParams(params, params), want);
  assert.deepEqual(parseDeleteEventParams(new URLSearchParams(params), ''), want);
  assert.deepEqual(parseDeleteEventParams({ provider: 'apple' }, { calendarId: 'c', eventId: 'e', deleteMode: 'this' }), {
    ...want,
    mode: 'this',
  });
  const series = parseDeleteEventParams({ ...params, recurringEventId: 's', deleteMode: 'following' }, null);
  assert.deepEqual(series.ref, { calendarId: 'c', eventId: 'e', recurringEventId: 's' });
  assert.equal(series.mode, 'following');
});

test('delete: bad input', () => {
  const params = { provider: 'apple', calendarId: 'c', eventId: 'e' };
  fails(() => parseDeleteEventParams(params, { eventId: 'other' }), 'eventId', /differs between/);
  fails(() => parseDeleteEventParams({ ...params, eventId: ['a', 'b'] }, undefined), 'eventId', /more than once/);
  fails(() => parseDeleteEventParams(new URLSearchParams('provider=apple&calendarId=c&eventId=a&eventId=b'), undefined), 'eventId');
  fails(() => parseDeleteEventParams({ ...params, provider: 'aol' }, undefined), 'provider', /^Unknown provider/);
  fails(() => parseDeleteEventParams({ provider: 'apple', calendarId: 'c' }, undefined), 'eventId', /is required/);
  fails(() => parseDeleteEventParams({}, {}), 'provider');
  fails(() => parseDeleteEventParams(params, [1]), 'body');
  fails(() => parseDeleteEventParams({}, { ...params, eventId: 42 }), 'eventId', /must be a string/);
  fails(() => parseDeleteEventParams({ ...params, deleteMode: 'everything' }, undefined), 'deleteMode');
});
