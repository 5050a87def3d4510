import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BlockedAddressError,
  RefusedUrlError,
  TooManyRedirectsError,
  classifyAddress,
  createGuardedFetch,
} from '../../src/http/guarded-fetch.js';

describe('classifyAddress', () => {
  const cases: Array<[string, ReturnType<typeof classifyAddress>]> = [
    ['8.8.8.8', null],
    ['1.1.1.1', null],
    ['93.184.216.34', null],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', null],
    ['172.15.255.255', null],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'shared-address-space'],
    ['100.127.255.255', 'shared-address-space'],
    ['100.128.0.1', null],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['198.18.0.1', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:8.8.8.8', null],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:c0a8:0101::1', 'private'],
    ['2001:db8::1', 'documentation'],
    ['2606:4700:4700::1111', null],
    ['2a00:1450:4001:82a::200e', null],
    ['[::1]', 'loopback'],
    ['not-an-ip', 'reserved'],
    ['1.2.3', 'reserved'],
    ['1:2:3:4:5:6:7:8:9', 'reserved'],
  ];
  for (const [address, expected] of cases) {
    test(`${address} → ${expected ?? 'public'}`, () => {
      assert.equal(classifyAddress(address), expected);
    });
  }
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(handler: Handler): Promise<{ server: Server; url: string; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/`, port };
}

describe('createGuardedFetch', () => {
  let target: Awaited<ReturnType<typeof listen>>;
  let other: Awaited<ReturnType<typeof listen>>;
  const seen: Array<{ path: string; authorization: string | undefined; method: string | undefined }> = [];

  before(async () => {
    other = await listen((req, res) => {
      seen.push({ path: `other${req.url}`, authorization: req.headers.authorization, method: req.method });
      res.end('other');
    });
    target = await listen((req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization, method: req.method });
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/ok') return res.end('hello');
      if (url.pathname === '/to-metadata') return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      if (url.pathname === '/to-private') return res.writeHead(307, { location: 'http://10.0.0.7/' }).end();
      if (url.pathname === '/to-localhost') return res.writeHead(301, { location: `http://localhost:${other.port}/x` }).end();
      if (url.pathname === '/to-other') return res.writeHead(308, { location: `${other.url}landing` }).end();
      if (url.pathname === '/see-other') return res.writeHead(303, { location: '/ok' }).end();
      if (url.pathname === '/loop') return res.writeHead(302, { location: '/loop' }).end();
      if (url.pathname === '/hang') return; // never answers
      res.writeHead(404).end();
    });
  });

  after(() => {
    target.server.closeAllConnections();
    other.server.closeAllConnections();
    target.server.close();
    other.server.close();
  });

  test('refuses loopback literals and names before connecting', async () => {
    const guarded = createGuardedFetch({ allowPrivateNetworks: false });
    const before = seen.length;
    await assert.rejects(guarded(`${target.url}ok`), (err: unknown) => {
      assert.ok(err instanceof BlockedAddressError);
      assert.equal(err.reason, 'loopback');
      assert.match(err.message, /loopback/);
      return true;
    });
    // A name goes through DNS and is refused at connect time.
    await assert.rejects(guarded(`http://localhost:${target.port}/ok`), BlockedAddressError);
    await assert.rejects(guarded('http://[::ffff:127.0.0.1]/'), BlockedAddressError);
    await assert.rejects(guarded('http://2130706433/'), BlockedAddressError);
    assert.equal(seen.length, before, 'no request reached the server');
  });

  test('refuses non-http schemes and credentials in URLs', async () => {
    const guarded = createGuardedFetch({ allowPrivateNetworks: true });
    await assert.rejects(guarded('file:///etc/passwd'), RefusedUrlError);
    await assert.rejects(guarded('ftp://example.com/'), RefusedUrlError);
    await assert.rejects(guarded(`http://u:p@127.0.0.1:${target.port}/ok`), RefusedUrlError);
  });

  test('re-checks every redirect hop', async () => {
    // Only the first server's exact address is let through.
    const guarded = createGuardedFetch({ allowPrivateNetworks: false, allowAddresses: ['127.0.0.1'] });
    const ok = await guarded(`${target.url}ok`);
    assert.equal(await ok.text(), 'hello');
    await assert.rejects(guarded(`${target.url}to-metadata`), (err: unknown) => err instanceof BlockedAddressError && err.reason === 'link-local');
    await assert.rejects(guarded(`${target.url}to-private`), (err: unknown) => err instanceof BlockedAddressError && err.reason === 'private');
    // localhost may resolve to ::1, which is not on the allow list.
    const viaName = await guarded(`${target.url}to-localhost`).then(
      (r) => r.status,
      (err: unknown) => (err instanceof BlockedAddressError ? 'blocked' : err),
    );
    assert.ok(viaName === 200 || viaName === 'blocked', `unexpected ${String(viaName)}`);
  });

  test('follows redirects itself, dropping Authorization across origins', async () => {
    const guarded = createGuardedFetch({ allowPrivateNetworks: true });
    seen.length = 0;
    const response = await guarded(`${target.url}to-other`, { method: 'PROPFIND', headers: { authorization: 'Basic c2VjcmV0' }, body: '<x/>' });
    assert.equal(response.status, 200);
    assert.equal(response.url, `${other.url}landing`);
    assert.deepEqual(
      seen.map((s) => [s.path, s.authorization, s.method]),
      [
        ['/to-other', 'Basic c2VjcmV0', 'PROPFIND'],
        ['other/landing', undefined, 'PROPFIND'],
      ],
    );
    const seeOther = await guarded(`${target.url}see-other`, { method: 'POST', body: 'x' });
    assert.equal(await seeOther.text(), 'hello');
    assert.equal(seen[seen.length - 1]?.method, 'GET');
  });

  test('manual mode hands the redirect back', async () => {
    const guarded = createGuardedFetch({ allowPrivateNetworks: true });
    const response = await guarded(`${target.url}to-other`, { redirect: 'manual' });
    assert.equal(response.status, 308);
    assert.equal(response.headers.get('location'), `${other.url}landing`);
  });

  test('stops redirect loops', async () => {
    const guarded = createGuardedFetch({ allowPrivateNetworks: true, maxRedirects: 3 });
    await assert.rejects(guarded(`${target.url}loop`), TooManyRedirectsError);
  });

  test('times out a server that never answers', async () => {
    const guarded = createGuardedFetch({ allowPrivateNetworks: true, timeoutMs: 200 });
    await assert.rejects(guarded(`${target.url}hang`), (err: unknown) => err instanceof Error && err.name === 'TimeoutError');
  });
});
