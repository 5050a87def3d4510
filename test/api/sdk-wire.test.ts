/**
 * Mobiscroll's official SDKs (Node, Python, PHP, Ruby, Go, Java, .NET), unchanged but
 * for their base URL, against a real Almanac with a real Radicale behind it. Each
 * request here is one an SDK sends, byte for byte where it matters (headers, empty
 * bodies, repeated parameters, date formats), written with plain fetch:
 *
 * - every SDK's DELETE /api/event: parameters in the query and `Content-Type:
 *   application/json` with no body at all; GETs carry the same header;
 * - disconnect: POST with a `{}` body (Node, Python, Ruby, Go, Java) or `[]` (PHP);
 * - Python and PHP: `scope=calendar` by default, and a retry at /api/connection-status
 *   and /api/disconnect when the /api/oauth/… call fails;
 * - Ruby and Go: `providers=google&providers=caldav`;
 * - Ruby: `Time` values as `2031-03-10 10:00:00 UTC` / `… +0100`, in queries and bodies;
 * - token exchange: form body, Basic auth and a CLIENT_ID header.
 *
 * What Almanac says it did is checked on Radicale directly.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServer, type TestServer } from '../support/server.js';
import { dialects } from '../support/databases.js';
import { connectCaldav, type ConnectSessionHandle } from '../support/connect-flow.js';
import { cookieFrom, csrfFrom, postForm } from '../support/oauth-flow.js';
import { defaultCalendarColor } from '../../src/domain/calendar-color.js';
import { VTIMEZONE_BERLIN } from '../support/ics-fixtures.js';

const REDIRECT_URI = 'https://app.example/callback';
const BERLIN_TZ = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//test//EN', ...VTIMEZONE_BERLIN, 'END:VCALENDAR'].join('\r\n');

interface Wire {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

async function read(res: Response): Promise<Wire> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

for (const { dialect, skip } of await dialects()) describe(`official SDK requests on ${dialect}`, { skip: RADICALE_SKIP || skip }, () => {
  let rad: RadicaleServer;
  let server: TestServer;
  let client: { clientId: string; clientSecret: string };
  let work: string;
  let home: string;
  let holidays: string;
  let token: string;

  /** What every SDK sends on API calls: a JSON content type on every request, bodies or not. */
  function sdk(method: string, path: string, opts: { body?: string; bearer?: string | null } = {}): Promise<Wire> {
    const bearer = opts.bearer === undefined ? token : opts.bearer;
    return fetch(`${server.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', accept: 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      ...(opts.body !== undefined ? { body: opts.body } : {}),
    }).then(read);
  }

  /** The authorize URL an SDK builds, opened by a browser; the connect page it lands on. */
  async function authorize(query: string): Promise<{ res: Response; session?: ConnectSessionHandle & { page: string } }> {
    const res = await fetch(`${server.url}/api/oauth/authorize?${query}`, { redirect: 'manual' });
    const cookie = cookieFrom(res);
    if (res.status !== 302 || !cookie || res.headers.get('location') !== '/connect') return { res };
    const page = await (await fetch(`${server.url}/connect`, { headers: { cookie } })).text();
    return { res, session: { cookie, csrf: csrfFrom(page), page } };
  }

  /** Continue on the hub, then the SDKs' token exchange: form body, Basic auth, CLIENT_ID header. */
  async function finish(s: ConnectSessionHandle): Promise<{ access_token: string; refresh_token: string; scope: string }> {
    const done = await postForm(`${server.url}/connect/continue`, s.cookie, { csrf: s.csrf });
    assert.equal(done.status, 302);
    const code = new URL(done.headers.get('location')!).searchParams.get('code');
    assert.ok(code);
    const res = await fetch(`${server.url}/api/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`,
        CLIENT_ID: client.clientId,
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI }).toString(),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as { access_token: string; refresh_token: string; scope: string };
  }

  before(async () => {
    rad = await startRadicale({ users: { alice: 'alice-pw', bob: 'bob-pw' } });
    work = await rad.mkcalendar('alice', 'work', { displayName: 'Work', color: '#3366CCFF', description: 'Work things', timezone: BERLIN_TZ });
    home = await rad.mkcalendar('alice', 'home', { displayName: 'Home' });
    holidays = await rad.mkcalendar('alice', 'holidays', { displayName: 'Holidays', color: '#0B8043' });
    await rad.setReadOnly('alice', 'holidays');
    await rad.mkcalendar('bob', 'team', { displayName: 'Team' });
    server = await startServer({ dialect });
    client = await server.createClient({ redirectUris: [REDIRECT_URI] });
    // The Python SDK's authorize URL, with its default scope.
    const query = new URLSearchParams({ client_id: client.clientId, response_type: 'code', user_id: 'sdk-user', redirect_uri: REDIRECT_URI, scope: 'calendar', state: 's1' });
    const { res, session } = await authorize(query.toString());
    assert.equal(res.status, 302, await res.text());
    assert.ok(session);
    for (const [username, password] of [['alice', 'alice-pw'], ['bob', 'bob-pw']] as const) {
      assert.equal((await connectCaldav(server.url, session, { server_url: rad.url, username, password })).status, 303);
    }
    const tokens = await finish(session);
    token = tokens.access_token;
  });
  after(async () => {
    await server?.close();
    await rad?.stop();
  });

  describe('scope=calendar (Python and PHP SDK default)', () => {
    test('is read-write: the token says so and writes are allowed', async () => {
      const status = await sdk('GET', '/api/oauth/connection-status');
      assert.equal(status.status, 200);
      const created = await sdk('POST', '/api/event', { body: JSON.stringify({ provider: 'caldav', calendarId: work, title: 'Scope check', start: '2031-02-03T10:00:00Z', end: '2031-02-03T11:00:00Z' }) });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const [, payload] = token.split('.');
      assert.equal(JSON.parse(Buffer.from(payload!, 'base64url').toString()).scope, 'read-write');
    });

    test('unknown scopes are still refused to the application', async () => {
      const { res } = await authorize(new URLSearchParams({ client_id: client.clientId, response_type: 'code', user_id: 'u', redirect_uri: REDIRECT_URI, scope: 'calendars', state: 's' }).toString());
      assert.equal(res.status, 302);
      const back = new URL(res.headers.get('location')!);
      assert.equal(back.searchParams.get('error'), 'invalid_scope');
      assert.match(back.searchParams.get('error_description')!, /calendar means read-write/);
    });
  });

  describe('repeated providers (Ruby and Go SDKs)', () => {
    const base = (): string => new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: REDIRECT_URI, user_id: 'ruby-user' }).toString();
    const offers = (page: string, id: string): boolean => page.includes(`href="/connect/${id}"`);

    test('providers=apple&providers=caldav offers exactly those two', async () => {
      const { res, session } = await authorize(`${base()}&providers=apple&providers=caldav`);
      assert.equal(res.status, 302);
      assert.ok(session);
      assert.ok(offers(session.page, 'icloud'));
      assert.ok(offers(session.page, 'caldav'));
    });

    test('repeated and comma forms combine, duplicates and unknown names drop out', async () => {
      const { session } = await authorize(`${base()}&providers=caldav,nope&providers=caldav&providers=google`);
      assert.ok(session);
      assert.ok(offers(session.page, 'caldav'));
      assert.ok(!offers(session.page, 'icloud'), 'apple was not asked for');
      const only = await authorize(`${base()}&providers=apple&providers=apple`);
      assert.ok(only.session && offers(only.session.page, 'icloud') && !offers(only.session.page, 'caldav'));
    });

    test('nothing known in any of them is refused as before; other parameters stay strict', async () => {
      const { res } = await authorize(`${base()}&providers=nope&providers=bogus&state=x`);
      assert.equal(res.status, 302);
      assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'invalid_request');
      for (const repeated of ['state=a&state=b', `user_id=other`, 'scope=read&scope=read']) {
        const r = await fetch(`${server.url}/api/oauth/authorize?${base()}&${repeated}`, { redirect: 'manual', headers: { accept: 'application/json' } });
        assert.equal(r.status, 400, repeated);
        assert.match((await r.json()).message, /must not be repeated/);
      }
      const many = Array.from({ length: 21 }, () => 'providers=caldav').join('&');
      const r = await fetch(`${server.url}/api/oauth/authorize?${base()}&${many}`, { redirect: 'manual', headers: { accept: 'application/json' } });
      assert.equal(r.status, 400);
      assert.match((await r.json()).message, /repeated more than 20 times/);
    });
  });

  describe('Content-Type: application/json without a body', () => {
    test('DELETE /api/event as every SDK sends it: 200 for the event, 404 once it is gone', async () => {
      const created = await sdk('POST', '/api/event', { body: JSON.stringify({ provider: 'caldav', calendarId: work, title: 'To delete', start: '2031-02-04T10:00:00Z', end: '2031-02-04T11:00:00Z' }) });
      assert.equal(created.status, 200);
      const href = created.body.original.href as string;
      assert.equal((await rad.get('alice', href)).status, 200);
      const query = new URLSearchParams({ provider: 'caldav', calendarId: work, eventId: created.body.id });
      const del = await sdk('DELETE', `/api/event?${query}`);
      assert.equal(del.status, 200, JSON.stringify(del.body));
      assert.deepEqual(del.body, { success: true, message: 'Event deleted successfully' });
      assert.equal((await rad.get('alice', href)).status, 404);
      const again = await sdk('DELETE', `/api/event?${query}`);
      assert.equal(again.status, 404, JSON.stringify(again.body));
    });

    test('DELETE of one occurrence (recurringEventId + deleteMode=this) leaves the others', async () => {
      const series = await sdk('POST', '/api/event', {
        body: JSON.stringify({ provider: 'caldav', calendarId: work, title: 'Daily', start: '2031-02-10T08:00:00Z', end: '2031-02-10T08:30:00Z', recurrence: { frequency: 'DAILY', count: 3 } }),
      });
      assert.equal(series.status, 200);
      const range = new URLSearchParams({ start: '2031-02-10T00:00:00Z', end: '2031-02-13T00:00:00Z', calendarIds: JSON.stringify({ caldav: [work] }) });
      const listed = await sdk('GET', `/api/events?${range}`);
      const instances = listed.body.events.filter((e: { title: string }) => e.title === 'Daily');
      assert.equal(instances.length, 3);
      const second = instances[1];
      const del = await sdk('DELETE', `/api/event?${new URLSearchParams({ provider: 'caldav', calendarId: work, eventId: second.id, recurringEventId: second.recurringEventId, deleteMode: 'this' })}`);
      assert.equal(del.status, 200, JSON.stringify(del.body));
      const after = (await sdk('GET', `/api/events?${range}`)).body.events.filter((e: { title: string }) => e.title === 'Daily');
      assert.deepEqual(after.map((e: { start: string }) => e.start), ['2031-02-10T08:00:00.000Z', '2031-02-12T08:00:00.000Z']);
    });

    test('a zero-length body is no body too (Content-Length: 0)', async () => {
      const created = await sdk('POST', '/api/event', { body: JSON.stringify({ provider: 'caldav', calendarId: work, title: 'Zero', start: '2031-02-05T10:00:00Z', end: '2031-02-05T11:00:00Z' }) });
      const del = await sdk('DELETE', `/api/event?${new URLSearchParams({ provider: 'caldav', calendarId: work, eventId: created.body.id })}`, { body: '' });
      assert.equal(del.status, 200, JSON.stringify(del.body));
    });

    test('where a body is required, its absence is a clear 400', async () => {
      for (const method of ['POST', 'PUT']) {
        const res = await sdk(method, '/api/event', { body: '' });
        assert.equal(res.status, 400, method);
        assert.match(res.body.message, /Request body is missing/);
      }
      const tokenRes = await fetch(`${server.url}/api/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' });
      assert.equal(tokenRes.status, 400);
      assert.equal((await tokenRes.json()).error, 'invalid_request');
      // Malformed JSON is still malformed.
      const broken = await sdk('POST', '/api/event', { body: '{"provider":' });
      assert.equal(broken.status, 400);
      assert.match(broken.body.message, /not valid JSON/);
    });

    test('GET with the JSON content type (every SDK): calendars and events with every parameter', async () => {
      const calendars = await sdk('GET', '/api/calendars');
      assert.equal(calendars.status, 200);
      const events = await sdk('GET', `/api/events?${new URLSearchParams({ pageSize: '5', start: '2031-02-01T00:00:00.000Z', end: '2031-02-28', calendarIds: JSON.stringify({ caldav: [work] }), singleEvents: 'false' })}`);
      assert.equal(events.status, 200, JSON.stringify(events.body));
      assert.ok(Array.isArray(events.body.events));
    });
  });

  describe('Ruby Time values', () => {
    test('a body with "2031-03-10 10:00:00 UTC" creates the event at 10:00Z', async () => {
      const res = await sdk('POST', '/api/event', { body: JSON.stringify({ provider: 'caldav', calendarId: work, title: 'Ruby time', start: '2031-03-10 10:00:00 UTC', end: '2031-03-10 10:30:00 +0100' }) });
      assert.equal(res.status, 400, 'an end before the start is refused: +0100 was read as an offset');
      const ok = await sdk('POST', '/api/event', { body: JSON.stringify({ provider: 'caldav', calendarId: work, title: 'Ruby time', start: '2031-03-10 10:00:00 UTC', end: '2031-03-10 12:30:00 +0100' }) });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.start, '2031-03-10T10:00:00.000Z');
      assert.equal(ok.body.end, '2031-03-10T11:30:00.000Z');
      assert.match((await rad.get('alice', ok.body.original.href)).body, /DTSTART[^\r\n]*(20310310T100000Z|20310310T110000)/);
    });

    test('a query as Faraday encodes it (spaces as +, + as %2B) finds the events of that range', async () => {
      const inRange = await sdk('GET', `/api/events?calendarIds=${encodeURIComponent(JSON.stringify({ caldav: [work] }))}&end=2031-03-10+11%3A00%3A00+%2B0100&start=2031-03-10+09%3A00%3A00+UTC`);
      assert.equal(inRange.status, 200, JSON.stringify(inRange.body));
      // 11:00 +0100 is 10:00Z: the event starting at 10:00Z is just outside.
      assert.ok(!inRange.body.events.some((e: { title: string }) => e.title === 'Ruby time'));
      const wider = await sdk('GET', `/api/events?calendarIds=${encodeURIComponent(JSON.stringify({ caldav: [work] }))}&end=2031-03-10+12%3A00%3A00+%2B0100&start=2031-03-10+09%3A00%3A00+UTC`);
      assert.ok(wider.body.events.some((e: { title: string }) => e.title === 'Ruby time'));
    });
  });

  describe('GET /api/calendars: strings, never null', () => {
    test('server values where they exist; the account zone, a stable colour and "" otherwise; readOnly from privileges', async () => {
      const res = await sdk('GET', '/api/calendars');
      assert.equal(res.status, 200);
      for (const c of res.body) {
        for (const field of ['timeZone', 'color', 'description']) assert.equal(typeof c[field], 'string', `${c.id} ${field}`);
        assert.equal(typeof c.readOnly, 'boolean');
      }
      const byId = new Map<string, Record<string, unknown>>(res.body.map((c: Record<string, unknown>) => [c.id as string, c]));
      assert.deepEqual(pick(byId.get(work)!), { timeZone: 'Europe/Berlin', color: '#3366CC', description: 'Work things', readOnly: false });
      assert.deepEqual(pick(byId.get(home)!), { timeZone: 'Europe/Berlin', color: defaultCalendarColor(home), description: '', readOnly: false });
      assert.deepEqual(pick(byId.get(holidays)!), { timeZone: 'Europe/Berlin', color: '#0B8043', description: '', readOnly: true });
      const team = res.body.find((c: { title: string }) => c.title === 'Team');
      assert.deepEqual(pick(team), { timeZone: 'UTC', color: defaultCalendarColor(team.id), description: '', readOnly: false });
      const again = await sdk('GET', '/api/calendars');
      assert.deepEqual(again.body.map(pick), res.body.map(pick));
    });
  });

  describe('aliases: /api/connection-status and /api/disconnect (Python and PHP fallbacks)', () => {
    test('connection-status answers the same at both paths, behind the same guard', async () => {
      const a = await sdk('GET', '/api/oauth/connection-status');
      const b = await sdk('GET', '/api/connection-status');
      assert.equal(b.status, 200);
      assert.deepEqual(b.body, a.body);
      assert.deepEqual(b.body.connections.caldav.map((c: { id: string }) => c.id).sort(), ['alice', 'bob']);
      for (const path of ['/api/oauth/connection-status', '/api/connection-status']) {
        assert.equal((await sdk('GET', path, { bearer: null })).status, 401, path);
        assert.equal((await sdk('GET', path, { bearer: 'not-a-token' })).status, 401, path);
      }
      for (const path of ['/api/oauth/disconnect?provider=caldav', '/api/disconnect?provider=caldav']) {
        assert.equal((await sdk('POST', path, { body: '{}', bearer: null })).status, 401, path);
      }
    });

    test('both are in the OpenAPI document', async () => {
      const doc = await (await fetch(`${server.url}/api/openapi.json`)).json();
      assert.ok(doc.paths['/api/connection-status']?.get);
      assert.ok(doc.paths['/api/disconnect']?.post);
      assert.ok(doc.paths['/api/oauth/connection-status']?.get);
      assert.ok(doc.paths['/api/oauth/disconnect']?.post);
      assert.ok(doc.paths['/api/oauth/authorize'].get.parameters.some((p: { name: string; schema: { enum?: string[] } }) => p.name === 'scope' && p.schema.enum?.includes('calendar')));
    });

    test('disconnect with the PHP body ([]), the others\' ({}) and an empty one, at both paths', async () => {
      const nothing = await sdk('POST', '/api/disconnect?provider=google', { body: '[]' });
      assert.equal(nothing.status, 200, JSON.stringify(nothing.body));
      assert.match(nothing.body.message, /Nothing to disconnect/);
      const empty = await sdk('POST', '/api/oauth/disconnect?provider=apple', { body: '' });
      assert.equal(empty.status, 200, JSON.stringify(empty.body));
      const bob = await sdk('POST', '/api/disconnect?provider=caldav&account=bob', { body: '{}' });
      assert.equal(bob.status, 200, JSON.stringify(bob.body));
      assert.deepEqual(bob.body, { success: true, message: 'Disconnected 1 account (account bob)' });
      const status = await sdk('GET', '/api/connection-status');
      assert.deepEqual(status.body.connections.caldav.map((c: { id: string }) => c.id), ['alice']);
    });
  });
});

function pick(c: Record<string, unknown>): Record<string, unknown> {
  return { timeZone: c.timeZone, color: c.color, description: c.description, readOnly: c.readOnly };
}
