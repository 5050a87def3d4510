import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlmanacError } from '../src/index.js';
import type { CalendarEvent, EventCreateData } from '../src/index.js';
import { bearer, json, makeClient, startServer } from './helpers.js';

const credentials = { access_token: 'acc-1', token_type: 'Bearer' };

function event(i: number): CalendarEvent {
  const start = new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString();
  return {
    provider: 'google',
    id: `e${i}`,
    calendarId: 'primary',
    title: `Event ${i}`,
    start,
    end: start,
    allDay: false,
    original: {},
  };
}

test('events.list serialises its parameters the way Mobiscroll does', async () => {
  const server = await startServer((_req, res) => json(res, 200, { events: [], pageSize: 0 }));
  try {
    const { client } = makeClient(server.baseUrl, { credentials });
    await client.events.list({
      start: new Date('2025-01-01T00:00:00Z'),
      end: '2025-01-31T23:59:59Z',
      pageSize: 50,
      calendarIds: { google: ['a@b.com'], microsoft: [] },
      singleEvents: false,
      nextPageToken: 'tok',
    });
    await client.events.list();
    const [full, empty] = server.requests;
    assert.equal(full?.path, '/api/events');
    assert.equal(bearer(full!), 'acc-1');
    assert.deepEqual(Object.fromEntries(full!.query), {
      pageSize: '50',
      start: '2025-01-01T00:00:00.000Z',
      end: '2025-01-31T23:59:59Z',
      calendarIds: '{"google":["a@b.com"],"microsoft":[]}',
      nextPageToken: 'tok',
      singleEvents: 'false',
    });
    assert.equal([...empty!.query.keys()].length, 0, 'no parameters, no query string');
  } finally {
    await server.close();
  }
});

test('create/update send JSON bodies; delete sends its parameters in the query string', async () => {
  const created = { success: true, ...event(1), event: event(1) };
  const server = await startServer((req, res) => {
    if (req.method === 'DELETE') return json(res, 200, { success: true, message: 'Event deleted successfully' });
    json(res, 200, created);
  });
  try {
    const { client } = makeClient(server.baseUrl, { credentials });
    const data: EventCreateData = {
      provider: 'google',
      calendarId: 'primary',
      title: 'Team sync',
      start: new Date('2025-02-15T10:00:00Z'),
      end: '2025-02-15T11:00:00Z',
      recurrence: { frequency: 'WEEKLY', count: 4, byDay: ['MO'] },
      conferenceData: { provider: 'google-meet', autoGenerate: true },
    };
    const res = await client.events.create(data);
    assert.equal(res.id, 'e1', 'root fields, as the Node SDK reads them');
    assert.equal(res.event.id, 'e1', 'and under event, as the Python SDK reads them');
    await client.events.update({ provider: 'google', calendarId: 'primary', eventId: 'e1', title: 'Renamed', updateMode: 'this', recurringEventId: 's1' });
    assert.deepEqual(
      await client.events.delete({ provider: 'google', calendarId: 'primary', eventId: 'e1', deleteMode: 'following' }),
      { success: true, message: 'Event deleted successfully' },
    );

    const [post, put, del] = server.requests;
    assert.equal(post?.method, 'POST');
    assert.equal(post?.path, '/api/event');
    assert.deepEqual(JSON.parse(post!.body), { ...data, start: '2025-02-15T10:00:00.000Z' });
    assert.equal(put?.method, 'PUT');
    assert.deepEqual(JSON.parse(put!.body), { provider: 'google', calendarId: 'primary', eventId: 'e1', title: 'Renamed', updateMode: 'this', recurringEventId: 's1' });
    assert.equal(del?.method, 'DELETE');
    assert.equal(del?.body, '');
    assert.deepEqual(Object.fromEntries(del!.query), { provider: 'google', calendarId: 'primary', eventId: 'e1', deleteMode: 'following' });
  } finally {
    await server.close();
  }
});

test('events.iterate walks 50 pages (1000 events) in order, passing tokens and filters along', async () => {
  const PAGES = 50;
  const PER_PAGE = 20;
  const server = await startServer((req, res) => {
    const page = req.query.has('nextPageToken') ? Number(req.query.get('nextPageToken')!.slice(5)) : 0;
    const events = Array.from({ length: PER_PAGE }, (_, i) => event(page * PER_PAGE + i));
    const body: Record<string, unknown> = { events, pageSize: PER_PAGE };
    if (page + 1 < PAGES) body.nextPageToken = `page-${page + 1}`;
    json(res, 200, body);
  });
  try {
    const { client } = makeClient(server.baseUrl, { credentials });
    const params = { start: '2025-01-01T00:00:00Z', end: '2025-12-31T23:59:59Z', calendarIds: { google: ['primary'] }, pageSize: PER_PAGE };
    const ids: string[] = [];
    for await (const e of client.events.iterate(params)) ids.push(e.id);

    assert.equal(ids.length, PAGES * PER_PAGE);
    assert.deepEqual(ids, Array.from({ length: PAGES * PER_PAGE }, (_, i) => `e${i}`));
    assert.equal(new Set(ids).size, ids.length, 'every event exactly once');
    assert.equal(server.requests.length, PAGES);
    server.requests.forEach((r, i) => {
      assert.equal(r.query.get('nextPageToken'), i === 0 ? null : `page-${i}`);
      assert.equal(r.query.get('start'), params.start);
      assert.equal(r.query.get('calendarIds'), '{"google":["primary"]}');
      assert.equal(r.query.get('pageSize'), String(PER_PAGE));
    });

    // Pages are fetched lazily: breaking out stops the requests.
    server.requests.length = 0;
    let seen = 0;
    for await (const _e of client.events.iterate(params)) if (++seen === PER_PAGE + 1) break;
    assert.equal(server.requests.length, 2);

    // pages() exposes the page objects.
    server.requests.length = 0;
    let pages = 0;
    for await (const page of client.events.pages({ ...params, nextPageToken: 'page-47' })) {
      pages++;
      assert.equal(page.events.length, PER_PAGE);
    }
    assert.equal(pages, 3);
  } finally {
    await server.close();
  }
});

test('a server that repeats a page token stops the iterator with an error instead of looping', async () => {
  const server = await startServer((_req, res) => json(res, 200, { events: [event(0)], nextPageToken: 'same' }));
  try {
    const { client } = makeClient(server.baseUrl, { credentials });
    const consume = async () => {
      for await (const _e of client.events.iterate()) {
        // draining
      }
    };
    await assert.rejects(consume(), (e: unknown) => e instanceof AlmanacError && e.code === 'PAGINATION_ERROR');
    assert.equal(server.requests.length, 2);
  } finally {
    await server.close();
  }
});

test('calendars.list returns the bare array', async () => {
  const calendars = [{ provider: 'google', id: 'primary', title: 'Me', timeZone: 'UTC', color: '#fff', description: '', original: {} }];
  const server = await startServer((_req, res) => json(res, 200, calendars));
  try {
    const { client } = makeClient(server.baseUrl, { credentials });
    assert.deepEqual(await client.calendars.list(), calendars);
    assert.equal(server.requests[0]?.path, '/api/calendars');
  } finally {
    await server.close();
  }
});
