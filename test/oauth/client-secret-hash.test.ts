/**
 * Client secrets are stored as HMAC-SHA256 under a derived key: nothing in the row
 * reveals the secret or verifies without the key, a legacy scrypt hash still works
 * once and is replaced by the HMAC on that use, and rotation stores an HMAC.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveKeys } from '../../src/crypto/keys.js';
import { checkClientSecret, hashClientSecret, hashSecret } from '../../src/crypto/secret-hash.js';
import { dialects } from '../support/databases.js';
import { tokenRequest } from '../support/oauth-flow.js';
import { startServer, TEST_SECRET, type TestServer } from '../support/server.js';

for (const { dialect, skip } of await dialects()) describe(`client secrets on ${dialect}`, { skip }, () => {
  let server: TestServer;
  const storedHash = async (clientId: string): Promise<string> =>
    (await server.runtime.storage.db.selectFrom('clients').select('secret_hash').where('client_id', '=', clientId).executeTakeFirstOrThrow()).secret_hash;
  // A client-authenticated call that fails on the grant, after authentication: 400 invalid_grant means the secret was accepted.
  const authenticate = async (clientId: string, clientSecret: string): Promise<string> => {
    const res = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: 'not-a-token', client_id: clientId, client_secret: clientSecret });
    return ((await res.json()) as { error: string }).error;
  };

  before(async () => {
    server = await startServer({ dialect });
  });
  after(() => server?.close());

  test('a new client is stored as an HMAC that only verifies under the derived key', async () => {
    const { clientId, clientSecret } = await server.createClient();
    const stored = await storedHash(clientId);
    assert.match(stored, /^hmac-sha256\$[A-Za-z0-9_-]{43}$/);
    assert.ok(!stored.includes(clientSecret));
    assert.equal(await authenticate(clientId, clientSecret), 'invalid_grant');
    assert.equal(await authenticate(clientId, `${clientSecret}x`), 'invalid_client');
    assert.equal(await checkClientSecret(deriveKeys(TEST_SECRET).clientSecrets, clientSecret, stored), 'match');
    assert.equal(await checkClientSecret(deriveKeys(`${TEST_SECRET}-other`).clientSecrets, clientSecret, stored), 'mismatch');
  });

  test('a legacy scrypt hash works, and its first successful use replaces it with the HMAC', async () => {
    const { clientId, clientSecret } = await server.createClient();
    await server.runtime.services.clientsRepo.update(clientId, { secretHash: await hashSecret(clientSecret) });
    assert.match(await storedHash(clientId), /^scrypt\$/);
    assert.equal(await authenticate(clientId, 'wrong-secret'), 'invalid_client');
    assert.match(await storedHash(clientId), /^scrypt\$/, 'a failed attempt changes nothing');
    assert.equal(await authenticate(clientId, clientSecret), 'invalid_grant');
    assert.equal(await storedHash(clientId), hashClientSecret(deriveKeys(TEST_SECRET).clientSecrets, clientSecret));
    assert.equal(await authenticate(clientId, clientSecret), 'invalid_grant');
    assert.equal(await authenticate(clientId, 'wrong-secret'), 'invalid_client');
  });

  test('rotation stores an HMAC and the old secret stops working', async () => {
    const { clientId, clientSecret } = await server.createClient();
    const next = await server.runtime.services.clients.rotateSecret(clientId);
    assert.match(await storedHash(clientId), /^hmac-sha256\$/);
    assert.equal(await authenticate(clientId, clientSecret), 'invalid_client');
    assert.equal(await authenticate(clientId, next), 'invalid_grant');
  });

  test('an unknown client id is refused like a wrong secret', async () => {
    assert.equal(await authenticate('alm_nobody', 'whatever'), 'invalid_client');
  });
});
