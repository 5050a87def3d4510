/** The Microsoft settings: read once in config.ts, validated, with their documented defaults. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { buildProviderRegistry } from '../../src/providers/build-registry.js';

const base = { ALMANAC_DATA_DIR: '/tmp/almanac-config-test' };

test('Microsoft is off without a client, on with one, with the documented defaults', () => {
  assert.equal(loadConfig(base).microsoft, undefined);
  assert.equal(buildProviderRegistry(loadConfig(base)).registry.available().includes('microsoft'), false);
  const config = loadConfig({ ...base, MICROSOFT_CLIENT_ID: 'id', MICROSOFT_CLIENT_SECRET: 'secret' });
  assert.deepEqual(config.microsoft, {
    clientId: 'id',
    clientSecret: 'secret',
    tenant: 'common',
    authorityUrl: 'https://login.microsoftonline.com',
    graphUrl: 'https://graph.microsoft.com/v1.0',
    retryMaxElapsedMs: 10_000,
  });
  const built = buildProviderRegistry(config);
  assert.ok(built.microsoft);
  assert.deepEqual(built.registry.available(), ['microsoft', 'apple', 'caldav']);
  assert.equal(built.registry.get('microsoft')?.revoke, undefined, 'Graph has no revocation endpoint');
  assert.ok(built.registry.get('microsoft')?.changes, 'the delta feed is registered');
});

test('national clouds and tenants: authority and Graph URLs and the tenant are taken as given', () => {
  const config = loadConfig({
    ...base,
    MICROSOFT_CLIENT_ID: 'id',
    MICROSOFT_CLIENT_SECRET: 'secret',
    MICROSOFT_TENANT: 'contoso.onmicrosoft.com',
    MICROSOFT_AUTHORITY_URL: 'https://login.microsoftonline.us/',
    MICROSOFT_GRAPH_URL: 'https://graph.microsoft.us/v1.0/',
  });
  assert.equal(config.microsoft?.tenant, 'contoso.onmicrosoft.com');
  assert.equal(config.microsoft?.authorityUrl, 'https://login.microsoftonline.us');
  assert.equal(config.microsoft?.graphUrl, 'https://graph.microsoft.us/v1.0');
});

test('half a client, a malformed tenant or a bad URL is a clear configuration error', () => {
  assert.throws(() => loadConfig({ ...base, MICROSOFT_CLIENT_ID: 'id' }), (e: unknown) => e instanceof ConfigError && /set together/.test(e.message));
  assert.throws(() => loadConfig({ ...base, MICROSOFT_CLIENT_ID: 'id', MICROSOFT_CLIENT_SECRET: 's', MICROSOFT_TENANT: 'a/b' }), (e: unknown) => e instanceof ConfigError && /MICROSOFT_TENANT/.test(e.message));
  assert.throws(() => loadConfig({ ...base, MICROSOFT_CLIENT_ID: 'id', MICROSOFT_CLIENT_SECRET: 's', MICROSOFT_GRAPH_URL: 'ftp://x' }), (e: unknown) => e instanceof ConfigError && /MICROSOFT_GRAPH_URL/.test(e.message));
});
