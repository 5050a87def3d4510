/**
 * Digest responses checked against the worked examples of the RFCs themselves (values
 * computed by the RFCs' authors, not by this code), and the challenge grammar against
 * headers as servers send them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDavAuthorizer, sendAuthorized } from '../../src/providers/caldav/dav-authorizer.js';
import { digestAuthorization, digestChallengeOf, parseChallenges } from '../../src/providers/caldav/http-digest.js';

function param(header: string, name: string): string | undefined {
  return parseChallenges(header)[0]?.params[name];
}

describe('digest responses (RFC examples)', () => {
  test('RFC 2617 §3.5: MD5, qop=auth', () => {
    const challenge = digestChallengeOf('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"')!;
    const header = digestAuthorization(challenge, { username: 'Mufasa', password: 'Circle Of Life', method: 'GET', uri: '/dir/index.html', nonceCount: 1, cnonce: '0a4f113b' });
    assert.equal(param(header, 'response'), '6629fae49393a05397450978507c4ef1');
    assert.equal(param(header, 'opaque'), '5ccc069c403ebaf9f0171e9517f40e41');
    // RFC 7616 §3.4: nc and qop are not quoted.
    assert.match(header, /, nc=00000001,/);
    assert.match(header, /, qop=auth,/);
  });

  const rfc7616 = (algorithm: string) =>
    digestChallengeOf(
      `Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=${algorithm}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
    )!;
  const rfc7616Request = { username: 'Mufasa', password: 'Circle of Life', method: 'GET', uri: '/dir/index.html', nonceCount: 1, cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ' };

  test('RFC 7616 §3.9.1: MD5', () => {
    assert.equal(param(digestAuthorization(rfc7616('MD5'), rfc7616Request), 'response'), '8ca523f5e9506fed4657c9700eebdbec');
  });

  test('RFC 7616 §3.9.1: SHA-256', () => {
    const header = digestAuthorization(rfc7616('SHA-256'), rfc7616Request);
    assert.equal(param(header, 'response'), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    assert.match(header, /algorithm=SHA-256/);
  });

  test('the nonce count is eight hex digits and changes the response', () => {
    const first = digestAuthorization(rfc7616('MD5'), rfc7616Request);
    const eleventh = digestAuthorization(rfc7616('MD5'), { ...rfc7616Request, nonceCount: 11 });
    assert.match(eleventh, /nc=0000000b/);
    assert.notEqual(param(first, 'response'), param(eleventh, 'response'));
  });

  test('a fresh client nonce per request when none is given', () => {
    const a = digestAuthorization(rfc7616('MD5'), { ...rfc7616Request, cnonce: undefined });
    const b = digestAuthorization(rfc7616('MD5'), { ...rfc7616Request, cnonce: undefined });
    assert.notEqual(param(a, 'cnonce'), param(b, 'cnonce'));
  });

  test('quotes and backslashes in a user name are escaped; a non-ASCII name travels as username*', () => {
    const quoted = digestAuthorization(rfc7616('MD5'), { ...rfc7616Request, username: 'a"b\\c' });
    assert.equal(param(quoted, 'username'), 'a"b\\c');
    const accented = digestAuthorization(rfc7616('MD5'), { ...rfc7616Request, username: 'Jäsøn' });
    assert.match(accented, /username\*=UTF-8''J%C3%A4s%C3%B8n/);
  });
});

describe('challenges', () => {
  test('Digest among other schemes in one header, in the order offered', () => {
    const header = 'Basic realm="x", Digest realm="SabreDAV",qop="auth",nonce="6b15",opaque="df58", Negotiate abc==';
    assert.deepEqual(
      parseChallenges(header).map((c) => c.scheme),
      ['Basic', 'Digest', 'Negotiate'],
    );
    const digest = digestChallengeOf(header)!;
    assert.equal(digest.realm, 'SabreDAV');
    assert.equal(digest.nonce, '6b15');
    assert.equal(digest.algorithm, 'MD5');
    assert.equal(digest.qop, 'auth');
  });

  test('the first supported algorithm wins; unknown ones are passed over', () => {
    const header = 'Digest realm="r", nonce="n1", algorithm=SHA-999, Digest realm="r", nonce="n2", algorithm=SHA-256-sess, qop="auth", Digest realm="r", nonce="n3"';
    const digest = digestChallengeOf(header)!;
    assert.equal(digest.nonce, 'n2');
    assert.equal(digest.algorithm, 'SHA-256-sess');
  });

  test('stale, userhash and RFC 7616 parameters such as charset are read, not refused', () => {
    const digest = digestChallengeOf('Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, nonce="5TsQ", charset=UTF-8, userhash=true, stale=TRUE')!;
    assert.equal(digest.stale, true);
    assert.equal(digest.userhash, true);
    const header = digestAuthorization(digest, { username: 'u', password: 'p', method: 'GET', uri: '/', nonceCount: 1, cnonce: 'c' });
    assert.match(header, /userhash=true/);
    assert.notEqual(param(header, 'username'), 'u');
  });

  test('no Digest, a Digest without nonce, or only an unknown qop: nothing to answer', () => {
    assert.equal(digestChallengeOf('Basic realm="x"'), undefined);
    assert.equal(digestChallengeOf('Digest realm="x"'), undefined);
    assert.equal(digestChallengeOf('Digest realm="x", nonce="n", qop="auth-conf"'), undefined);
    assert.equal(digestChallengeOf(null), undefined);
  });

  test('hostile headers end without throwing', () => {
    for (const header of ['Digest realm="unterminated', '=====', ',,,,', 'Digest ="x"', 'Digest realm=\\"', '"'.repeat(1000), 'Digest ' + 'a=b, '.repeat(5000)]) {
      assert.doesNotThrow(() => digestChallengeOf(header));
    }
  });
});

describe('sending with the account\'s authorization', () => {
  const challenge = (nonce: string, extra = '') => new Response(null, { status: 401, headers: { 'www-authenticate': `Digest realm="r", qop="auth", nonce="${nonce}"${extra}` } });

  test('a stale nonce is replaced and the request sent again; a refusal under a fresh nonce ends it', async () => {
    // Distinct user names: what one test learns about this origin must not reach the next.
    const authorizer = createDavAuthorizer({ username: 'stale-user', password: 'pw' });
    const sent: string[] = [];
    const script = [challenge('n1'), challenge('n2', ', stale=true'), new Response('ok')];
    const response = await sendAuthorized(authorizer, 'http://dav.example/cal/', 'GET', undefined, async (authorization) => {
      sent.push(authorization);
      return script.shift()!;
    });
    assert.equal(response.status, 200);
    assert.deepEqual(sent.map((a) => a.split(' ')[0]), ['Basic', 'Digest', 'Digest']);
    assert.equal(param(sent[1]!, 'nonce'), 'n1');
    assert.equal(param(sent[2]!, 'nonce'), 'n2');

    // The next request starts with the remembered nonce; the server has forgotten it and
    // hands out another (no stale flag): one more try, then a refusal is final.
    const later: string[] = [];
    const refusals = [challenge('n3'), challenge('n4'), challenge('n5')];
    const refused = await sendAuthorized(authorizer, 'http://dav.example/cal/', 'GET', undefined, async (authorization) => {
      later.push(authorization);
      return refusals.shift()!;
    });
    assert.equal(refused.status, 401);
    assert.deepEqual(later.map((a) => param(a, 'nonce')), ['n2', 'n3']);
  });

  test('a 401 without a Digest challenge is returned at once', async () => {
    const authorizer = createDavAuthorizer({ username: 'basic-user', password: 'pw' });
    let calls = 0;
    const response = await sendAuthorized(authorizer, 'http://dav.example/', 'PROPFIND', '<x/>', async () => {
      calls++;
      return new Response(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' } });
    });
    assert.equal(response.status, 401);
    assert.equal(calls, 1);
  });

  test('a server that challenges for ever is tried three times at most', async () => {
    const authorizer = createDavAuthorizer({ username: 'loop-user', password: 'pw' });
    let calls = 0;
    const response = await sendAuthorized(authorizer, 'http://dav.example/', 'GET', undefined, async () => challenge(`n${++calls}`, ', stale=true'));
    assert.equal(response.status, 401);
    assert.equal(calls, 3);
  });
});
