/**
 * iCloud-style discovery: a local stand-in for caldav.icloud.com answers PROPFIND the
 * way iCloud does (a bare `/principal/` href, a calendar home that is an absolute URL
 * on another host), and the home it points to is a real Radicale.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { createGuardedFetch } from '../../src/http/guarded-fetch.js';
import { createProviderFetch } from '../../src/http/provider-fetch.js';
import { CaldavConnectError, createAppleProvider, discoverAppleAccount, ICLOUD_CALDAV_URL } from '../../src/providers/apple/index.js';
import type { BasicCredentials, ProviderContext } from '../../src/providers/types.js';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';

const APPLE_ID = 'Alice@iCloud.com';
const APP_PASSWORD = 'abcd-efgh-ijkl-mnop';
/** `*.test` names resolve to loopback here, so partition-style hosts can be served locally. */
const testNames = new Agent({
  connect: {
    lookup: (_host: string, options: { all?: boolean }, callback: (err: Error | null, address: string | Array<{ address: string; family: number }>, family?: number) => void) =>
      options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4),
  },
});
const open = createProviderFetch({ dispatcher: testNames });
const log = { debug() {}, info() {}, warn() {}, error() {} };

async function readBody(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

describe('discoverAppleAccount', { skip: RADICALE_SKIP }, () => {
  let radicale: RadicaleServer;
  let icloud: Server;
  let icloudUrl: string;
  let homeUrl: string;
  const requests: string[] = [];

  before(async () => {
    radicale = await startRadicale({ users: { [APPLE_ID]: APP_PASSWORD } });
    await radicale.mkcalendar(APPLE_ID, 'home', { displayName: 'Home', color: '#1BADF8FF' });
    await radicale.mkcalendar(APPLE_ID, 'reminders', { displayName: 'Reminders ⚠️', components: ['VTODO'] });
    // iCloud puts the home on a partition host beside the entry point.
    homeUrl = `http://p07-caldav.test:${radicale.port}/${encodeURIComponent(APPLE_ID)}/`;
    const expected = `Basic ${Buffer.from(`${APPLE_ID}:${APP_PASSWORD}`).toString('base64')}`;
    icloud = createServer(async (req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const body = await readBody(req);
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="iCloud"' }).end();
        return;
      }
      if (req.method !== 'PROPFIND') {
        res.writeHead(405).end();
        return;
      }
      // iCloud's own style: default namespace, properties declared on the spot.
      if (req.url === '/' && body.includes('current-user-principal')) {
        res.writeHead(207, { 'content-type': 'text/xml; charset=utf-8' }).end(
          '<?xml version="1.0" encoding="UTF-8"?>\n<multistatus xmlns="DAV:"><response><href>/</href><propstat><prop>' +
            '<current-user-principal><href>/principal/</href></current-user-principal></prop>' +
            '<status>HTTP/1.1 200 OK</status></propstat></response></multistatus>',
        );
        return;
      }
      if (req.url === '/principal/') {
        res.writeHead(207, { 'content-type': 'text/xml; charset=utf-8' }).end(
          '<?xml version="1.0" encoding="UTF-8"?>\n<multistatus xmlns="DAV:"><response><href>/principal/</href><propstat><prop>' +
            `<calendar-home-set xmlns="urn:ietf:params:xml:ns:caldav"><href xmlns="DAV:">${homeUrl}</href></calendar-home-set>` +
            '</prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>',
        );
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => icloud.listen(0, '127.0.0.1', resolve));
    icloudUrl = `http://caldav.test:${(icloud.address() as AddressInfo).port}/`;
  });

  after(async () => {
    icloud.close();
    await radicale?.stop();
  });

  test('defaults to caldav.icloud.com', () => {
    assert.equal(ICLOUD_CALDAV_URL, 'https://caldav.icloud.com/');
  });

  test('follows a bare /principal/ to a calendar home on another host', async () => {
    requests.length = 0;
    const account = await discoverAppleAccount(open, { appleId: ` ${APPLE_ID} `, appPassword: APP_PASSWORD, serverUrl: icloudUrl });
    assert.deepEqual(account, {
      accountId: 'alice@icloud.com',
      principalUrl: `${icloudUrl}principal/`,
      // One spelling for every URL: `%40` and `@` name the same collection.
      calendarHomeUrl: homeUrl.replace('%40', '@'),
      serverUrl: icloudUrl,
    });
    assert.ok(!requests.some((r) => r.includes('.well-known')), 'iCloud discovery does not use well-known');
  });

  test('the apple adapter lists and writes through the discovered home', async () => {
    const account = await discoverAppleAccount(open, { appleId: APPLE_ID, appPassword: APP_PASSWORD, serverUrl: icloudUrl });
    const provider = createAppleProvider();
    assert.equal(provider.id, 'apple');
    const ctx: ProviderContext<BasicCredentials> = {
      credentials: { kind: 'basic', serverUrl: account.serverUrl, username: APPLE_ID, password: APP_PASSWORD, calendarHomeUrl: account.calendarHomeUrl },
      fetch: open,
      log,
    };
    const calendars = await provider.listCalendars(ctx);
    assert.deepEqual(
      calendars.map((c) => [c.provider, c.title, c.color]),
      [['apple', 'Home', '#1BADF8']],
    );
    const event = await provider.createEvent(ctx, {
      calendarId: calendars[0]!.id,
      title: 'Dentist',
      start: new Date('2026-05-05T08:00:00Z'),
      end: new Date('2026-05-05T09:00:00Z'),
      allDay: false,
      timeZone: 'Europe/Paris',
    });
    assert.equal(event.provider, 'apple');
    const page = await provider.listEvents(ctx, {
      calendarId: calendars[0]!.id,
      start: new Date('2026-05-01T00:00:00Z'),
      end: new Date('2026-06-01T00:00:00Z'),
      singleEvents: true,
      pageSize: 10,
    });
    assert.deepEqual(page.events.map((e) => [e.provider, e.id, e.start]), [['apple', event.id, '2026-05-05T08:00:00.000Z']]);

    // Credentials stored without the home: the adapter rediscovers it through the iCloud stand-in.
    const lazily = await provider.listCalendars({ ...ctx, credentials: { ...ctx.credentials, calendarHomeUrl: undefined } as BasicCredentials });
    assert.deepEqual(lazily.map((c) => c.id), calendars.map((c) => c.id));
  });

  test('a wrong app-specific password is reason auth with Apple guidance', async () => {
    await assert.rejects(discoverAppleAccount(open, { appleId: APPLE_ID, appPassword: 'my-real-password', serverUrl: icloudUrl }), (err: unknown) => {
      assert.ok(err instanceof CaldavConnectError);
      assert.equal(err.reason, 'auth');
      assert.match(err.message, /app-specific password/);
      assert.doesNotMatch(err.message, /my-real-password/);
      return true;
    });
  });

  test('unreachable and blocked servers', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    await assert.rejects(
      discoverAppleAccount(open, { appleId: APPLE_ID, appPassword: APP_PASSWORD, serverUrl: `http://127.0.0.1:${port}/` }),
      (err: unknown) => err instanceof CaldavConnectError && err.reason === 'unreachable',
    );
    await assert.rejects(
      discoverAppleAccount(createGuardedFetch({ allowPrivateNetworks: false }), { appleId: APPLE_ID, appPassword: APP_PASSWORD, serverUrl: icloudUrl.replace('caldav.test', '127.0.0.1') }),
      (err: unknown) => err instanceof CaldavConnectError && err.reason === 'blocked',
    );
  });
});
