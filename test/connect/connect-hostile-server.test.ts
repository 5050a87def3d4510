/**
 * Anyone may open a connect session and point the CalDAV form at their own server, so
 * the server's answers are hostile input: an endless body or absurdly nested XML must
 * end in a clear message on the form, quickly, with nothing stored and the server fine.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectCaldav, openConnect } from '../support/connect-flow.js';
import { startFakeDav, type FakeDav } from '../support/fake-dav.js';
import { startServer, type TestServer } from '../support/server.js';

describe('the CalDAV form against a hostile server', () => {
  let server: TestServer;
  let endless: FakeDav;
  let nested: FakeDav;
  let client: { clientId: string; clientSecret: string };

  before(async () => {
    server = await startServer({ env: { ALMANAC_PROVIDER_MAX_RESPONSE_BYTES: String(256 * 1024) } });
    client = await server.createClient();
    endless = await startFakeDav((_req, res) => {
      res.writeHead(207, { 'content-type': 'application/xml' });
      res.write('<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">');
      const chunk = '<d:response><d:href>/x</d:href></d:response>'.repeat(1000);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    // 30,000 levels: xmldom would take many seconds of CPU on this.
    nested = await startFakeDav((_req, res) => {
      res.writeHead(207, { 'content-type': 'application/xml' }).end(`<d:multistatus xmlns:d="DAV:">${'<a>'.repeat(30_000)}${'</a>'.repeat(30_000)}</d:multistatus>`);
    });
  });
  after(async () => {
    await server?.close();
    await endless?.close();
    await nested?.close();
  });

  test('an endless answer gets a clear message on the form, and nothing is stored', async () => {
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'hostile-1' });
    const res = await connectCaldav(server.url, s, { server_url: endless.url, username: 'u', password: 'p' });
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, /far more data than a calendar server should/);
    const stored = await server.runtime.storage.db.selectFrom('accounts').selectAll().execute();
    assert.equal(stored.length, 0);
    const health = await fetch(`${server.url}/api/health`);
    assert.equal(health.status, 200);
  });

  test('deeply nested XML is refused without parsing it', async () => {
    const s = await openConnect(server.url, { client_id: client.clientId, user_id: 'hostile-2' });
    const started = Date.now();
    const res = await connectCaldav(server.url, s, { server_url: nested.url, username: 'u', password: 'p' });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /found no calendars there/);
    // Generous: the point is seconds of xmldom CPU are not spent (it takes ~10 s here unbounded).
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });
});
