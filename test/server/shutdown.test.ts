/**
 * Graceful shutdown of the real server process: SIGTERM while a provider call is slow
 * lets that request finish and refuses new connections; the deadline is enforced; and
 * a stdout that nobody reads any more (or that was closed) cannot keep it from exiting.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { createRuntime } from '../../src/runtime.js';
import { api, connectCaldav, finishConnect, openConnect } from '../support/connect-flow.js';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

/** A proxy in front of Radicale that can hold REPORT requests (event listings) for a while. */
interface SlowProxy {
  url: string;
  delayMs: number;
  /** Resolves when the next held request has arrived. */
  nextHeld(): Promise<void>;
  close(): Promise<void>;
}

async function slowProxy(target: string): Promise<SlowProxy> {
  const upstream = new URL(target);
  let waiters: (() => void)[] = [];
  const proxy: SlowProxy = {
    url: '',
    delayMs: 0,
    nextHeld: () => new Promise((resolve) => waiters.push(resolve)),
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forward = () => {
        const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        out.on('error', () => res.destroy());
        out.end(Buffer.concat(chunks));
      };
      if (req.method === 'REPORT' && proxy.delayMs > 0) {
        const ready = waiters;
        waiters = [];
        ready.forEach((w) => w());
        setTimeout(forward, proxy.delayMs);
      } else forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  return proxy;
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch (err) {
    return /ECONNREFUSED/.test(String((err as { cause?: { code?: string } }).cause?.code ?? err));
  }
}

describe('SIGTERM during a slow provider call', { skip: RADICALE_SKIP }, () => {
  let rad: RadicaleServer;
  let proxy: SlowProxy;
  let dir: string;
  let client: { clientId: string; clientSecret: string };

  before(async () => {
    rad = await startRadicale({ users: { alice: 'alice-pw' } });
    const calendar = await rad.mkcalendar('alice', 'work', { displayName: 'Work' });
    const ics = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', 'BEGIN:VEVENT', 'UID:slow-1', 'DTSTAMP:20270101T000000Z', 'DTSTART:20270310T100000Z', 'DTEND:20270310T110000Z', 'SUMMARY:Survives shutdown', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n');
    assert.ok((await rad.put('alice', `${calendar}slow-1.ics`, ics)).status < 300);
    proxy = await slowProxy(rad.url);
    dir = mkdtempSync(join(tmpdir(), 'almanac-shutdown-'));
    const runtime = await createRuntime(loadConfig({ ALMANAC_DATA_DIR: dir, ALMANAC_DEMO_CLIENT: 'false' }));
    try {
      const created = await runtime.services.clients.create({ name: 'Shutdown test', redirectUris: ['https://app.example/cb'] });
      client = { clientId: created.client.clientId, clientSecret: created.clientSecret };
    } finally {
      await runtime.close();
    }
  });
  after(async () => {
    await proxy?.close();
    await rad?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function serverWithAccount(env: Record<string, string>): Promise<{ server: ServerProcess; token: string }> {
    // API only, reading live: the request in flight is the provider call (no sync traffic, no mirror answer).
    const server = await startServerProcess({ ALMANAC_DATA_DIR: dir, ALMANAC_DEMO_CLIENT: 'false', ALMANAC_ALLOW_PRIVATE_NETWORKS: 'true', ALMANAC_ROLE: 'api', ALMANAC_READ_MODE: 'live', ...env });
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: `user-${Date.now()}` });
    assert.equal((await connectCaldav(server.url, s, { server_url: proxy.url, username: 'alice', password: 'alice-pw' })).status, 303);
    const tokens = await finishConnect(server.url, s, client);
    return { server, token: tokens.access_token };
  }

  test('the request in flight finishes with its events, new connections are refused, the process exits 0', async () => {
    const { server, token } = await serverWithAccount({ ALMANAC_SHUTDOWN_TIMEOUT_SECONDS: '20' });
    proxy.delayMs = 2500;
    const held = proxy.nextHeld();
    const pending = api(server.url, token).events({ start: '2027-03-01T00:00:00Z', end: '2027-03-31T00:00:00Z' });
    await held;
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(await refused(`${server.url}/api/health`), 'no new connections once SIGTERM arrived');
    const res = await pending;
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.events.map((e: { title: string }) => e.title),
      ['Survives shutdown'],
    );
    assert.equal(await server.exited, 0);
    const took = Date.now() - signalled;
    assert.ok(took >= 1500, `waited for the slow call (${took} ms)`);
    assert.match(server.output(), /"msg":"shutting down: no new connections; finishing the requests in flight"/);
    assert.match(server.output(), /"clean":true,"msg":"shutdown complete"/);
    proxy.delayMs = 0;
  });

  test('past ALMANAC_SHUTDOWN_TIMEOUT_SECONDS the connection is closed and the process exits 1, without waiting for the provider', async () => {
    const { server, token } = await serverWithAccount({ ALMANAC_SHUTDOWN_TIMEOUT_SECONDS: '1' });
    proxy.delayMs = 30_000;
    const held = proxy.nextHeld();
    const pending = api(server.url, token)
      .events({ start: '2027-03-01T00:00:00Z', end: '2027-03-31T00:00:00Z' })
      .then(
        (r) => r.status,
        (err: Error) => err.name,
      );
    await held;
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 1, 'a forced shutdown says so in its exit code');
    const took = Date.now() - signalled;
    assert.ok(took < 10_000, `exited within the bound, not after the provider's 30 s (${took} ms)`);
    assert.equal(await pending, 'TypeError', 'the held request lost its connection');
    assert.match(server.output(), /requests still running at the shutdown deadline: closing their connections/);
    proxy.delayMs = 0;
  });
});

describe('stdout nobody reads', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'almanac-pipe-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function heavyLogging(url: string, requests: number): Promise<void> {
    const batch = 25;
    for (let i = 0; i < requests; i += batch) {
      await Promise.all(Array.from({ length: batch }, () => fetch(`${url}/api/health`).then((r) => r.arrayBuffer())));
    }
  }

  test('a full stdout pipe (the reader stopped reading): SIGTERM still ends the process, exit 0', async () => {
    const server = await startServerProcess({ ALMANAC_DATA_DIR: dir, ALMANAC_DEMO_CLIENT: 'false' });
    server.child.stdout.pause();
    // Two log lines per request, about 200 KB in all: more than a pipe holds (64 KiB).
    await heavyLogging(server.url, 600);
    assert.equal((await fetch(`${server.url}/api/health`)).status, 200, 'serving never waits for the log reader');
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    const code = await Promise.race([server.exited, new Promise((r) => setTimeout(() => r('still running after 15 s'), 15_000))]);
    if (code === 'still running after 15 s') server.child.kill('SIGKILL');
    assert.equal(code, 0);
    assert.ok(Date.now() - signalled < 10_000);
  });

  test('a closed stdout (EPIPE): serving goes on, SIGTERM exits 0', async () => {
    const server = await startServerProcess({ ALMANAC_DATA_DIR: dir, ALMANAC_DEMO_CLIENT: 'false' });
    server.child.stdout.destroy();
    await heavyLogging(server.url, 300);
    assert.equal((await fetch(`${server.url}/api/health`)).status, 200);
    server.child.kill('SIGTERM');
    const code = await Promise.race([server.exited, new Promise((r) => setTimeout(() => r('still running after 15 s'), 15_000))]);
    if (code === 'still running after 15 s') server.child.kill('SIGKILL');
    assert.equal(code, 0);
    assert.doesNotMatch(server.stderr(), /EPIPE|Unhandled 'error' event/);
  });
});
