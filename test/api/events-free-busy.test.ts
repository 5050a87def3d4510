import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CalendarEvent } from '../../src/domain/calendar.js';
import { sanitizeFreeBusy, toBusyBlock } from '../../src/api/events/sanitize-free-busy.js';
import { deleteResponse, listResponse, writeResponse } from '../../src/api/events/event-response.js';

const full: CalendarEvent = {
  provider: 'google',
  id: 'evt1',
  calendarId: 'me@example.com',
  title: 'Salary talk with Bob',
  description: 'secret',
  start: '2025-01-10T10:00:00.000Z',
  end: '2025-01-10T11:00:00.000Z',
  allDay: false,
  recurringEventId: 'series1',
  color: '#ff0000',
  location: 'Room 4',
  attendees: [{ email: 'bob@example.com', status: 'accepted' }],
  custom: { x: 1 },
  conference: 'https://meet.google.com/abc',
  conferenceData: { provider: 'google-meet', url: 'https://meet.google.com/abc' },
  availability: 'busy',
  privacy: 'private',
  status: 'confirmed',
  lastModified: '2025-01-01T00:00:00.000Z',
  link: 'https://calendar.google.com/event?eid=1',
  recurrence: { frequency: 'WEEKLY', byDay: ['MO'] },
  original: { summary: 'Salary talk with Bob' },
};

test('a busy block keeps only time and structure', () => {
  const block = toBusyBlock(full);
  assert.deepEqual(JSON.parse(JSON.stringify(block)), {
    provider: 'google',
    id: 'evt1',
    calendarId: 'me@example.com',
    title: '',
    start: '2025-01-10T10:00:00.000Z',
    end: '2025-01-10T11:00:00.000Z',
    allDay: false,
    recurringEventId: 'series1',
    recurrence: { frequency: 'WEEKLY', byDay: ['MO'] },
    availability: 'busy',
    status: 'confirmed',
  });
  assert.ok(!JSON.stringify(block).includes('Bob'));
  assert.ok(!JSON.stringify(block).includes('secret'));
});

test('free and cancelled events are left out; order kept', () => {
  const list: CalendarEvent[] = [
    { ...full, id: '1' },
    { ...full, id: '2', availability: 'free' },
    { ...full, id: '3', status: 'cancelled' },
    { ...full, id: '4', status: 'tentative', availability: undefined },
  ];
  assert.deepEqual(sanitizeFreeBusy(list).map((e) => e.id), ['1', '4']);
});

test('writeResponse: both shapes, success cannot be overridden', () => {
  const body = writeResponse(full);
  assert.equal(body.success, true);
  assert.equal(body.id, 'evt1');
  assert.equal(body.title, full.title);
  assert.deepEqual(body.event, full);
  const odd = writeResponse({ ...full, success: false } as unknown as CalendarEvent);
  assert.equal(odd.success, true);
});

test('deleteResponse and listResponse', () => {
  assert.deepEqual(deleteResponse(), { success: true, message: 'Event deleted successfully' });
  assert.deepEqual(listResponse([], 250), { events: [], pageSize: 250 });
  assert.deepEqual(
    listResponse([full], 10, 'tok', [{ provider: 'apple', account: 'a', code: 'TEMPORARY', message: 'down' }]),
    { events: [full], pageSize: 10, nextPageToken: 'tok', errors: [{ provider: 'apple', account: 'a', code: 'TEMPORARY', message: 'down' }] },
  );
});
