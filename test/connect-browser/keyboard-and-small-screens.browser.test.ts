/**
 * Keyboard-only use and a 320 px wide phone: the connect flow completed with Tab,
 * Enter, Space and typing alone (skip link first, a visible focus ring on buttons), and
 * the hub, the CalDAV form (with errors), the error and expired pages without
 * horizontal scrolling and with touch targets at least 44 px tall, in English and Arabic.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { t } from '../../src/connect/i18n/translator.js';
import { RADICALE_SKIP, type RadicaleServer } from '../support/radicale.js';
import type { TestServer } from '../support/server.js';
import { pushAuthorization } from '../support/connect-flow.js';
import { addExpiredSession, AR, authorizeUrl, EN, CHROMIUM_SKIP, focused, openPage, screenshot, styled, tabUntil, type AppServer , startBrowserStack, type BrowserStack } from './harness.js';

const USER = 'kim';
const PASSWORD = 'kim-pw';
/** A long account id, to see it wrap rather than widen the page at 320 px. */
const LONG_ACCOUNT = 'christina.alexandrova-vandenberghe@calendar.example-university.org';

/** Everything a finger must hit: buttons, button-styled links, provider rows, the help disclosure. */
const TOUCH_TARGETS = 'button, a.btn, a.provider, a.back-link, .secondary-nav a, summary';

async function tooSmallTargets(page: Page): Promise<string[]> {
  return page.locator(TOUCH_TARGETS).evaluateAll((els) =>
    els
      .filter((el) => (el as HTMLElement).offsetParent !== null)
      .map((el) => ({ el, box: el.getBoundingClientRect() }))
      .filter(({ box }) => box.height < 44)
      .map(({ el, box }) => `${el.tagName.toLowerCase()}.${el.className} "${(el.textContent ?? '').trim().slice(0, 30)}" is ${box.height.toFixed(1)} px tall`),
  );
}

async function assertFitsPhone(page: Page, what: string): Promise<void> {
  await styled(page);
  const widths = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth }));
  assert.ok(widths.scroll <= 320 && widths.body <= 320, `${what}: no horizontal scrolling at 320 px (scrollWidth ${widths.scroll}, body ${widths.body})`);
  assert.deepEqual(await tooSmallTargets(page), [], `${what}: touch targets at least 44 px tall`);
}

describe('connect pages in Chromium: keyboard only and 320 px', { skip: CHROMIUM_SKIP }, () => {
  let rad: RadicaleServer | undefined;
  let almanac: TestServer;
  let app: AppServer;
  let client: { clientId: string; clientSecret: string };
  let browser: Browser;
  let stack: BrowserStack | undefined;

  before(async () => {
    stack = await startBrowserStack(USER, PASSWORD, { slug: 'home', displayName: 'Home' });
    ({ rad, app, browser, almanac } = stack);
    // Client default auto: the pages carry the theme buttons too.
    client = await almanac.createClient({ displayName: 'Northwind Scheduling Suite', redirectUris: [app.callback] });
  });

  after(async () => stack?.close());

  test('the whole flow with the keyboard alone: Tab, Enter, Space and typing', { skip: RADICALE_SKIP }, async () => {
    assert.ok(rad);
    const { context, page, csp } = await openPage(browser);
    const state = 'keyboard-state';
    await page.goto(authorizeUrl(almanac, { client_id: client.clientId, user_id: 'keyboard-user', state }));
    await page.waitForURL((url) => url.pathname === '/connect');

    // The first Tab reaches the skip link, which becomes visible; Enter moves to the content.
    await page.keyboard.press('Tab');
    const first = await focused(page);
    assert.match(first.cls, /\bskip-link\b/, `first Tab focuses the skip link, got ${first.tag}.${first.cls}`);
    assert.equal(first.href, '#main');
    const skipBox = await page.locator('.skip-link').boundingBox();
    assert.ok(skipBox && skipBox.y >= 0 && skipBox.height >= 24, 'the focused skip link is on screen');
    await page.keyboard.press('Enter');
    assert.equal((await page.evaluate(() => document.activeElement?.id)) ?? '', 'main', 'the skip link moves focus to <main>');

    // Hub → CalDAV.
    await tabUntil(page, (f) => f.href === '/connect/caldav', 'the CalDAV provider');
    const ring = await page.evaluate(() => {
      const cs = getComputedStyle(document.activeElement as Element);
      return { outline: cs.outlineStyle, width: cs.outlineWidth, shadow: cs.boxShadow };
    });
    assert.ok(ring.outline !== 'none' || ring.shadow !== 'none', `the focused provider shows a focus ring: ${JSON.stringify(ring)}`);
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.pathname === '/connect/caldav');

    // Fill the form field by field, submit with Enter.
    await tabUntil(page, (f) => f.name === 'server_url', 'the server URL field');
    await page.keyboard.type(rad.url);
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).name, 'username');
    await page.keyboard.type(USER);
    await page.keyboard.press('Tab');
    assert.equal((await focused(page)).name, 'password');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.pathname === '/connect' && url.searchParams.get('notice') === 'connected');

    // Continue, reached by Tab, pressed with Space.
    await tabUntil(page, (f) => f.tag === 'button' && f.action === '/connect/continue', 'the Continue button', 40);
    const focusStyle = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const cs = getComputedStyle(el);
      return { outline: cs.outlineStyle, width: Number.parseFloat(cs.outlineWidth), shadow: cs.boxShadow, focusVisible: el.matches(':focus-visible') };
    });
    assert.ok(focusStyle.focusVisible, 'keyboard focus matches :focus-visible');
    assert.ok((focusStyle.outline !== 'none' && focusStyle.width >= 2) || focusStyle.shadow !== 'none', `a visible focus indicator on the button: ${JSON.stringify(focusStyle)}`);
    await screenshot(page, 'en-light-keyboard-focus');
    await page.keyboard.press('Space');
    await page.waitForURL((url) => url.origin === app.url);
    const back = new URL(page.url()).searchParams;
    assert.ok(back.get('code'), `a code: ${page.url()}`);
    assert.equal(back.get('state'), state);
    assert.deepEqual(csp, []);
    await context.close();
  });

  for (const v of [
    { lang: EN, theme: 'light' as const, params: {} as Record<string, string> },
    { lang: AR, theme: 'dark' as const, params: { lng: 'ar' } as Record<string, string> },
  ]) {
    const name = `${v.lang}-${v.theme}-320`;
    test(`${v.lang} at 320×640 (${v.theme} device): hub with an account, CalDAV form with errors, error page, expired page`, async () => {
      const { context, page, csp } = await openPage(browser, { viewport: { width: 320, height: 640 }, colorScheme: v.theme, isMobile: true, hasTouch: true });
      const userId = `phone-${v.lang}`;
      // An account stored directly (no Radicale needed), with a long id.
      const user = await almanac.runtime.services.users.findOrCreate(client.clientId, userId);
      await almanac.runtime.services.accounts.upsert({
        userId: user.id,
        provider: 'caldav',
        accountId: LONG_ACCOUNT,
        display: null,
        credentials: { kind: 'basic', serverUrl: 'https://cal.example/', username: LONG_ACCOUNT, password: 'x' },
        grantedScopes: ['caldav'],
        calendarPermissionGranted: true,
      });

      // A pushed request (the application vouches for the user): only such a session lists the user's accounts.
      const pushed = await pushAuthorization(almanac.url, client, { response_type: 'code', user_id: userId, ...v.params });
      assert.equal(pushed.status, 201, await pushed.clone().text());
      const { request_uri } = (await pushed.json()) as { request_uri: string };
      await page.goto(`${almanac.url}/api/oauth/authorize?${new URLSearchParams({ client_id: client.clientId, request_uri })}`);
      await page.waitForURL((url) => url.pathname === '/connect');
      assert.equal(await page.evaluate(() => document.documentElement.dir), v.lang === AR ? 'rtl' : 'ltr');
      assert.deepEqual(await page.locator('.accounts .account-name').allTextContents(), [LONG_ACCOUNT], 'the long account id is listed');
      assert.ok(await page.locator('.theme-switch').isVisible(), 'the theme buttons are offered (client default auto)');
      await assertFitsPhone(page, 'hub');
      await screenshot(page, `${name}-hub`);

      await page.locator('a[href="/connect/caldav"]').click();
      await page.waitForURL((url) => url.pathname === '/connect/caldav');
      await assertFitsPhone(page, 'CalDAV form');
      await screenshot(page, `${name}-caldav-form`);
      // Empty submit (the form is novalidate): every field shows its error.
      await page.locator('form[action="/connect/caldav"] [type=submit]').click();
      await page.locator('.error-summary').waitFor();
      assert.equal(await page.locator('.field-error').count(), 3);
      assert.equal(await page.locator('.error-summary li').first().textContent(), t(v.lang, 'form.error.serverUrlRequired'));
      await assertFitsPhone(page, 'CalDAV form with errors');
      await screenshot(page, `${name}-form-error`);

      await page.locator('form[action="/connect/caldav"] input[name=csrf]').evaluate((el) => ((el as HTMLInputElement).value = 'forged'));
      await page.locator('form[action="/connect/caldav"] [type=submit]').click();
      await page.locator('.status-icon--error').waitFor();
      await assertFitsPhone(page, 'error page');
      await screenshot(page, `${name}-error`);

      await addExpiredSession(context, almanac, { clientId: client.clientId, externalUserId: userId, ...v.params });
      await page.goto(`${almanac.url}/connect`);
      assert.equal(await page.locator('main h1').textContent(), t(v.lang, 'expired.title'));
      await assertFitsPhone(page, 'expired page');
      await screenshot(page, `${name}-expired`);
      assert.deepEqual(csp, []);
      await context.close();
    });
  }
});
