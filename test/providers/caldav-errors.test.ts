import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BlockedAddressError, createGuardedFetch } from '../../src/http/guarded-fetch.js';
import { createCaldavProvider } from '../../src/providers/caldav/index.js';
import { createDavClient, DavHttpError } from '../../src/providers/caldav/dav-client.js';
import { DavXmlError } from '../../src/providers/caldav/dav-xml.js';
import { mapCaldavError } from '../../src/providers/caldav/map-caldav-error.js';
import { ProviderError, type BasicCredentials, type ProviderContext } from '../../src/providers/types.js';
import { CALDAV_SERVERS } from '../support/caldav-servers.js';
import type { CaldavTestServer } from '../support/caldav-test-server.js';

const log = { debug() {}, info() {}, warn() {}, error() {} };

function mapped(err: unknown): ProviderError {
  const result = mapCaldavError(err);
  assert.ok(result instanceof ProviderError);
  return result;
}

describe('mapCaldavError', () => {
  test('HTTP statuses', () => {
    assert.equal(mapped(new DavHttpError(401, 'PROPFIND', [])).code, 'AUTH_REVOKED');
    assert.equal(mapped(new DavHttpError(403, 'REPORT', [])).code, 'AUTH_REVOKED');
    assert.equal(mapped(new DavHttpError(403, 'PUT', [])).code, 'READ_ONLY');
    assert.equal(mapped(new DavHttpError(403, 'DELETE', ['need-privileges'])).code, 'READ_ONLY');
    assert.equal(mapped(new DavHttpError(403, 'REPORT', ['need-privileges'])).code, 'INSUFFICIENT_SCOPE');
    assert.equal(mapped(new DavHttpError(404, 'GET', [])).code, 'NOT_FOUND');
    assert.equal(mapped(new DavHttpError(410, 'GET', [])).code, 'NOT_FOUND');
    assert.equal(mapped(new DavHttpError(412, 'PUT', [])).code, 'CONFLICT');
    assert.equal(mapped(new DavHttpError(409, 'PUT', ['no-uid-conflict'])).code, 'CONFLICT');
    assert.equal(mapped(new DavHttpError(400, 'PUT', [])).code, 'INVALID_INPUT');
    assert.equal(mapped(new DavHttpError(403, 'PUT', ['valid-calendar-data'])).code, 'INVALID_INPUT');
    assert.equal(mapped(new DavHttpError(500, 'REPORT', [])).code, 'TEMPORARY');
    const limited = mapped(new DavHttpError(429, 'REPORT', [], 30_000));
    assert.deepEqual([limited.code, limited.retryAfterMs], ['RATE_LIMITED', 30_000]);
    const unavailable = mapped(new DavHttpError(503, 'REPORT', [], 5_000));
    assert.deepEqual([unavailable.code, unavailable.retryAfterMs], ['TEMPORARY', 5_000]);
  });

  test('transport and content failures', () => {
    assert.equal(mapped(new TypeError('fetch failed')).code, 'TEMPORARY');
    assert.equal(mapped(new DOMException('timed out', 'TimeoutError')).code, 'TEMPORARY');
    assert.equal(mapped(new DavXmlError('The server answered with malformed XML')).code, 'UNKNOWN');
    assert.equal(mapped(new BlockedAddressError('x', '10.0.0.1', 'private')).code, 'UNKNOWN');
    const original = new ProviderError('CURSOR_INVALID', 'x');
    assert.equal(mapCaldavError(original), original);
    const controller = new AbortController();
    controller.abort();
    const abort = new DOMException('aborted', 'AbortError');
    assert.equal(mapCaldavError(abort, controller.signal), abort, "the caller's own abort passes through");
  });
});

describe('CalDAV failures on the wire', () => {
  let server: Server;
  let base: string;
  let ctx: ProviderContext<BasicCredentials>;

  before(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith('/garbage/')) {
        res.writeHead(207, { 'content-type': 'text/xml' }).end('<multistatus xmlns="DAV:"><response><href>/x</href>');
      } else if (req.url?.startsWith('/html/')) {
        res.writeHead(207, { 'content-type': 'text/xml' }).end('<html><body>hello</body></html>');
      } else if (req.url?.startsWith('/hostile/')) {
        const object = (uid: string) =>
          `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTART:20260101T100000Z\r\nDTEND:20260101T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR`;
        const response = (href: string, uid: string) =>
          `<d:response><d:href>${href}</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag>` +
          `<c:calendar-data>${object(uid)}</c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`;
        res.writeHead(207, { 'content-type': 'text/xml' }).end(
          '<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">' +
            response('/hostile/cal/inside.ics', 'inside') +
            response('http://evil.example/steal.ics', 'outside') +
            response('/hostile/other/sibling.ics', 'sibling') +
            '</d:multistatus>',
        );
      } else if (req.url?.startsWith('/busy/')) {
        res.writeHead(429, { 'retry-after': '7' }).end();
      } else if (req.url?.startsWith('/down/')) {
        res.writeHead(503, { 'retry-after': '2' }).end();
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    ctx = {
      credentials: { kind: 'basic', serverUrl: base, username: 'u', password: 'p', calendarHomeUrl: `${base}garbage/` },
      fetch: createGuardedFetch({ allowPrivateNetworks: true }),
      log,
    };
  });

  after(() => {
    server.close();
  });

  const withHome = (home: string): ProviderContext<BasicCredentials> => ({ ...ctx, credentials: { ...ctx.credentials, calendarHomeUrl: `${base}${home}/` } });

  test('malformed XML is UNKNOWN with a clear message', async () => {
    for (const home of ['garbage', 'html']) {
      await assert.rejects(createCaldavProvider().listCalendars(withHome(home)), (err: unknown) => {
        assert.ok(err instanceof ProviderError);
        assert.equal(err.code, 'UNKNOWN');
        assert.match(err.message, /XML|multistatus/);
        return true;
      });
    }
  });

  test('objects a server places outside the calendar are ignored, never written to', async () => {
    const page = await createCaldavProvider().listEvents(withHome('hostile'), {
      calendarId: `${base}hostile/cal/`,
      start: new Date('2026-01-01T00:00:00Z'),
      end: new Date('2026-01-02T00:00:00Z'),
      singleEvents: true,
      pageSize: 10,
    });
    assert.deepEqual(page.events.map((e) => e.id), ['inside']);
  });

  test('429 and 503 carry Retry-After', async () => {
    await assert.rejects(
      createCaldavProvider().listCalendars(withHome('busy')),
      (err: unknown) => err instanceof ProviderError && err.code === 'RATE_LIMITED' && err.retryAfterMs === 7000,
    );
    await assert.rejects(
      createCaldavProvider().listCalendars(withHome('down')),
      (err: unknown) => err instanceof ProviderError && err.code === 'TEMPORARY' && err.retryAfterMs === 2000,
    );
  });
});

for (const choice of CALDAV_SERVERS) describe(`conflicts on ${choice.name}`, { skip: choice.skip }, () => {
  let radicale: CaldavTestServer;

  before(async () => {
    radicale = await choice.start({ users: { alice: 'pw' } });
  });

  after(async () => {
    await radicale?.stop();
  });

  // Radicale answers 409; Xandikos answers 207 Multi-Status holding a 412 for the resource.
  const ics = (uid: string) =>
    ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//t//EN', 'BEGIN:VEVENT', `UID:${uid}`, 'DTSTAMP:20260101T000000Z', 'DTSTART:20260101T100000Z', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
  const clientOf = () => createDavClient({ fetch: createGuardedFetch({ allowPrivateNetworks: true }), username: 'alice', password: 'pw' });

  test('a UID stored under another name is a no-uid-conflict failure (whatever the status carrying it), mapped to CONFLICT', async (t) => {
    if (radicale.capabilities.uidConflicts !== true) return t.skip(radicale.capabilities.uidConflicts);
    const calendar = await radicale.mkcalendar('alice', 'c');
    assert.equal((await radicale.put('alice', `${calendar}a.ics`, ics('same'))).status, 201);
    const err = await clientOf().put(`${calendar}b.ics`, ics('same'), { ifNoneMatch: '*' }).then(
      () => assert.fail('expected a conflict'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DavHttpError);
    assert.ok(err.status === 409 || err.status === 412, String(err.status));
    assert.ok(err.conditions.includes('no-uid-conflict'), err.conditions.join());
    assert.equal((await radicale.get('alice', `${calendar}b.ics`)).status, 404, 'nothing stored');
    assert.equal(mapped(err).code, 'CONFLICT');
  });

  test('creating over an existing resource fails If-None-Match: *, mapped to CONFLICT', async () => {
    const calendar = await radicale.mkcalendar('alice', 'd');
    assert.equal((await radicale.put('alice', `${calendar}a.ics`, ics('first'))).status, 201);
    const again = await clientOf().put(`${calendar}a.ics`, ics('second'), { ifNoneMatch: '*' }).then(
      () => assert.fail('expected 412'),
      (e: unknown) => e,
    );
    assert.equal(mapped(again).code, 'CONFLICT');
    assert.match((await radicale.get('alice', `${calendar}a.ics`)).body, /UID:first/, 'the stored object is unchanged');
  });
});
