/**
 * HTTP Digest against a server that accepts nothing else (SabreDAV, as Baïkal ships):
 * connecting, reading and writing work; once a server has asked for Digest, no request
 * for that account carries the password in a Basic header again; a wrong password is
 * the connect page's "auth" answer after one try.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createGuardedFetch } from '../../src/http/guarded-fetch.js';
import { CaldavConnectError, createCaldavProvider, discoverCaldavAccount } from '../../src/providers/caldav/index.js';
import type { BasicCredentials, ProviderContext } from '../../src/providers/types.js';
import { startCountingProxy, type CountingProxy } from '../support/counting-proxy.js';
import { SABREDAV_SKIP, startSabredav, type SabredavServer } from '../support/sabredav.js';

const open = createGuardedFetch({ allowPrivateNetworks: true });
const log = { debug() {}, info() {}, warn() {}, error() {} };
const ICS = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//EN', 'BEGIN:VEVENT', 'UID:digest-1', 'DTSTAMP:20270101T000000Z', 'DTSTART:20270301T100000Z', 'DTEND:20270301T110000Z', 'SUMMARY:Seeded', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');

describe('CalDAV with HTTP Digest (SabreDAV)', { skip: SABREDAV_SKIP }, () => {
  let server: SabredavServer;
  let proxy: CountingProxy;

  before(async () => {
    server = await startSabredav({ users: { alice: 'correct horse', bob: 'battery staple' } });
    proxy = await startCountingProxy(server.port);
    const calendar = await server.mkcalendar('alice', 'home', { displayName: 'Home' });
    assert.equal((await server.put('alice', `${calendar}seeded.ics`, ICS)).status, 201);
  });
  after(async () => {
    await proxy?.close();
    await server?.stop();
  });

  test('connect answers the challenge; afterwards no request of the account carries Basic', async () => {
    const account = await discoverCaldavAccount(open, { serverUrl: proxy.url, username: 'alice', password: 'correct horse' });
    assert.equal(new URL(account.calendarHomeUrl).pathname, '/calendars/alice/');
    assert.equal(proxy.requests[0]?.authScheme, 'Basic', 'the first request offers Basic, as most servers expect');
    assert.ok(proxy.requests.slice(1).every((r) => r.authScheme === 'Digest'), JSON.stringify(proxy.requests));

    proxy.reset();
    const credentials: BasicCredentials = { kind: 'basic', serverUrl: proxy.url, username: 'alice', password: 'correct horse', calendarHomeUrl: account.calendarHomeUrl };
    const ctx: ProviderContext<BasicCredentials> = { credentials, fetch: open, log };
    const provider = createCaldavProvider();
    const calendars = await provider.listCalendars(ctx);
    const home = calendars.find((c) => c.title === 'Home');
    assert.ok(home, JSON.stringify(calendars.map((c) => c.title)));
    const page = await provider.listEvents(ctx, { calendarId: home.id, start: new Date('2027-03-01T00:00:00Z'), end: new Date('2027-03-02T00:00:00Z'), singleEvents: true, pageSize: 50 });
    assert.deepEqual(page.events.map((e) => e.title), ['Seeded']);
    const created = await provider.createEvent(ctx, { calendarId: home.id, title: 'Written over Digest', start: new Date('2027-03-01T12:00:00Z'), end: new Date('2027-03-01T13:00:00Z'), allDay: false });
    assert.equal((await server.get('alice', String((created.original as { href: string }).href))).status, 200, 'the event landed on the server');
    assert.ok(proxy.requests.length >= 4);
    assert.deepEqual([...new Set(proxy.requests.map((r) => r.authScheme))], ['Digest'], 'the password never travels in a Basic header again');
  });

  test('a wrong password is refused as "auth", without retrying in a loop', async () => {
    proxy.reset();
    await assert.rejects(
      discoverCaldavAccount(open, { serverUrl: proxy.url, username: 'bob', password: 'wrong' }),
      (err: unknown) => err instanceof CaldavConnectError && err.reason === 'auth',
    );
    // Basic, then Digest once: the second 401 ends it.
    assert.ok(proxy.requests.length <= 2, JSON.stringify(proxy.requests));
  });
});
