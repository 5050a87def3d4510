/**
 * The example app (examples/minimal-app) driven in headless Chromium through the whole
 * flow a person goes through: connect a CalDAV calendar on Almanac's connect pages,
 * come back to the app, see calendars, refresh tokens, create, edit and delete events
 * (single and recurring), revoke. Almanac, Radicale and the app are all real servers on
 * free ports. Screenshots of each step land in test-artifacts/minimal-app/.
 *
 * Elements on Almanac's pages are found by form action, input name and link target,
 * not by wording: the wording is translated and may change; those are the contract.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApp, type AppConfig } from '../../examples/minimal-app/src/server.js';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { startServer, type TestServer } from '../support/server.js';
import { objectsOn, property } from './caldav-reader.js';

const CHROMIUM = '/usr/bin/chromium';
const SKIP = RADICALE_SKIP || (existsSync(CHROMIUM) ? false : 'chromium not installed: apt-get install -y chromium');
const ARTIFACTS = new URL('../../test-artifacts/minimal-app/', import.meta.url).pathname;
const USER = 'erin';
const PASSWORD = 'erin-pw';

describe('examples/minimal-app in Chromium', { skip: SKIP }, () => {
  let rad: RadicaleServer;
  let almanac: TestServer;
  let app: Server;
  let appUrl: string;
  let calendarUrl: string;
  let browser: Browser;
  let page: Page;
  let shot = 0;
  const cspViolations: string[] = [];

  async function screenshot(name: string): Promise<void> {
    shot += 1;
    await page.screenshot({ path: `${ARTIFACTS}${String(shot).padStart(2, '0')}-${name}.png`, fullPage: true });
  }

  /** The app's status line after a redirect, e.g. "Event created." */
  async function notice(): Promise<string> {
    return (await page.locator('.notice').first().textContent())?.trim() ?? '';
  }

  async function eventTitlesOnPage(): Promise<string[]> {
    return (await page.locator('table.events td.event-title').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  async function serverSummaries(): Promise<string[]> {
    const objects = await objectsOn(rad, USER, calendarUrl);
    return objects.flatMap((o) => property(o.ics, 'SUMMARY')).sort();
  }

  before(async () => {
    // Fresh each run, so the folder never mixes screenshots of two runs.
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    rad = await startRadicale({ users: { [USER]: PASSWORD } });
    calendarUrl = await rad.mkcalendar(USER, 'work', { displayName: 'Work' });
    almanac = await startServer();

    // The client's redirect URI needs the app's port, so the app listens before the
    // client exists and reads its configuration per request.
    const settings: { config?: AppConfig } = {};
    app = createApp(() => {
      assert.ok(settings.config, 'the app is configured before the browser arrives');
      return settings.config;
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    const client = await almanac.createClient({ redirectUris: [`${appUrl}/callback`], displayName: 'Minimal app' });
    settings.config = { almanacUrl: almanac.url, clientId: client.clientId, clientSecret: client.clientSecret, appUrl };

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1000, height: 800 }, locale: 'en-US' });
    page.setDefaultTimeout(15_000);
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(`${page.url()}: ${message.text()}`);
    });
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => (app?.listening ? app.close(resolve) : resolve(undefined)));
    app?.closeAllConnections();
    await almanac?.close();
    await rad?.stop();
  });

  test('connect a CalDAV calendar through Almanac and come back to the app', async () => {
    await page.goto(appUrl);
    await screenshot('app-home');
    await page.getByRole('link', { name: 'Connect calendar' }).click();

    // Almanac's hub: offers CalDAV as a link or a one-button form.
    await page.waitForURL((url) => url.origin === almanac.url && url.pathname === '/connect');
    await screenshot('almanac-connect');
    const toCaldav = page.locator('a[href="/connect/caldav"], form[action="/connect/caldav"] [type=submit]').first();
    await toCaldav.click();

    await page.waitForURL((url) => url.pathname === '/connect/caldav');
    await page.locator('input[name=server_url]').fill(rad.url);
    await page.locator('input[name=username]').fill(USER);
    await page.locator('input[name=password]').fill(PASSWORD);
    await screenshot('almanac-caldav-login');
    await page.locator('form[action="/connect/caldav"] [type=submit]').click();

    // Back on the hub with the account connected, Continue sends the user to the app.
    await page.waitForURL((url) => url.pathname === '/connect');
    const continueButton = page.locator('form[action="/connect/continue"] [type=submit]');
    await continueButton.waitFor();
    assert.ok((await page.content()).includes(USER), 'the hub lists the connected account');
    await screenshot('almanac-connected');
    await continueButton.click();

    await page.waitForURL((url) => url.origin === appUrl && url.pathname === '/calendars');
    assert.equal(await notice(), 'Your calendar is connected.');
    const rows = page.locator('table.calendars tbody tr');
    assert.equal(await rows.count(), 1);
    assert.match((await rows.first().textContent()) ?? '', /Work[\s\S]*caldav/);
    await screenshot('app-calendars');
  });

  test('the home page shows the account and refreshes tokens on request', async () => {
    await page.getByRole('link', { name: 'Home' }).click();
    await page.waitForURL(`${appUrl}/`);
    assert.match((await page.locator('li[data-provider=caldav]').textContent()) ?? '', new RegExp(USER));
    const savedBefore = await page.locator('text=/last saved/').textContent();
    await page.getByRole('button', { name: 'Refresh tokens now' }).click();
    await page.waitForURL((url) => url.searchParams.get('notice') === 'refreshed');
    assert.match(await notice(), /refreshed/);
    assert.notEqual(await page.locator('text=/last saved/').textContent(), savedBefore, 'the rotated tokens were saved');
    await screenshot('app-home-connected');
  });

  test('create, edit and delete a single event', async () => {
    await page.getByRole('link', { name: 'Events', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/events');
    await page.locator('.month-nav').getByRole('link', { name: 'New event' }).click();
    await page.waitForURL((url) => url.pathname === '/events/new');
    await page.locator('select[name=calendar]').selectOption({ label: 'Work (caldav)' });
    await page.locator('input[name=title]').fill('Design review');
    await page.locator('input[name=start]').fill('2031-05-20T14:00');
    await page.locator('input[name=end]').fill('2031-05-20T15:30');
    await page.locator('input[name=location]').fill('Room <b>4</b>');
    await screenshot('app-new-event');
    await page.locator('form.event-form [type=submit]').click();

    await page.waitForURL((url) => url.pathname === '/events' && url.searchParams.get('month') === '2031-05');
    assert.equal(await notice(), 'Event created.');
    assert.deepEqual(await eventTitlesOnPage(), ['Design review Room <b>4</b>'], 'markup in data is shown as text');
    assert.deepEqual(await serverSummaries(), ['Design review']);
    await screenshot('app-event-created');

    await page.locator('tr', { hasText: 'Design review' }).getByRole('link', { name: 'Edit' }).click();
    await page.waitForURL((url) => url.pathname === '/events/edit');
    assert.equal(await page.locator('input[name=title]').inputValue(), 'Design review');
    assert.equal(await page.locator('input[name=start]').inputValue(), '2031-05-20T14:00');
    await page.locator('input[name=title]').fill('Design review (moved)');
    await page.locator('input[name=start]').fill('2031-05-21T09:00');
    await page.locator('input[name=end]').fill('2031-05-21T10:00');
    await screenshot('app-edit-event');
    await page.locator('form.event-form [type=submit]').click();

    await page.waitForURL((url) => url.searchParams.get('notice') === 'updated');
    assert.deepEqual(await eventTitlesOnPage(), ['Design review (moved) Room <b>4</b>']);
    assert.match((await page.locator('tr', { hasText: 'Design review (moved)' }).textContent()) ?? '', /21 May[\s\S]*09:00–10:00/);
    assert.deepEqual(await serverSummaries(), ['Design review (moved)']);
    const stored = (await objectsOn(rad, USER, calendarUrl))[0]!.ics;
    assert.deepEqual(property(stored, 'DTSTART'), ['20310521T090000Z']);

    await page.locator('tr', { hasText: 'Design review (moved)' }).getByRole('link', { name: 'Edit' }).click();
    await page.waitForURL((url) => url.pathname === '/events/edit');
    await page.locator('form.delete-form [type=submit]').click();
    await page.waitForURL((url) => url.searchParams.get('notice') === 'deleted');
    assert.deepEqual(await eventTitlesOnPage(), []);
    assert.deepEqual(await serverSummaries(), []);
    await screenshot('app-event-deleted');
  });

  test('a recurring event: edit one occurrence, delete another, then the series', async () => {
    const seriesIcs = async () => {
      const found = (await objectsOn(rad, USER, calendarUrl)).find((o) => property(o.ics, 'RRULE').length > 0);
      assert.ok(found, 'the series is on the server');
      return found.ics;
    };
    await page.goto(`${appUrl}/events/new?month=2031-06`);
    await page.locator('input[name=title]').fill('Standup');
    await page.locator('input[name=start]').fill('2031-06-02T09:00');
    await page.locator('input[name=end]').fill('2031-06-02T09:15');
    await page.locator('select[name=frequency]').selectOption('DAILY');
    await page.locator('input[name=count]').fill('3');
    await page.locator('form.event-form [type=submit]').click();
    await page.waitForURL((url) => url.searchParams.get('notice') === 'created');
    assert.deepEqual(await eventTitlesOnPage(), ['Standup (repeats)', 'Standup (repeats)', 'Standup (repeats)']);
    await screenshot('app-series-created');

    // Only the second occurrence changes.
    await page.locator('table.events tbody tr').nth(1).getByRole('link', { name: 'Edit' }).click();
    await page.waitForURL((url) => url.pathname === '/events/edit');
    await page.locator('input[name=title]').fill('Standup (long)');
    await page.locator('form.event-form input[name=mode][value=this]').check();
    await screenshot('app-edit-occurrence');
    await page.locator('form.event-form [type=submit]').click();
    await page.waitForURL((url) => url.searchParams.get('notice') === 'updated');
    assert.deepEqual(await eventTitlesOnPage(), ['Standup (repeats)', 'Standup (long) (repeats)', 'Standup (repeats)']);
    const ics = await seriesIcs();
    assert.match(ics, /RECURRENCE-ID[^:\r\n]*:20310603T090000Z/, 'an override of that occurrence on the server');

    // Only the third occurrence goes.
    await page.locator('table.events tbody tr').nth(2).getByRole('link', { name: 'Edit' }).click();
    await page.waitForURL((url) => url.pathname === '/events/edit');
    await page.locator('form.delete-form input[name=deleteMode][value=this]').check();
    await page.locator('form.delete-form [type=submit]').click();
    await page.waitForURL((url) => url.searchParams.get('notice') === 'deleted');
    assert.deepEqual(await eventTitlesOnPage(), ['Standup (repeats)', 'Standup (long) (repeats)']);
    assert.match(await seriesIcs(), /EXDATE[^:\r\n]*:20310604T090000Z/);

    // Then the whole series.
    await page.locator('table.events tbody tr').first().getByRole('link', { name: 'Edit' }).click();
    await page.waitForURL((url) => url.pathname === '/events/edit');
    await page.locator('form.delete-form input[name=deleteMode][value=all]').check();
    await page.locator('form.delete-form [type=submit]').click();
    await page.waitForURL((url) => url.searchParams.get('notice') === 'deleted');
    assert.deepEqual(await eventTitlesOnPage(), []);
    assert.deepEqual(await objectsOn(rad, USER, calendarUrl), []);
    await screenshot('app-series-deleted');
  });

  test('revoking access ends the grant and the app offers to connect again', async () => {
    await page.getByRole('button', { name: 'Revoke access' }).click();
    await page.waitForURL((url) => url.searchParams.get('notice') === 'revoked');
    await page.getByRole('link', { name: 'Connect calendar' }).waitFor();
    // The app holds no tokens any more: data pages send the user back to connect.
    const res = await page.goto(`${appUrl}/calendars`);
    assert.equal(res?.status(), 401);
    await screenshot('app-revoked');
    assert.deepEqual(cspViolations, [], 'no page broke its Content-Security-Policy');
  });
});
