/** RFC 6797 §7.2: Strict-Transport-Security only on answers that came over https. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../support/server.js';

describe('HSTS', () => {
  let plain: TestServer;
  let proxied: TestServer;

  before(async () => {
    plain = await startServer();
    proxied = await startServer({ env: { ALMANAC_TRUST_PROXY: 'true' } });
  });
  after(async () => {
    await plain?.close();
    await proxied?.close();
  });

  test('not sent over plain http', async () => {
    const res = await fetch(`${plain.url}/api/health`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('strict-transport-security'), null);
    // The other helmet headers stay.
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  });

  test('a forwarded http request gets none either', async () => {
    const res = await fetch(`${proxied.url}/api/health`, { headers: { 'x-forwarded-proto': 'http' } });
    assert.equal(res.headers.get('strict-transport-security'), null);
  });

  test('sent when a trusted proxy says the request came over https', async () => {
    const res = await fetch(`${proxied.url}/api/health`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.match(res.headers.get('strict-transport-security') ?? '', /^max-age=31536000; includeSubDomains$/);
  });
});
