/**
 * Where a CalDAV or iCloud password may go during discovery: only to the origin the
 * person typed (and, for iCloud, to Apple's partition hosts beside the configured
 * entry point). Two loopback servers on different ports are two origins; the second
 * one records every request it gets, and must never see an Authorization header.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import type { ServerResponse } from 'node:http';
import assert from 'node:assert/strict';
import { Agent } from 'undici';
import { createGuardedFetch } from '../../src/http/guarded-fetch.js';
import { createProviderFetch } from '../../src/http/provider-fetch.js';
import { discoverAppleAccount } from '../../src/providers/apple/index.js';
import { CaldavConnectError, discoverCaldavAccount } from '../../src/providers/caldav/index.js';
import { basic, multistatus, props, send207, startFakeDav, type FakeDav, type SeenRequest } from '../support/fake-dav.js';

const USER = 'alice';
const PASSWORD = 'secret-pw';
const open = createGuardedFetch({ allowPrivateNetworks: true });

/** Answers like a complete CalDAV server for whatever paths it is asked about. */
function fullServer(fake: () => FakeDav, home: () => string) {
  return (req: SeenRequest, res: ServerResponse): void => {
    if (req.authorization !== basic(USER, PASSWORD)) return void res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end();
    const href = new URL(req.path, fake().url).pathname;
    send207(res, multistatus([{ href, props: props.principal('/principal/') + props.home(home()) + props.collection }]));
  };
}

describe('discovery sends credentials only to the origin typed', () => {
  let typed: FakeDav;
  let other: FakeDav;
  let answer: (req: SeenRequest, res: ServerResponse) => void;

  before(async () => {
    other = await startFakeDav(() => undefined);
    other.handler = fullServer(() => other, () => `${other.origin}/home/`);
    typed = await startFakeDav((req, res) => answer(req, res));
  });
  beforeEach(() => {
    other.seen.length = 0;
  });
  after(async () => {
    await typed.close();
    await other.close();
  });

  const expectNoCredentialsElsewhere = async (): Promise<void> => {
    await assert.rejects(discoverCaldavAccount(open, { serverUrl: typed.url, username: USER, password: PASSWORD }), CaldavConnectError);
    assert.deepEqual(other.seen.filter((r) => r.authorization !== undefined), [], 'the other origin never saw the password');
  };

  test('a redirect to another origin is not followed with the password', async () => {
    answer = (req, res) => {
      if (req.path === '/.well-known/caldav') return void res.writeHead(301, { location: `${other.origin}/dav/` }).end();
      res.writeHead(404).end();
    };
    await expectNoCredentialsElsewhere();
  });

  test('a principal named on another origin is not asked with the password', async () => {
    answer = (req, res) => {
      if (req.path === '/.well-known/caldav') return void res.writeHead(404).end();
      send207(res, multistatus([{ href: '/', props: props.principal(`${other.origin}/principal/`) }]));
    };
    await expectNoCredentialsElsewhere();
  });

  test('a calendar home named on another origin is not asked with the password', async () => {
    answer = (req, res) => {
      if (req.path === '/.well-known/caldav') return void res.writeHead(404).end();
      send207(res, multistatus([{ href: new URL(req.path, typed.url).pathname, props: props.principal('/principal/') + props.home(`${other.origin}/home/`) }]));
    };
    await expectNoCredentialsElsewhere();
  });

  test('the same server answering everything still connects', async () => {
    answer = fullServer(() => typed, () => '/home/');
    const account = await discoverCaldavAccount(open, { serverUrl: typed.url, username: USER, password: PASSWORD });
    assert.equal(account.calendarHomeUrl, `${typed.origin}/home/`);
  });
});

describe('iCloud: the partition hosts beside the entry point, and nothing else', () => {
  let entry: FakeDav;
  let partition: FakeDav;
  let homeHost = '';
  // `*.test` names resolve to loopback here, so both servers can have iCloud-shaped names.
  const names = new Agent({
    connect: {
      lookup: (_host: string, options: { all?: boolean }, callback: (err: Error | null, address: string | Array<{ address: string; family: number }>, family?: number) => void) =>
        options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4),
    },
  });
  const fetchNamed = createProviderFetch({ dispatcher: names });

  before(async () => {
    partition = await startFakeDav((req, res) => {
      if (req.authorization !== basic(USER, PASSWORD)) return void res.writeHead(401).end();
      send207(res, multistatus([{ href: '/home/', props: props.collection }]));
    });
    entry = await startFakeDav((req, res) => {
      if (req.authorization !== basic(USER, PASSWORD)) return void res.writeHead(401).end();
      const port = new URL(partition.url).port;
      if (req.path === '/') return void send207(res, multistatus([{ href: '/', props: props.principal('/principal/') }]));
      send207(res, multistatus([{ href: '/principal/', props: props.home(`http://${homeHost}:${port}/home/`) }]));
    });
  });
  after(async () => {
    await entry.close();
    await partition.close();
  });

  const discover = () =>
    discoverAppleAccount(fetchNamed, { appleId: USER, appPassword: PASSWORD, serverUrl: `http://caldav.test:${new URL(entry.url).port}/` });

  test('a pNN-caldav partition host gets the credentials', async () => {
    homeHost = 'p42-caldav.test';
    partition.seen.length = 0;
    const account = await discover();
    assert.match(account.calendarHomeUrl, /^http:\/\/p42-caldav\.test:\d+\/home\/$/);
    assert.ok(partition.seen.some((r) => r.authorization === basic(USER, PASSWORD) && r.host?.startsWith('p42-caldav.test')));
  });

  for (const host of ['evil.test', 'p42-caldav.evil.test', 'p42-caldav.test.evil.test', 'xp42-caldav.test']) {
    test(`${host} gets nothing`, async () => {
      homeHost = host;
      partition.seen.length = 0;
      await assert.rejects(discover(), CaldavConnectError);
      assert.deepEqual(partition.seen, []);
    });
  }
});
