/**
 * End to end with Microsoft: the SDK against a real Almanac with the Graph emulator
 * behind it, as a new user would go: authorize, the connect page's Microsoft button,
 * Microsoft's sign-in, back to the hub, Continue, code exchanged with PKCE; then
 * calendars and events (single and recurring; create, list, edit this / following / all,
 * delete) through the SDK, each write checked in the emulator's own store.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AlmanacClient, createPkcePair, generateState, type CalendarEvent } from '../../packages/sdk/src/index.js';
import { startMicrosoftEmulator, type MicrosoftEmulator } from '../emulators/microsoft/microsoft-emulator.js';
import { microsoftEnv } from '../support/microsoft-connect.js';
import { startServer, type TestServer } from '../support/server.js';

const REDIRECT_URI = 'https://app.example/almanac/callback';
const RANGE = { start: '2031-05-01T00:00:00Z', end: '2031-06-01T00:00:00Z' };
const EMAIL = 'lynne@contoso.onmicrosoft.com';

class Browser {
  readonly #cookies = new Map<string, string>();
  async request(url: string, form?: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.#cookies.size > 0) headers.cookie = [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(url, { method: form ? 'POST' : 'GET', redirect: 'manual', headers, ...(form ? { body: new URLSearchParams(form).toString() } : {}) });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) this.#cookies.delete(pair!.slice(0, eq).trim());
      else this.#cookies.set(pair!.slice(0, eq).trim(), value);
    }
    return res;
  }
}

function hiddenFields(html: string, action: string): Record<string, string> {
  const form = [...html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/g)].map((m) => m[0]).find((f) => f.includes(`action="${action}"`));
  assert.ok(form, `a form posting to ${action}`);
  const fields: Record<string, string> = {};
  for (const [input] of form.matchAll(/<input\b[^>]*>/g)) {
    const name = /name="([^"]*)"/.exec(input)?.[1];
    if (name && /type="hidden"/.test(input)) fields[name] = /value="([^"]*)"/.exec(input)?.[1] ?? '';
  }
  return fields;
}

const location = (res: Response, base: string): string => new URL(res.headers.get('location')!, base).toString();

describe('SDK end to end: Almanac + Microsoft Graph emulator', () => {
  let ms: MicrosoftEmulator;
  let server: TestServer;
  let sdk: AlmanacClient;
  let calendarId: string;
  const browser = new Browser();

  before(async () => {
    ms = await startMicrosoftEmulator();
    calendarId = ms.addUser(EMAIL).defaultCalendar.id;
    server = await startServer({ env: microsoftEnv(ms) });
    const app = await server.createClient({ redirectUris: [REDIRECT_URI], displayName: 'E2E App' });
    sdk = new AlmanacClient({ baseUrl: `${server.url}/api`, clientId: app.clientId, clientSecret: app.clientSecret, redirectUri: REDIRECT_URI });
  });
  after(async () => {
    await server?.close();
    await ms?.close();
  });

  test('authorize: connect page → Microsoft sign-in → Continue → code exchanged with PKCE', async () => {
    const { codeVerifier, codeChallenge } = await createPkcePair();
    const state = await generateState();
    const authorize = await browser.request(sdk.auth.generateAuthUrl({ userId: 'lynne', state, codeChallenge, scope: 'read-write' }));
    const hub = await browser.request(location(authorize, server.url));
    assert.match(await hub.text(), /href="\/connect\/microsoft"/, 'the hub offers Microsoft');
    const step = await browser.request(`${server.url}/connect/microsoft`);
    const href = /href="(http:\/\/127\.0\.0\.1:\d+\/common\/oauth2\/v2\.0\/authorize[^"]*)"/.exec(await step.text())?.[1]?.replace(/&amp;/g, '&');
    assert.ok(href, 'the redirect step links to Microsoft');
    ms.setConsent({ action: 'grant-all' }, EMAIL);
    const signIn = await fetch(href, { redirect: 'manual' });
    assert.equal(signIn.status, 302);
    const callback = await browser.request(signIn.headers.get('location')!.replace(/^https?:\/\/[^/]+/, server.url));
    assert.equal(callback.status, 303, await callback.text());
    const hubAgain = await (await browser.request(location(callback, server.url))).text();
    assert.ok(hubAgain.includes(EMAIL), 'the Microsoft account is listed');
    const done = await browser.request(`${server.url}/connect/continue`, hiddenFields(hubAgain, '/connect/continue'));
    const redirect = new URL(location(done, server.url));
    assert.equal(redirect.searchParams.get('state'), state);
    await sdk.auth.getToken(redirect.searchParams.get('code')!, { codeVerifier });
    const status = await sdk.auth.getConnectionStatus();
    assert.equal(status.connections.microsoft?.[0]?.id, EMAIL);
  });

  test('calendars, and events created, listed, edited and deleted, as stored at Microsoft', async () => {
    const calendars = await sdk.calendars.list();
    assert.ok(calendars.some((c) => c.provider === 'microsoft' && c.id === calendarId));

    const single = (await sdk.events.create({ provider: 'microsoft', calendarId, title: 'Dentist', start: '2031-05-06T09:00:00Z', end: '2031-05-06T09:45:00Z' })).event;
    assert.equal(ms.store.events.get(single.id)?.subject, 'Dentist');
    const series = (await sdk.events.create({ provider: 'microsoft', calendarId, title: 'Run', start: '2031-05-12T06:00:00Z', end: '2031-05-12T07:00:00Z', recurrence: { frequency: 'DAILY', count: 6 } })).event;
    assert.deepEqual(ms.store.events.get(series.id)?.recurrence?.pattern, { type: 'daily', interval: 1 });

    const list = async (): Promise<CalendarEvent[]> => (await sdk.events.list({ ...RANGE })).events;
    const runs = (await list()).filter((e) => e.recurringEventId === series.id);
    assert.equal(runs.length, 6);
    const masters = await sdk.events.list({ ...RANGE, singleEvents: false });
    assert.deepEqual(masters.events.map((e) => e.title).sort(), ['Dentist', 'Run']);

    await sdk.events.update({ provider: 'microsoft', calendarId, eventId: runs[1]!.id, recurringEventId: series.id, updateMode: 'this', title: 'Long run' });
    await sdk.events.update({ provider: 'microsoft', calendarId, eventId: runs[3]!.id, recurringEventId: series.id, updateMode: 'following', title: 'Evening run' });
    const afterSplit = (await list()).filter((e) => /run/i.test(e.title));
    assert.deepEqual(afterSplit.map((e) => e.title), ['Run', 'Long run', 'Run', 'Evening run', 'Evening run', 'Evening run']);
    assert.equal(ms.store.events.get(series.id)?.recurrence?.range.endDate, '2031-05-14', 'the old series ends the day before');

    await sdk.events.update({ provider: 'microsoft', calendarId, eventId: afterSplit[0]!.id, recurringEventId: series.id, updateMode: 'all', location: 'Park' });
    assert.equal(ms.store.events.get(series.id)?.location?.displayName, 'Park');

    await sdk.events.delete({ provider: 'microsoft', calendarId, eventId: afterSplit[2]!.id, recurringEventId: series.id, deleteMode: 'this' });
    assert.deepEqual((await list()).filter((e) => /run/i.test(e.title)).map((e) => e.title), ['Run', 'Long run', 'Evening run', 'Evening run', 'Evening run']);
    await sdk.events.delete({ provider: 'microsoft', calendarId, eventId: series.id, deleteMode: 'all' });
    assert.equal(ms.store.events.has(series.id), false);
    await sdk.events.delete({ provider: 'microsoft', calendarId, eventId: single.id });
    assert.equal(ms.store.events.has(single.id), false);
  });
});
