/**
 * Hostile and unlucky provider answers: bodies far over the cap (declared, streamed
 * without end, compressed), and the HTTP/1.0 close-while-paused answer that used to
 * crash the whole process from inside undici. Every server here is a real socket on
 * loopback; the code under test is the fetch the adapters receive.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createGuardedFetch } from '../../src/http/guarded-fetch.js';
import { createProviderFetch } from '../../src/http/provider-fetch.js';
import { createCaldavProvider } from '../../src/providers/caldav/index.js';
import { createGoogleProvider, GoogleOAuthClient } from '../../src/providers/google/index.js';
import { OAuthTokenEndpointError } from '../../src/providers/oauth-token-manager.js';
import { ProviderError, ResponseTooLargeError, type OAuthCredentials } from '../../src/providers/types.js';

const MB = 1024 * 1024;
const log = { debug() {}, info() {}, warn() {}, error() {} };

interface RawServer {
  url: string;
  /** Bytes the server managed to hand to the kernel, per connection. */
  written: number[];
  close(): Promise<void>;
}

/** A server speaking raw bytes, so answers can be exactly as broken as wanted. */
async function rawServer(answer: (socket: Socket, written: (n: number) => void, request: string) => void): Promise<RawServer> {
  const written: number[] = [];
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const index = written.push(0) - 1;
    socket.once('data', (chunk: Buffer) => answer(socket, (n) => (written[index]! += n), chunk.toString('latin1')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    written,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Writes `chunk` forever (until the peer goes away), respecting the socket's own backpressure. */
function endless(socket: Socket, chunk: Buffer, count: (n: number) => void): void {
  const pump = (): void => {
    while (!socket.destroyed) {
      count(chunk.length);
      if (!socket.write(chunk)) return void socket.once('drain', pump);
    }
  };
  pump();
}

describe('provider answers over the size cap', () => {
  let streaming: RawServer;
  let declared: RawServer;
  let bomb: HttpServer;
  let bombUrl: string;
  const block = Buffer.alloc(64 * 1024, 'x');

  before(async () => {
    // Chunked 207 that never ends.
    streaming = await rawServer((socket, count) => {
      socket.write('HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n');
      const frame = Buffer.concat([Buffer.from(`${block.length.toString(16)}\r\n`), block, Buffer.from('\r\n')]);
      endless(socket, frame, count);
    });
    // Declares 100 MB up front, then streams it.
    declared = await rawServer((socket, count) => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nContent-Length: ${100 * MB}\r\n\r\n`);
      endless(socket, block, count);
    });
    // 32 MB of zeros that gzip to about 32 KB.
    const zipped = gzipSync(Buffer.alloc(32 * MB));
    bomb = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(zipped));
    await new Promise<void>((resolve) => bomb.listen(0, '127.0.0.1', resolve));
    bombUrl = `http://127.0.0.1:${(bomb.address() as AddressInfo).port}/`;
  });

  after(async () => {
    await streaming.close();
    await declared.close();
    bomb.closeAllConnections();
    bomb.close();
  });

  test('an endless body is cut off just past the cap, not read on', async () => {
    const fetchCapped = createGuardedFetch({ allowPrivateNetworks: true, maxResponseBytes: 1 * MB, timeoutMs: 20_000 });
    const before = streaming.written.length;
    await assert.rejects(fetchCapped(streaming.url, { method: 'PROPFIND' }), (err: unknown) => {
      assert.ok(err instanceof ResponseTooLargeError, `expected ResponseTooLargeError, got ${String(err)}`);
      assert.equal(err.limitBytes, 1 * MB);
      assert.match(err.message, /1 MB/);
      return true;
    });
    // The server could write the cap plus what loopback socket buffers hold, and no more.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const sent = streaming.written[before]!;
    assert.ok(sent < 1 * MB + 16 * MB, `the server wrote ${sent} bytes before the connection was dropped`);
  });

  test('a declared Content-Length over the cap is refused before the body is read', async () => {
    const fetchCapped = createProviderFetch({ maxResponseBytes: 1 * MB, timeoutMs: 20_000 });
    await assert.rejects(fetchCapped(declared.url), ResponseTooLargeError);
  });

  test('a compressed answer is capped after decompression too', async () => {
    const fetchCapped = createProviderFetch({ maxResponseBytes: 1 * MB });
    await assert.rejects(fetchCapped(bombUrl), ResponseTooLargeError);
    // Under a cap it fits, it is decompressed as fetch would.
    const roomy = createProviderFetch({ maxResponseBytes: 40 * MB });
    const body = await (await roomy(bombUrl)).arrayBuffer();
    assert.equal(body.byteLength, 32 * MB);
  });

  test('the CalDAV adapter turns it into a provider error that names the limit', async () => {
    const provider = createCaldavProvider();
    await assert.rejects(
      provider.listCalendars({
        credentials: { kind: 'basic', serverUrl: streaming.url, username: 'u', password: 'p', calendarHomeUrl: `${streaming.url}u/` },
        fetch: createGuardedFetch({ allowPrivateNetworks: true, maxResponseBytes: 2 * MB }),
        log,
      }),
      (err: unknown) => err instanceof ProviderError && err.code === 'UNKNOWN' && /larger than the 2 MB limit/.test(err.message),
    );
  });

  test('Google: an oversized API answer is a provider error and is not retried', async () => {
    let requests = 0;
    const huge = JSON.stringify({ items: [], padding: 'x'.repeat(3 * MB) });
    const server = createHttpServer((_req, res) => {
      requests += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(huge);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const settings = { clientId: 'c', clientSecret: 's', authUrl: root, tokenUrl: `${root}/token`, revokeUrl: `${root}/revoke`, userInfoUrl: `${root}/userinfo`, apiRoot: root, retry: { maxElapsedMs: 2000, baseDelayMs: 10 } };
    const credentials: OAuthCredentials = { kind: 'oauth', getAccessToken: async () => 'token', refreshAfterRejection: async () => 'token' };
    const fetchCapped = createProviderFetch({ maxResponseBytes: 1 * MB });
    try {
      await assert.rejects(
        createGoogleProvider(settings).listCalendars({ credentials, fetch: fetchCapped, log }),
        (err: unknown) => err instanceof ProviderError && err.code === 'UNKNOWN' && /larger than the 1 MB limit/.test(err.message),
      );
      assert.equal(requests, 1);
      const oauth = new GoogleOAuthClient(settings, { fetch: fetchCapped });
      await assert.rejects(oauth.refresh('r'), (err: unknown) => err instanceof OAuthTokenEndpointError && err.error === 'response_too_large');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('a peer that closes while the body is still unread (HTTP/1.0, Connection: close)', () => {
  // Sizes around the stream buffer's high-water mark and well past it: undici 6/7 paused
  // its parser on these and then died on the close with `assert(!this.paused)`.
  const sizes = [17_000, 40_000, 60_000, 1 * MB];
  let server: RawServer;
  const bodies = new Map<number, Buffer>();

  before(async () => {
    for (const size of sizes) bodies.set(size, Buffer.alloc(size, String(size % 10)));
    server = await rawServer((socket, _count, request) => {
      // The request line names the size wanted.
      const size = Number(/^GET \/(\d+)/.exec(request)?.[1] ?? 17_000);
      const body = bodies.get(size) ?? Buffer.alloc(size, 'a');
      socket.write(`HTTP/1.0 200 OK\r\nContent-Type: application/xml\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      socket.end(body);
    });
  });
  after(() => server.close());

  for (const size of sizes) {
    test(`${size} bytes read only after a delay arrive whole, and the process lives`, async () => {
      const fetchSafe = createGuardedFetch({ allowPrivateNetworks: true });
      const response = await fetchSafe(`${server.url}${size}`);
      // The caller is busy elsewhere (another calendar's parse) while the peer closes.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const body = Buffer.from(await response.arrayBuffer());
      assert.equal(body.length, size);
      assert.ok(body.equals(bodies.get(size)!), 'the body is intact');
    });
  }
});
