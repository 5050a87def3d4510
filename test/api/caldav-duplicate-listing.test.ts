/**
 * A CalDAV server that lists one calendar several times, under equivalent spellings
 * (RFC 3986 §6.2.2: `%63al` is `cal`, with and without the trailing slash): the API
 * shows it once and lists its events once, instead of a 500 "duplicate event source key".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, connectCaldav, finishConnect, openConnect } from '../support/connect-flow.js';
import { basic, multistatus, props, send207, startFakeDav, type FakeDav } from '../support/fake-dav.js';
import { startServer, type TestServer } from '../support/server.js';

const EVENT = [
  'BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', 'UID:dup-1', 'DTSTAMP:20270101T000000Z',
  'DTSTART:20270310T090000Z', 'DTEND:20270310T100000Z', 'SUMMARY:Only once', 'END:VEVENT', 'END:VCALENDAR', '',
].join('\r\n');

describe('a calendar listed twice by its server', () => {
  let server: TestServer;
  let dav: FakeDav;
  let a: ReturnType<typeof api>;

  before(async () => {
    dav = await startFakeDav((req, res) => {
      if (req.authorization !== basic('u', 'pw')) return void res.writeHead(401).end();
      const path = new URL(req.path, 'http://x').pathname;
      if (req.method === 'PROPFIND' && path === '/dav/u/' && req.body.includes('displayname')) {
        return send207(res, multistatus([
          { href: '/dav/u/', props: props.collection },
          { href: '/dav/u/cal/', props: props.calendar('Work') },
          { href: '/dav/u/cal/', props: props.calendar('Work') },
          { href: '/dav/u/%63al/', props: props.calendar('Work') },
          { href: `${dav.origin}/dav/u/cal`, props: props.calendar('Work') },
          { href: '/dav/u/other/', props: props.calendar('Other') },
        ]));
      }
      if (req.method === 'PROPFIND') return send207(res, multistatus([{ href: path, props: props.principal('/dav/u/') + props.home('/dav/u/') + props.collection }]));
      if (req.method === 'REPORT' && path === '/dav/u/cal/') {
        return send207(res, multistatus([{ href: '/dav/u/cal/dup-1.ics', props: `<d:getetag>"1"</d:getetag><c:calendar-data>${EVENT}</c:calendar-data>` }]));
      }
      if (req.method === 'REPORT') return send207(res, multistatus([]));
      res.writeHead(404).end();
    });
    server = await startServer();
    const client = await server.createClient();
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'dup-user' });
    const connected = await connectCaldav(server.url, s, { server_url: dav.url, username: 'u', password: 'pw' });
    assert.equal(connected.status, 303, await connected.text());
    a = api(server.url, (await finishConnect(server.url, s, client)).access_token);
  });
  after(async () => {
    await server?.close();
    await dav?.close();
  });

  test('GET /api/calendars lists it once', async () => {
    const res = await a.get('/api/calendars');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.map((c: { id: string }) => c.id).sort(), [`${dav.origin}/dav/u/cal/`, `${dav.origin}/dav/u/other/`]);
  });

  test('GET /api/events answers 200 with its event once', async () => {
    const res = await a.events({ start: '2027-03-01T00:00:00Z', end: '2027-04-01T00:00:00Z' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.events.map((e: { title: string }) => e.title), ['Only once']);
  });
});
