import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AlmanacClient,
  AlmanacError,
  AuthenticationError,
  ValidationError,
  MobiscrollConnectClient,
  MobiscrollConnectError,
  createPkcePair,
  generateCodeChallenge,
  generateCodeVerifier,
  generateState,
} from '../src/index.js';
import { bearer, json, makeClient, startServer } from './helpers.js';

const TOKENS = { access_token: 'acc-1', refresh_token: 'ref-1', token_type: 'Bearer', expires_in: 3600 };

test('generateAuthUrl builds the authorize URL with the parameters Mobiscroll users pass', () => {
  const { client } = makeClient('https://almanac.example.com/api/');
  const url = new URL(
    client.auth.generateAuthUrl({
      userId: 'user 123',
      scope: 'read',
      state: 'xyz',
      providers: ['google', 'microsoft'],
      lng: 'es',
      theme: 'dark',
    }),
  );
  assert.equal(url.origin + url.pathname, 'https://almanac.example.com/api/oauth/authorize', 'trailing slash trimmed');
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    response_type: 'code',
    client_id: 'client-1',
    user_id: 'user 123',
    redirect_uri: 'https://app.example.com/callback',
    scope: 'read',
    state: 'xyz',
    providers: 'google,microsoft',
    lng: 'es',
    theme: 'dark',
  });

  const minimal = new URL(client.auth.generateAuthUrl({ userId: 'u1', providers: 'google,apple' }));
  assert.deepEqual([...minimal.searchParams.keys()], ['response_type', 'client_id', 'user_id', 'redirect_uri', 'providers']);

  const pkce = new URL(client.auth.generateAuthUrl({ userId: 'u1', codeChallenge: 'abc' }));
  assert.equal(pkce.searchParams.get('code_challenge'), 'abc');
  assert.equal(pkce.searchParams.get('code_challenge_method'), 'S256');
});

test('pushAuthorizationRequest posts the authorize parameters as a form with Basic auth; generateAuthUrl({ requestUri }) builds the short URL', async () => {
  const requestUri = 'urn:ietf:params:oauth:request_uri:abc123';
  const server = await startServer((_req, res) => json(res, 201, { request_uri: requestUri, expires_in: 60 }));
  try {
    const { client } = makeClient(server.baseUrl, { credentials: TOKENS });
    const pushed = await client.auth.pushAuthorizationRequest({ userId: 'user 123', scope: 'read', state: 'xyz', providers: ['google', 'caldav'], codeChallenge: 'c'.repeat(43) });
    assert.deepEqual(pushed, { request_uri: requestUri, expires_in: 60 });
    const [req] = server.requests;
    assert.ok(req);
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/api/oauth/par');
    assert.equal(req.headers.authorization, `Basic ${Buffer.from('client-1:s3cret').toString('base64')}`, 'client credentials, never the user’s bearer');
    assert.match(String(req.headers['content-type']), /^application\/x-www-form-urlencoded/);
    assert.deepEqual(Object.fromEntries(new URLSearchParams(req.body)), {
      response_type: 'code',
      client_id: 'client-1',
      user_id: 'user 123',
      redirect_uri: 'https://app.example.com/callback',
      scope: 'read',
      state: 'xyz',
      providers: 'google,caldav',
      code_challenge: 'c'.repeat(43),
      code_challenge_method: 'S256',
    });

    const short = new URL(client.auth.generateAuthUrl({ requestUri }));
    assert.equal(short.origin + short.pathname, `${server.baseUrl}/oauth/authorize`);
    assert.deepEqual(Object.fromEntries(short.searchParams), { client_id: 'client-1', request_uri: requestUri });

    const url = new URL(await client.auth.generatePushedAuthUrl({ userId: 'u2' }));
    assert.deepEqual(Object.fromEntries(url.searchParams), { client_id: 'client-1', request_uri: requestUri });
    assert.equal(Object.fromEntries(new URLSearchParams(server.requests[1]!.body)).user_id, 'u2');
    assert.throws(() => client.auth.generateAuthUrl({ requestUri: '' }), AlmanacError);
    await assert.rejects(client.auth.pushAuthorizationRequest({} as never), (e: unknown) => e instanceof AlmanacError && /userId/.test(e.message));
    assert.equal(server.requests.length, 2, 'nothing sent without a userId');
  } finally {
    await server.close();
  }
});

test('pushAuthorizationRequest failures are typed: invalid_client is an AuthenticationError, invalid_scope a ValidationError', async () => {
  const server = await startServer((req, res) =>
    new URLSearchParams(req.body).get('scope') === 'admin'
      ? json(res, 400, { error: 'invalid_scope', error_description: 'scope must be free-busy, read or read-write' })
      : json(res, 401, { error: 'invalid_client', error_description: 'Client authentication failed' }, { 'www-authenticate': 'Basic realm="almanac"' }),
  );
  try {
    const { client } = makeClient(server.baseUrl);
    await assert.rejects(
      client.auth.pushAuthorizationRequest({ userId: 'u', scope: 'admin' }),
      (e: unknown) => e instanceof ValidationError && e.errorCode === 'invalid_scope' && /free-busy/.test(e.message),
    );
    await assert.rejects(client.auth.pushAuthorizationRequest({ userId: 'u' }), (e: unknown) => e instanceof AuthenticationError && e.errorCode === 'invalid_client' && e.status === 401);
  } finally {
    await server.close();
  }
});

test('getToken posts the code as a form with Basic auth and CLIENT_ID, and stores the tokens', async () => {
  const server = await startServer((_req, res) => json(res, 200, TOKENS));
  try {
    const { client } = makeClient(server.baseUrl);
    const tokens = await client.auth.getToken('code-1', { codeVerifier: 'verifier-1' });
    assert.deepEqual(tokens, TOKENS);
    assert.deepEqual(client.getCredentials(), TOKENS);

    const [req] = server.requests;
    assert.ok(req);
    assert.equal(req.path, '/api/oauth/token');
    assert.equal(req.headers.authorization, `Basic ${Buffer.from('client-1:s3cret').toString('base64')}`);
    assert.equal(req.headers.client_id, 'client-1');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(req.body)), {
      grant_type: 'authorization_code',
      code: 'code-1',
      redirect_uri: 'https://app.example.com/callback',
      code_verifier: 'verifier-1',
    });
  } finally {
    await server.close();
  }
});

test('PKCE helpers: RFC 7636 test vector, verifier shape, matching pair', async () => {
  // RFC 7636 Appendix B.
  assert.equal(
    await generateCodeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'),
    'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  );
  const verifier = await generateCodeVerifier();
  assert.match(verifier, /^[A-Za-z0-9_-]{43}$/);
  assert.match(await generateCodeVerifier(96), /^[A-Za-z0-9_-]{128}$/);
  await assert.rejects(generateCodeVerifier(16), RangeError);
  assert.notEqual(await generateCodeVerifier(), verifier);
  const pair = await createPkcePair();
  assert.equal(pair.codeChallengeMethod, 'S256');
  assert.equal(pair.codeChallenge, await generateCodeChallenge(pair.codeVerifier));
  assert.match(await generateState(), /^[A-Za-z0-9_-]{22}$/);
});

test('revoke sends the stored refresh token without a bearer, then forgets the credentials', async () => {
  const server = await startServer((_req, res) => json(res, 200, { success: true }));
  try {
    const { client } = makeClient(server.baseUrl, { credentials: TOKENS });
    assert.deepEqual(await client.auth.revoke('someone-elses-token'), { success: true });
    assert.deepEqual(client.getCredentials(), TOKENS, 'another token: own credentials kept');
    assert.deepEqual(await client.auth.revoke(), { success: true });
    assert.equal(client.getCredentials(), undefined);
    await assert.rejects(client.auth.revoke(), AlmanacError);

    assert.deepEqual(server.requests.map((r) => JSON.parse(r.body)), [{ token: 'someone-elses-token' }, { token: 'ref-1' }]);
    for (const r of server.requests) {
      assert.equal(r.path, '/api/oauth/revoke');
      assert.equal(r.headers.authorization, undefined);
      assert.match(String(r.headers['content-type']), /^application\/json/);
    }
  } finally {
    await server.close();
  }
});

test('getConnectionStatus and disconnect send the bearer; disconnect uses the query string', async () => {
  const status = {
    connections: { google: [{ id: 'a@b.com', grantedScopes: [], calendarPermissionGranted: true, syncState: 'ok' }], microsoft: [], apple: [], caldav: [] },
    limitReached: false,
  };
  const server = await startServer((req, res) => {
    if (req.path === '/api/oauth/connection-status') return json(res, 200, status);
    json(res, 200, { success: true, message: 'Disconnected' });
  });
  try {
    const { client } = makeClient(server.baseUrl, { credentials: TOKENS });
    assert.deepEqual(await client.auth.getConnectionStatus(), status);
    assert.deepEqual(await client.auth.disconnect({ provider: 'google', account: 'a@b.com' }), { success: true, message: 'Disconnected' });
    await client.auth.disconnect({ provider: 'microsoft' });

    const [s, d1, d2] = server.requests;
    assert.equal(s?.method, 'GET');
    assert.equal(bearer(s!), 'acc-1');
    assert.equal(d1?.method, 'POST');
    assert.equal(d1?.path, '/api/oauth/disconnect');
    assert.deepEqual(Object.fromEntries(d1!.query), { provider: 'google', account: 'a@b.com' });
    assert.deepEqual(Object.fromEntries(d2!.query), { provider: 'microsoft' });
    assert.equal(bearer(d1!), 'acc-1');
  } finally {
    await server.close();
  }
});

test('constructor validates its options; the Mobiscroll names are the same classes', () => {
  assert.throws(
    () => new AlmanacClient({ clientId: 'a', clientSecret: 'b', redirectUri: 'c' } as never),
    (e: unknown) => e instanceof MobiscrollConnectError && e.code === 'CONFIGURATION_ERROR' && /baseUrl/.test(e.message),
  );
  assert.throws(
    () => new AlmanacClient({ baseUrl: 'almanac.example.com', clientId: 'a', clientSecret: 'b', redirectUri: 'c' }),
    /absolute URL/,
  );
  assert.equal(MobiscrollConnectClient, AlmanacClient);
  assert.equal(MobiscrollConnectError, AlmanacError);

  const client = new MobiscrollConnectClient({
    baseUrl: 'https://almanac.example.com/api',
    clientId: 'id',
    clientSecret: 'secret',
    redirectUri: 'https://app.example.com/cb',
  });
  assert.deepEqual(client.getConfig(), {
    baseUrl: 'https://almanac.example.com/api',
    clientId: 'id',
    clientSecret: 'secret',
    redirectUri: 'https://app.example.com/cb',
  });
  assert.equal(client.on('tokens', () => undefined), client, 'on() chains as in Mobiscroll');
  client.setCredentials(TOKENS);
  assert.deepEqual(client.getCredentials(), TOKENS);
  assert.throws(() => client.setCredentials({} as never), AlmanacError);
});
