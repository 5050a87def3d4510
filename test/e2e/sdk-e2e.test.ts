/**
 * End to end: the SDK against a real Almanac with a real Radicale behind it, through
 * the whole flow an application goes through: authorize (the connect pages driven over
 * HTTP as a browser would), code exchange with PKCE, connection status, calendars,
 * events (single and recurring: create, list, page, edit, delete), refresh, revoke.
 * What the SDK reports is checked on Radicale with plain CalDAV requests, not through
 * Almanac's adapter, so a bug shared by the adapter and its reader cannot hide itself.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AlmanacClient,
  AuthenticationError,
  NotFoundError,
  ValidationError,
  createPkcePair,
  generateState,
  type CalendarEvent,
  type TokenResponse,
} from '../../packages/sdk/src/index.js';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServer, type TestServer } from '../support/server.js';
import { objectsOn, property } from './caldav-reader.js';

const REDIRECT_URI = 'https://app.example/almanac/callback';
const USER = 'dana';
const PASSWORD = 'dana-pw';
// A fixed month well in the future: nothing else lands there, and "now" never matters.
const RANGE = { start: '2031-05-01T00:00:00Z', end: '2031-06-01T00:00:00Z' };

/** Just enough of a browser: follows nothing by itself, keeps cookies, posts forms. */
class Browser {
  readonly #cookies = new Map<string, string>();

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.#cookies.size > 0) headers.cookie = [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers,
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (expired) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    return res;
  }
}

/**
 * The hidden fields (the CSRF token among them) of the form posting to `action`, as a
 * browser would submit them. Read from the page rather than assumed by name, because
 * the connect pages' markup is theirs to change.
 */
function hiddenFields(html: string, action: string): Record<string, string> {
  const form = [...html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/g)].map((m) => m[0]).find((f) => f.includes(`action="${action}"`));
  assert.ok(form, `the page has a form posting to ${action}`);
  const fields: Record<string, string> = {};
  for (const [input] of form.matchAll(/<input\b[^>]*>/g)) {
    if (!/type="hidden"/.test(input)) continue;
    const name = /name="([^"]*)"/.exec(input)?.[1];
    const value = /value="([^"]*)"/.exec(input)?.[1] ?? '';
    if (name) fields[name] = value;
  }
  assert.ok(Object.keys(fields).some((k) => /csrf/i.test(k)), `the form posting to ${action} carries a CSRF token`);
  return fields;
}

/** Resolves a Location header against the URL that answered. */
function locationOf(res: Response, base: string): string {
  const location = res.headers.get('location');
  assert.ok(location, `${res.status} has a Location`);
  return new URL(location, base).toString();
}


describe('SDK end to end: Almanac + Radicale', { skip: RADICALE_SKIP }, () => {
  let rad: RadicaleServer;
  let server: TestServer;
  let calendarUrl: string;
  let app: { clientId: string; clientSecret: string };
  let sdk: AlmanacClient;
  const browser = new Browser();
  const refreshed: TokenResponse[] = [];
  const emitted: TokenResponse[] = [];

  before(async () => {
    rad = await startRadicale({ users: { [USER]: PASSWORD } });
    calendarUrl = await rad.mkcalendar(USER, 'personal', { displayName: 'Personal', color: '#2E7D32' });
    server = await startServer();
    app = await server.createClient({ redirectUris: [REDIRECT_URI], displayName: 'E2E App' });
    sdk = new AlmanacClient({
      baseUrl: `${server.url}/api`,
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      redirectUri: REDIRECT_URI,
      onTokensRefreshed: (tokens) => {
        refreshed.push(tokens);
      },
    });
    sdk.on('tokens', (tokens) => {
      emitted.push(tokens);
    });
  });

  after(async () => {
    await server?.close();
    await rad?.stop();
  });

  // Another plain authorization of the same user: nothing new to connect, Continue is offered at once and the account stays.
  async function authorizeAgain(codeChallenge?: string): Promise<string> {
    const state = await generateState();
    const start = await browser.request(sdk.auth.generateAuthUrl({ userId: 'e2e-user', state, ...(codeChallenge ? { codeChallenge } : {}) }));
    const hub = await browser.request(locationOf(start, server.url));
    const finish = await browser.request(`${server.url}/connect/continue`, { form: hiddenFields(await hub.text(), '/connect/continue') });
    const q = new URL(locationOf(finish, server.url)).searchParams;
    assert.equal(q.get('state'), state);
    return q.get('code')!;
  }

  test('authorize: connect pages → CalDAV login → Continue → code exchanged with PKCE', async () => {
    const { codeVerifier, codeChallenge } = await createPkcePair();
    const state = await generateState();
    const authUrl = sdk.auth.generateAuthUrl({ userId: 'e2e-user', state, codeChallenge, scope: 'read-write' });
    assert.ok(authUrl.startsWith(`${server.url}/api/oauth/authorize?`));

    const authorize = await browser.request(authUrl);
    assert.equal(authorize.status, 302, await authorize.text());
    const hubUrl = locationOf(authorize, authUrl);
    assert.equal(new URL(hubUrl).pathname, '/connect');

    const hub = await browser.request(hubUrl);
    assert.equal(hub.status, 200);
    const hubHtml = await hub.text();
    assert.match(hubHtml, /(href|action)="\/connect\/caldav"/, 'the hub offers CalDAV');

    const login = await browser.request(`${server.url}/connect/caldav`);
    assert.equal(login.status, 200);
    const loginHtml = await login.text();
    for (const name of ['server_url', 'username', 'password']) assert.match(loginHtml, new RegExp(`name="${name}"`));

    // A wrong password comes back on the form and stores nothing.
    const refused = await browser.request(`${server.url}/connect/caldav`, {
      form: { ...hiddenFields(loginHtml, '/connect/caldav'), server_url: rad.url, username: USER, password: 'wrong' },
    });
    assert.equal(refused.status, 400);
    const refusedHtml = await refused.text();

    const connected = await browser.request(`${server.url}/connect/caldav`, {
      form: { ...hiddenFields(refusedHtml, '/connect/caldav'), server_url: rad.url, username: USER, password: PASSWORD },
    });
    assert.equal(connected.status, 303, await connected.text());
    const back = locationOf(connected, server.url);
    assert.equal(new URL(back).pathname, '/connect');

    const hubAgain = await browser.request(back);
    assert.equal(hubAgain.status, 200);
    const hubAgainHtml = await hubAgain.text();
    assert.match(hubAgainHtml, /action="\/connect\/continue"/, 'Continue is offered once an account is connected');
    assert.ok(hubAgainHtml.includes(USER), 'the connected account is listed');

    const done = await browser.request(`${server.url}/connect/continue`, { form: hiddenFields(hubAgainHtml, '/connect/continue') });
    assert.equal(done.status, 302);
    const redirect = new URL(locationOf(done, server.url));
    assert.equal(`${redirect.origin}${redirect.pathname}`, REDIRECT_URI);
    assert.equal(redirect.searchParams.get('state'), state, 'state comes back unchanged');
    const code = redirect.searchParams.get('code');
    assert.ok(code);

    const tokens = await sdk.auth.getToken(code, { codeVerifier });
    assert.equal(tokens.token_type, 'Bearer');
    assert.ok(tokens.access_token && tokens.refresh_token);
    assert.deepEqual(sdk.getCredentials(), tokens, 'getToken stores the tokens on the client');
  });

  test('codes are bound to the PKCE verifier and work once', async () => {
    // A separate client object, so the main one keeps its tokens whatever happens here.
    const other = new AlmanacClient({ baseUrl: `${server.url}/api`, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: REDIRECT_URI });
    const isInvalidGrant = (err: unknown) => err instanceof ValidationError && err.errorCode === 'invalid_grant';

    const pair = await createPkcePair();
    const leaked = await authorizeAgain(pair.codeChallenge);
    await assert.rejects(other.auth.getToken(leaked), isInvalidGrant, 'no verifier');
    const wrong = await authorizeAgain(pair.codeChallenge);
    await assert.rejects(other.auth.getToken(wrong, { codeVerifier: (await createPkcePair()).codeVerifier }), isInvalidGrant, 'wrong verifier');

    const good = await authorizeAgain(pair.codeChallenge);
    const tokens = await other.auth.getToken(good, { codeVerifier: pair.codeVerifier });
    await assert.rejects(other.auth.getToken(good, { codeVerifier: pair.codeVerifier }), isInvalidGrant, 'a code works once');
    // RFC 6749 §4.1.2: a replayed code revokes what it issued; the main client's grant is separate.
    await assert.rejects(other.calendars.list({ accessToken: tokens.access_token }), AuthenticationError);
    assert.equal((await sdk.calendars.list()).length, 1);
  });

  test('getConnectionStatus lists the CalDAV account', async () => {
    const status = await sdk.auth.getConnectionStatus();
    assert.equal(status.limitReached, false);
    assert.deepEqual(
      status.connections.caldav.map((a) => [a.id, a.syncState, a.calendarPermissionGranted]),
      [[USER, 'ok', true]],
    );
    for (const provider of ['google', 'microsoft', 'apple'] as const) assert.deepEqual(status.connections[provider], []);
  });

  test('a pushed request (pushAuthorizationRequest) opens a session that lists the user’s account; the plain one does not', async () => {
    const plain = await browser.request(sdk.auth.generateAuthUrl({ userId: 'e2e-user' }));
    const plainHub = await (await browser.request(locationOf(plain, server.url))).text();
    assert.ok(!plainHub.includes(`value="${USER}"`), 'a plain authorize URL proves nothing about the user: no account shown');

    const state = await generateState();
    const pushed = await sdk.auth.pushAuthorizationRequest({ userId: 'e2e-user', state, scope: 'read' });
    assert.match(pushed.request_uri, /^urn:ietf:params:oauth:request_uri:/);
    assert.equal(pushed.expires_in, 60);
    const url = sdk.auth.generateAuthUrl({ requestUri: pushed.request_uri });
    const start = await browser.request(url);
    assert.equal(start.status, 302);
    const hub = await (await browser.request(locationOf(start, server.url))).text();
    assert.equal(hiddenFields(hub, '/connect/disconnect').account, USER, 'the pushed session lists the account, with a disconnect form');
    const finish = await browser.request(`${server.url}/connect/continue`, { form: hiddenFields(hub, '/connect/continue') });
    const q = new URL(locationOf(finish, server.url)).searchParams;
    assert.equal(q.get('state'), state);
    // A separate client object, so the main one keeps its read-write tokens.
    const reader = new AlmanacClient({ baseUrl: `${server.url}/api`, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: REDIRECT_URI });
    const tokens = await reader.auth.getToken(q.get('code')!);
    assert.equal(tokens.scope, 'read');
    assert.equal((await reader.calendars.list()).length, 1);
    // The request_uri worked once.
    assert.equal((await browser.request(url)).status, 400);
    // And the async helper does both steps.
    assert.match(await sdk.auth.generatePushedAuthUrl({ userId: 'e2e-user' }), /\/api\/oauth\/authorize\?client_id=[^&]+&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A/);
  });

  test('calendars.list returns the Radicale calendar', async () => {
    const calendars = await sdk.calendars.list();
    assert.ok(Array.isArray(calendars));
    assert.deepEqual(
      calendars.map((c) => [c.provider, c.id, c.title, c.color]),
      [['caldav', calendarUrl, 'Personal', '#2E7D32']],
    );
  });

  let single: CalendarEvent;
  let series: CalendarEvent;

  test('events.create: a single event lands on Radicale as one VEVENT', async () => {
    const created = await sdk.events.create({
      provider: 'caldav',
      calendarId: calendarUrl,
      title: 'Dentist',
      description: 'Bring the form',
      location: 'Main St 1',
      start: new Date('2031-05-06T09:00:00Z'),
      end: '2031-05-06T09:45:00Z',
    });
    assert.equal(created.success, true);
    assert.equal(created.title, 'Dentist');
    assert.equal(created.event.id, created.id, 'the event at the root and under `event`');
    assert.equal(created.start, '2031-05-06T09:00:00.000Z');
    assert.equal(created.end, '2031-05-06T09:45:00.000Z');
    single = created.event;

    const objects = await objectsOn(rad, USER, calendarUrl);
    assert.equal(objects.length, 1);
    const ics = objects[0]!.ics;
    assert.deepEqual(property(ics, 'SUMMARY'), ['Dentist']);
    assert.deepEqual(property(ics, 'LOCATION'), ['Main St 1']);
    assert.deepEqual(property(ics, 'DESCRIPTION'), ['Bring the form']);
    assert.deepEqual(property(ics, 'DTSTART'), ['20310506T090000Z']);
    assert.deepEqual(property(ics, 'RRULE'), []);
  });

  test('events.create: a recurring event is one VEVENT with an RRULE', async () => {
    const created = await sdk.events.create({
      provider: 'caldav',
      calendarId: calendarUrl,
      title: 'Run',
      start: '2031-05-12T06:00:00Z',
      end: '2031-05-12T07:00:00Z',
      recurrence: { frequency: 'DAILY', count: 4 },
    });
    series = created.event;
    const objects = await objectsOn(rad, USER, calendarUrl);
    assert.equal(objects.length, 2);
    const stored = objects.find((o) => property(o.ics, 'SUMMARY').includes('Run'));
    assert.ok(stored);
    const rrule = property(stored.ics, 'RRULE')[0] ?? '';
    assert.match(rrule, /FREQ=DAILY/);
    assert.match(rrule, /COUNT=4/);
  });

  /** Every event of the test month, through the SDK's paging. */
  async function month(): Promise<CalendarEvent[]> {
    const all: CalendarEvent[] = [];
    for await (const event of sdk.events.iterate({ ...RANGE, calendarIds: { caldav: [calendarUrl] } })) all.push(event);
    return all;
  }

  test('events.list / pages / iterate: instances expanded, paging covers everything once', async () => {
    const first = await sdk.events.list({ ...RANGE, pageSize: 2 });
    assert.equal(first.events.length, 2);
    assert.ok(first.nextPageToken, 'more than one page');

    let pages = 0;
    const paged: string[] = [];
    for await (const page of sdk.events.pages({ ...RANGE, pageSize: 2 })) {
      pages++;
      paged.push(...page.events.map((e) => `${e.start} ${e.title}`));
    }
    assert.equal(pages, 3);
    assert.deepEqual(paged, [
      '2031-05-06T09:00:00.000Z Dentist',
      '2031-05-12T06:00:00.000Z Run',
      '2031-05-13T06:00:00.000Z Run',
      '2031-05-14T06:00:00.000Z Run',
      '2031-05-15T06:00:00.000Z Run',
    ]);

    const all = await month();
    assert.deepEqual(all.map((e) => `${e.start} ${e.title}`), paged, 'iterate yields the same events');
    const instances = all.filter((e) => e.recurringEventId === series.id);
    assert.equal(instances.length, 4);
    assert.equal(new Set(all.map((e) => e.id)).size, all.length, 'ids are unique');

    const masters = await sdk.events.list({ ...RANGE, singleEvents: false });
    assert.deepEqual(masters.events.map((e) => e.id).sort(), [single.id, series.id].sort());
  });

  test('events.update: a single event, then one occurrence (this), then the series (all)', async () => {
    const updated = await sdk.events.update({ provider: 'caldav', calendarId: calendarUrl, eventId: single.id, title: 'Dentist (moved)', start: '2031-05-07T10:00:00Z', end: '2031-05-07T10:45:00Z' });
    assert.equal(updated.title, 'Dentist (moved)');
    assert.equal(updated.location, 'Main St 1', 'omitted fields stay unchanged');
    let objects = await objectsOn(rad, USER, calendarUrl);
    let ics = objects.find((o) => property(o.ics, 'SUMMARY').includes('Dentist (moved)'))?.ics;
    assert.ok(ics, 'the new title is on the server');
    assert.deepEqual(property(ics, 'DTSTART'), ['20310507T100000Z']);
    assert.deepEqual(property(ics, 'LOCATION'), ['Main St 1']);

    const second = (await month()).filter((e) => e.recurringEventId === series.id)[1]!;
    assert.equal(second.start, '2031-05-13T06:00:00.000Z');
    await sdk.events.update({ provider: 'caldav', calendarId: calendarUrl, eventId: second.id, recurringEventId: series.id, updateMode: 'this', title: 'Long run' });
    objects = await objectsOn(rad, USER, calendarUrl);
    ics = objects.find((o) => property(o.ics, 'RRULE').length > 0)?.ics;
    assert.ok(ics);
    assert.match(ics, /RECURRENCE-ID[^:\r\n]*:20310513T060000Z/, 'the occurrence became an override in the same resource');
    assert.deepEqual(
      (await month()).filter((e) => e.recurringEventId === series.id).map((e) => e.title),
      ['Run', 'Long run', 'Run', 'Run'],
    );

    const fourth = (await month()).filter((e) => e.recurringEventId === series.id)[3]!;
    await sdk.events.update({ provider: 'caldav', calendarId: calendarUrl, eventId: fourth.id, recurringEventId: series.id, updateMode: 'all', location: 'Park' });
    objects = await objectsOn(rad, USER, calendarUrl);
    ics = objects.find((o) => property(o.ics, 'RRULE').length > 0)?.ics;
    assert.ok(ics);
    assert.ok(property(ics, 'LOCATION').includes('Park'), 'the series master changed');
    const runs = (await month()).filter((e) => e.recurringEventId === series.id);
    assert.equal(runs.length, 4);
    assert.ok(runs.filter((e) => e.title === 'Run').every((e) => e.location === 'Park'));
  });

  test('events.delete: one occurrence (this), the series (all), the single event', async () => {
    const third = (await month()).filter((e) => e.recurringEventId === series.id)[2]!;
    assert.equal(third.start, '2031-05-14T06:00:00.000Z');
    const res = await sdk.events.delete({ provider: 'caldav', calendarId: calendarUrl, eventId: third.id, recurringEventId: series.id, deleteMode: 'this' });
    assert.equal(res.success, true);
    let objects = await objectsOn(rad, USER, calendarUrl);
    const ics = objects.find((o) => property(o.ics, 'RRULE').length > 0)?.ics;
    assert.ok(ics);
    assert.match(ics, /EXDATE[^:\r\n]*:20310514T060000Z/);
    assert.deepEqual(
      (await month()).filter((e) => e.recurringEventId === series.id).map((e) => e.start.slice(0, 10)),
      ['2031-05-12', '2031-05-13', '2031-05-15'],
    );

    await sdk.events.delete({ provider: 'caldav', calendarId: calendarUrl, eventId: series.id, deleteMode: 'all' });
    objects = await objectsOn(rad, USER, calendarUrl);
    assert.equal(objects.length, 1, 'the whole series resource is gone');

    const href = (single.original as { href?: string }).href;
    await sdk.events.delete({ provider: 'caldav', calendarId: calendarUrl, eventId: single.id });
    assert.deepEqual(await objectsOn(rad, USER, calendarUrl), []);
    if (href) assert.equal((await rad.get(USER, href)).status, 404);
    await assert.rejects(sdk.events.delete({ provider: 'caldav', calendarId: calendarUrl, eventId: single.id }), NotFoundError);
    assert.deepEqual(await month(), []);
  });

  test('auth.refresh rotates the tokens and reports them before resolving', async () => {
    const before = sdk.getCredentials()!;
    const fresh = await sdk.auth.refresh();
    assert.notEqual(fresh.access_token, before.access_token);
    assert.notEqual(fresh.refresh_token, before.refresh_token);
    assert.deepEqual(refreshed, [fresh], 'onTokensRefreshed saw the new tokens');
    assert.deepEqual(emitted, [fresh], 'the tokens event fired once');
    assert.deepEqual(sdk.getCredentials(), fresh);
    assert.equal((await sdk.calendars.list()).length, 1, 'calls work with the new tokens');
  });

  test('a rejected access token is refreshed automatically, once, and the call goes through', async () => {
    const current = sdk.getCredentials()!;
    // A token Almanac never issued stands in for an expired one: both answer 401.
    sdk.setCredentials({ ...current, access_token: `${current.access_token.slice(0, -4)}AAAA` });
    const [status, calendars] = await Promise.all([sdk.auth.getConnectionStatus(), sdk.calendars.list()]);
    assert.equal(status.connections.caldav.length, 1);
    assert.equal(calendars.length, 1);
    assert.equal(refreshed.length, 2, 'one refresh for both calls');
    assert.deepEqual(sdk.getCredentials(), refreshed[1]);
  });

  test('auth.revoke ends the grant: every token of the user for this client stops working', async () => {
    const tokens = sdk.getCredentials()!;
    const res = await sdk.auth.revoke();
    assert.equal(res.success, true);
    assert.equal(sdk.getCredentials(), undefined, 'the client forgets revoked tokens');
    await assert.rejects(sdk.calendars.list(), AuthenticationError);
    await assert.rejects(sdk.calendars.list({ accessToken: tokens.access_token }), (err: unknown) => err instanceof AuthenticationError && err.status === 401);
    sdk.setCredentials({ refresh_token: tokens.refresh_token!, access_token: tokens.access_token, token_type: 'Bearer' });
    await assert.rejects(sdk.auth.refresh(), (err: unknown) => err instanceof AuthenticationError && err.errorCode === 'invalid_grant');
    // Revoking is idempotent and always answers success.
    assert.deepEqual(await sdk.auth.revoke(tokens.access_token), { success: true });
  });

  test('a rotated refresh token used again ends the grant: why refreshed tokens must be saved', async () => {
    // A grant of its own, since this one ends badly.
    const pair = await createPkcePair();
    const app2 = new AlmanacClient({ baseUrl: `${server.url}/api`, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: REDIRECT_URI });
    const original = await app2.auth.getToken(await authorizeAgain(pair.codeChallenge), { codeVerifier: pair.codeVerifier });
    await app2.auth.refresh();
    const rotated = await app2.auth.refresh();
    assert.equal((await app2.calendars.list()).length, 1);

    // An app that lost the rotated tokens (did not persist them) presents the old refresh token,
    // two rotations old: the short reuse grace for a lost response does not cover it.
    const forgetful = new AlmanacClient({ baseUrl: `${server.url}/api`, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: REDIRECT_URI, credentials: original });
    await assert.rejects(forgetful.auth.refresh(), (err: unknown) => err instanceof AuthenticationError && err.errorCode === 'invalid_grant');
    // Reuse looks like theft, so the whole token family is revoked, the rotated tokens included.
    await assert.rejects(app2.calendars.list({ accessToken: rotated.access_token }), (err: unknown) => err instanceof AuthenticationError && err.status === 401);
    await assert.rejects(app2.calendars.list(), AuthenticationError);
  });
});
