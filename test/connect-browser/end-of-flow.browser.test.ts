/**
 * Where the flow ends, in Chromium: the demo app's callback page (code received,
 * cancelled) keeps the flow's language and theme (Arabic and dark, asked for by the
 * authorize URL on an English, light-mode browser), fits a 320 px phone with its curl
 * commands, and meets the CSP; Almanac's home page and the API reference page too.
 * Screenshots land in test-artifacts/connect/end-<step>.png.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { t, toLocale } from '../../src/connect/i18n/translator.js';
import { demoAuthorizeUrl } from '../../src/demo/demo-client.js';
import { tokenRequest } from '../support/oauth-flow.js';
import { RADICALE_SKIP, startRadicale, type RadicaleServer } from '../support/radicale.js';
import { freePort } from '../support/server-process.js';
import { startServer, type TestServer } from '../support/server.js';
import { AR, BACKGROUND, CHROMIUM_SKIP, launchBrowser, openPage, pageBackground, screenshot, text } from './harness.js';

const DE = toLocale('de');
const PHONE = { width: 320, height: 640 };

async function documentOf(page: Page) {
  return page.evaluate(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir, theme: document.documentElement.dataset.theme }));
}

/** Nothing makes the page itself scroll sideways (a long command scrolls inside its box). */
async function assertFits(page: Page): Promise<void> {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, `page is ${scroll}px wide in a ${width}px viewport: ${page.url()}`);
}

describe('end of the flow, home page and API reference in Chromium', { skip: CHROMIUM_SKIP }, () => {
  let rad: RadicaleServer | undefined;
  let almanac: TestServer;
  let browser: Browser;
  let demo: { clientId: string; clientSecret: string };

  before(async () => {
    [rad, browser, almanac] = await Promise.all([
      RADICALE_SKIP ? undefined : startRadicale({ users: { dana: 'dana-pw' } }),
      launchBrowser(),
      // The demo callback prints this server's own URL: it must be the real one.
      freePort().then((port) => startServer({ port, env: { ALMANAC_DEMO_CLIENT: 'true' } })),
    ]);
    if (rad) await rad.mkcalendar('dana', 'work', { displayName: 'Work' });
    const ensured = await almanac.runtime.services.demoClients.ensure(almanac.runtime.config.publicUrl);
    assert.equal(ensured.kind, 'created');
    if (ensured.kind === 'created') demo = { clientId: ensured.client.clientId, clientSecret: ensured.clientSecret };
  });

  after(async () => {
    await browser?.close();
    await almanac?.close();
    await rad?.stop();
  });

  test('Arabic and dark from the authorize URL: connect → Continue → the demo page in Arabic, dark, on a phone; the code works', { skip: RADICALE_SKIP }, async () => {
    assert.ok(rad);
    const { context, page, csp } = await openPage(browser, { locale: 'en-US', colorScheme: 'light', viewport: PHONE });
    const start = new URL(demoAuthorizeUrl(almanac.url, demo.clientId));
    start.searchParams.set('lng', 'ar');
    start.searchParams.set('theme', 'dark');
    await page.goto(start.toString());
    await page.waitForURL((url) => url.pathname === '/connect');
    await page.locator('a[href="/connect/caldav"]').click();
    await page.locator('input[name=server_url]').fill(rad.url);
    await page.locator('input[name=username]').fill('dana');
    await page.locator('input[name=password]').fill('dana-pw');
    await page.locator('form[action="/connect/caldav"] [type=submit]').click();
    await page.waitForURL((url) => url.pathname === '/connect');
    await page.locator('form[action="/connect/continue"] [type=submit]').click();
    await page.waitForURL((url) => url.pathname === '/demo/callback');

    assert.deepEqual(await documentOf(page), { lang: 'ar', dir: 'rtl', theme: 'dark' });
    assert.equal(await pageBackground(page), BACKGROUND.dark, 'dark, not white');
    assert.equal(text(await page.locator('main h1').textContent()), t(AR, 'demo.codeTitle'));
    assert.equal(text(await page.locator('.identity').textContent()), t(AR, 'demo.identity'));
    assert.equal(text(await page.title()), `${t(AR, 'demo.codeTitle')} · Almanac demo`);
    const family = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
    assert.doesNotMatch(family, /^(serif|"?Times)/i, 'the connect pages’ fonts, not the browser default serif');

    const code = new URL(page.url()).searchParams.get('code')!;
    assert.equal(text(await page.locator('.code-value').textContent()), code);
    const exchange = text(await page.locator('pre.command').first().textContent());
    assert.ok(exchange.startsWith(`curl -s ${almanac.url}/api/oauth/token`), exchange);
    assert.ok(exchange.includes(`-u "${demo.clientId}:$CLIENT_SECRET"`) && exchange.includes(`-d code=${code}`), exchange);
    // The commands stay left-to-right inside the right-to-left page, and scroll inside their box.
    assert.equal(await page.locator('pre.command').first().evaluate((el) => getComputedStyle(el).direction), 'ltr');
    assert.ok(await page.locator('pre.command').first().evaluate((el) => el.scrollWidth > el.clientWidth), 'the long command scrolls in its box');
    await assertFits(page);
    await screenshot(page, 'end-ar-dark-code-phone');

    const tokens = await tokenRequest(almanac.url, { grant_type: 'authorization_code', code }, { basic: [demo.clientId, demo.clientSecret] });
    assert.equal(tokens.status, 200, 'the page’s code and the demo secret complete the flow');
    assert.deepEqual(csp, []);
    await context.close();
  });

  test('Cancel ends on the demo page’s "cancelled" text in the same language and theme, with a way to start again', async () => {
    const { context, page, csp } = await openPage(browser, { locale: 'en-US', colorScheme: 'light', viewport: PHONE });
    const start = new URL(demoAuthorizeUrl(almanac.url, demo.clientId));
    start.searchParams.set('lng', 'ar');
    start.searchParams.set('theme', 'dark');
    await page.goto(start.toString());
    await page.waitForURL((url) => url.pathname === '/connect');
    await page.locator('.actions form[action="/connect/cancel"] [type=submit]').click();
    await page.waitForURL((url) => url.pathname === '/demo/callback');
    assert.equal(new URL(page.url()).searchParams.get('error'), 'access_denied');
    assert.deepEqual(await documentOf(page), { lang: 'ar', dir: 'rtl', theme: 'dark' });
    assert.equal(await pageBackground(page), BACKGROUND.dark);
    assert.equal(text(await page.locator('main h1').textContent()), t(AR, 'demo.cancelledTitle'));
    assert.equal(text(await page.locator('main .lead').textContent()), t(AR, 'demo.cancelledBody'));
    const again = page.locator('main a.btn-primary');
    assert.equal(text(await again.textContent()), t(AR, 'action.tryAgain'));
    assert.equal(await again.getAttribute('href'), demoAuthorizeUrl(almanac.url, demo.clientId));
    await assertFits(page);
    await screenshot(page, 'end-ar-dark-cancelled-phone');
    assert.deepEqual(csp, []);
    await context.close();
  });

  test('an error from the flow is explained (German browser, dark device)', async () => {
    const { context, page, csp } = await openPage(browser, { locale: 'de-DE', colorScheme: 'dark', viewport: PHONE });
    await page.goto(`${almanac.url}/demo/callback?error=server_error&error_description=${encodeURIComponent('Something broke')}&state=demo`);
    assert.deepEqual(await documentOf(page), { lang: 'de', dir: 'ltr', theme: 'auto' });
    assert.equal(await pageBackground(page), BACKGROUND.dark, 'auto follows the dark device');
    assert.equal(text(await page.locator('main h1').textContent()), t(DE, 'demo.errorTitle'));
    assert.match(text(await page.locator('main .reference').textContent()), /server_error/);
    await assertFits(page);
    await screenshot(page, 'end-de-dark-error-phone');
    assert.deepEqual(csp, []);
    await context.close();
  });

  test('the home page: what this is, the demo flow, the docs and health links, on a phone in Arabic', async () => {
    const { context, page, csp } = await openPage(browser, { locale: 'ar', colorScheme: 'dark', viewport: PHONE });
    const res = await page.goto(`${almanac.url}/`);
    assert.equal(res?.status(), 200);
    assert.deepEqual(await documentOf(page), { lang: 'ar', dir: 'rtl', theme: 'auto' });
    assert.equal(await pageBackground(page), BACKGROUND.dark);
    assert.equal(text(await page.locator('main h1').textContent()), t(AR, 'home.title'));
    assert.equal(await page.locator('main a.btn-primary').getAttribute('href'), demoAuthorizeUrl(almanac.url, demo.clientId));
    const links = await page.locator('.link-list a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(links, ['/api/docs', '/api/openapi.json', '/api/health', '/api/health/ready']);
    for (const href of links) assert.equal((await page.request.get(`${almanac.url}${href}`)).status(), 200, href);
    await assertFits(page);
    await screenshot(page, 'end-ar-dark-home-phone');
    assert.deepEqual(csp, []);
    await context.close();
  });

  test('the API reference on a phone: Almanac’s name and mark, every operation listed, no CSP error, nothing wider than the screen', async () => {
    const { context, page, csp } = await openPage(browser, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${almanac.url}/api/docs`);
    await page.locator('.opblock').first().waitFor();
    assert.equal(await page.title(), 'Almanac API reference');
    assert.equal(text(await page.locator('.docs-brand').textContent()), 'Almanac API reference');
    assert.equal(await page.locator('.docs-brand svg').count(), 1);
    assert.equal(await page.locator('img[src*="swagger"], .topbar-wrapper').count(), 0, 'no framework logo or top bar');
    assert.ok((await page.locator('.opblock').count()) >= 12, 'the operations are listed');
    assert.equal(await page.evaluate(() => window.innerWidth), 375, 'laid out for the phone (a viewport meta), not a 980 px desktop page');
    await assertFits(page);
    await screenshot(page, 'end-docs-phone');
    // An operation opened: parameters and responses (the widest part) still fit.
    await page.locator('#operations-Events-get_api_events .opblock-summary-control').click();
    await page.locator('#operations-Events-get_api_events .opblock-body .responses-table').first().waitFor();
    await assertFits(page);
    await screenshot(page, 'end-docs-phone-operation');
    assert.deepEqual(csp, []);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
