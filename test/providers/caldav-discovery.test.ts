import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGuardedFetch } from '../../src/http/guarded-fetch.js';
import { CaldavConnectError, createCaldavProvider, discoverCaldavAccount } from '../../src/providers/caldav/index.js';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';

const open = createGuardedFetch({ allowPrivateNetworks: true });
const log = { debug() {}, info() {}, warn() {}, error() {} };

async function expectReason(promise: Promise<unknown>, reason: CaldavConnectError['reason']): Promise<CaldavConnectError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof CaldavConnectError, `expected CaldavConnectError, got ${String(caught)}`);
  assert.equal(caught.reason, reason, caught.message);
  assert.ok(caught.message.length > 10);
  return caught;
}

describe('discoverCaldavAccount', { skip: RADICALE_SKIP }, () => {
  let radicale: RadicaleServer;
  let plain: Server;
  let plainUrl: string;
  const wellKnownHits: string[] = [];

  before(async () => {
    radicale = await startRadicale({ users: { alice: 'correct horse', bob: 'battery' } });
    await radicale.mkcalendar('alice', 'home', { displayName: 'Home' });
    plain = createServer((req, res) => {
      wellKnownHits.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Just a website</body></html>');
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/`;
  });

  after(async () => {
    plain.close();
    await radicale?.stop();
  });

  test('follows /.well-known/caldav to the principal and calendar home', async () => {
    const account = await discoverCaldavAccount(open, { serverUrl: radicale.url, username: ' alice ', password: 'correct horse' });
    assert.deepEqual(account, {
      accountId: 'alice',
      principalUrl: `${radicale.url}alice/`,
      calendarHomeUrl: `${radicale.url}alice/`,
      serverUrl: radicale.url,
    });
  });

  test('starts from a path when one is given, and accepts a URL without scheme', async () => {
    const direct = await discoverCaldavAccount(open, { serverUrl: `${radicale.url}alice/`, username: 'alice', password: 'correct horse' });
    assert.equal(direct.calendarHomeUrl, `${radicale.url}alice/`);
    // Without a scheme https is assumed: Radicale speaks plain http, so this one cannot connect.
    await expectReason(discoverCaldavAccount(open, { serverUrl: `127.0.0.1:${radicale.port}`, username: 'alice', password: 'correct horse' }), 'unreachable');
  });

  test('the discovered home works with the adapter', async () => {
    const account = await discoverCaldavAccount(open, { serverUrl: radicale.url, username: 'alice', password: 'correct horse' });
    const provider = createCaldavProvider();
    const calendars = await provider.listCalendars({
      credentials: { kind: 'basic', serverUrl: account.serverUrl, username: 'alice', password: 'correct horse', calendarHomeUrl: account.calendarHomeUrl },
      fetch: open,
      log,
    });
    assert.deepEqual(calendars.map((c) => c.title), ['Home']);
    // Without a stored home the adapter discovers it itself.
    const lazily = await provider.listCalendars({
      credentials: { kind: 'basic', serverUrl: radicale.url, username: 'alice', password: 'correct horse' },
      fetch: open,
      log,
    });
    assert.deepEqual(lazily.map((c) => c.id), calendars.map((c) => c.id));
  });

  test('a wrong password is reason auth', async () => {
    const err = await expectReason(discoverCaldavAccount(open, { serverUrl: radicale.url, username: 'alice', password: 'wrong' }), 'auth');
    assert.doesNotMatch(err.message, /wrong/);
    await expectReason(discoverCaldavAccount(open, { serverUrl: radicale.url, username: 'nobody', password: 'x' }), 'auth');
    await expectReason(discoverCaldavAccount(open, { serverUrl: radicale.url, username: '  ', password: 'x' }), 'auth');
  });

  test('a plain web server is reason not_caldav', async () => {
    await expectReason(discoverCaldavAccount(open, { serverUrl: plainUrl, username: 'alice', password: 'x' }), 'not_caldav');
    assert.ok(wellKnownHits.includes('/.well-known/caldav'), 'well-known was tried');
  });

  test('a closed port is reason unreachable', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    await expectReason(discoverCaldavAccount(open, { serverUrl: `http://127.0.0.1:${port}/`, username: 'alice', password: 'x' }), 'unreachable');
    await expectReason(discoverCaldavAccount(open, { serverUrl: 'http://', username: 'alice', password: 'x' }), 'unreachable');
  });

  test('a private address is reason blocked unless private networks are allowed', async () => {
    const guarded = createGuardedFetch({ allowPrivateNetworks: false });
    const err = await expectReason(discoverCaldavAccount(guarded, { serverUrl: radicale.url, username: 'alice', password: 'correct horse' }), 'blocked');
    assert.match(err.message, /loopback/);
    await expectReason(discoverCaldavAccount(guarded, { serverUrl: 'http://169.254.169.254/', username: 'a', password: 'b' }), 'blocked');
    await expectReason(discoverCaldavAccount(guarded, { serverUrl: `http://localhost:${radicale.port}/`, username: 'a', password: 'b' }), 'blocked');
  });
});
