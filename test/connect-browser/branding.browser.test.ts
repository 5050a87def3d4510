/**
 * A client's branding as the browser draws it: its primary colour on the primary button
 * with readable text, its logo, its support contact on error pages; and which theme
 * wins: the `theme` parameter over the client's default, the client's light/dark over
 * everything else, and, for a client default of auto, the remembered choice (theme
 * buttons → cookie) over the device's prefers-color-scheme, which decides otherwise.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { THEME_COOKIE } from '../../src/connect/branding/theme.js';
import { t } from '../../src/connect/i18n/translator.js';
import { startServer, type TestServer } from '../support/server.js';
import { AR, authorizeUrl, BACKGROUND, EN, CHROMIUM_SKIP, contrast, hexToRgb, launchBrowser, openPage, pageBackground, parseRgb, screenshot, startApp, styleOf, type AppServer } from './harness.js';

const PRIMARY = '#0b5fff';
const LOGO = 'https://cdn.example/logo.png';
const SUPPORT = 'help@app.example';

async function themeAttr(page: Page): Promise<string | undefined> {
  return page.evaluate(() => document.documentElement.dataset.theme);
}

/** Posts the page's CSRF-protected form with a forged token: the error page of that session. */
async function forgeCsrfError(page: Page): Promise<void> {
  await page.locator('.actions form[action="/connect/cancel"] input[name=csrf]').evaluate((el) => ((el as HTMLInputElement).value = 'forged'));
  await page.locator('.actions form[action="/connect/cancel"] [type=submit]').click();
  await page.locator('.status-icon--error').waitFor();
}

describe('connect pages in Chromium: branding and theme precedence', { skip: CHROMIUM_SKIP }, () => {
  let almanac: TestServer;
  let app: AppServer;
  let browser: Browser;
  let branded: { clientId: string };
  let plain: { clientId: string };

  before(async () => {
    [almanac, app, browser] = await Promise.all([startServer(), startApp(), launchBrowser()]);
    branded = await almanac.createClient({
      displayName: 'Acme Branded',
      redirectUris: [app.callback],
      branding: { primaryColor: PRIMARY, defaultTheme: 'dark', logoUrl: LOGO, supportContact: SUPPORT },
    });
    // No branding: default theme auto, no support contact.
    plain = await almanac.createClient({ displayName: 'Plain App', redirectUris: [app.callback] });
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await almanac?.close();
  });

  for (const c of [
    { theme: 'dark' as const, params: {} as Record<string, string>, device: 'light' as const, why: "the client's dark default applies without a parameter (over a light device)" },
    { theme: 'light' as const, params: { theme: 'light' }, device: 'dark' as const, why: "theme=light beats the client's dark default (and a dark device)" },
  ]) {
    test(`${c.why}; the primary colour fills the primary button with readable text; the logo shows`, async () => {
      const { context, page, csp } = await openPage(browser, { colorScheme: c.device });
      await page.goto(authorizeUrl(almanac, { client_id: branded.clientId, user_id: `brand-${c.theme}`, ...c.params }));
      await page.waitForURL((url) => url.pathname === '/connect');
      assert.equal(await themeAttr(page), c.theme);
      assert.equal(await pageBackground(page), BACKGROUND[c.theme]);
      assert.equal(await page.locator('.theme-switch').count(), 0, 'no theme buttons when the theme is forced');

      const logo = page.locator('img.brand-logo');
      assert.equal(await logo.getAttribute('src'), LOGO);
      assert.equal(await logo.getAttribute('alt'), 'Acme Branded');
      assert.ok(await logo.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0), 'the logo loaded (CSP img-src allows its origin)');

      await page.locator('a[href="/connect/caldav"]').click();
      await page.waitForURL((url) => url.pathname === '/connect/caldav');
      const button = await styleOf(page, 'form[action="/connect/caldav"] .btn-primary', ['background-color', 'color']);
      assert.deepEqual(parseRgb(button['background-color']!), hexToRgb(PRIMARY), 'the primary button is the brand colour');
      const fg = parseRgb(button.color!);
      assert.ok(['0,0,0', '255,255,255'].includes(fg.join()), `button text is black or white, got ${button.color}`);
      const ratio = contrast(fg, hexToRgb(PRIMARY));
      assert.ok(ratio >= 4.5, `button text contrast ${ratio.toFixed(2)} ≥ 4.5`);
      // Links use the brand colour adjusted to stay readable on the card.
      const link = parseRgb((await styleOf(page, '.secondary-nav a', ['color'])).color!);
      const card = parseRgb((await styleOf(page, 'main.card', ['background-color']))['background-color']!);
      assert.ok(contrast(link, card) >= 4.5, `link contrast ${contrast(link, card).toFixed(2)} ≥ 4.5`);
      await screenshot(page, `en-${c.theme}-branded-caldav-form`);
      assert.deepEqual(csp, []);
      await context.close();
    });
  }

  test('client default auto: the device decides without a remembered choice', async () => {
    const drawn: Record<string, string> = {};
    for (const device of ['light', 'dark'] as const) {
      const { context, page, csp } = await openPage(browser, { colorScheme: device });
      await page.goto(authorizeUrl(almanac, { client_id: plain.clientId, user_id: `device-${device}` }));
      await page.waitForURL((url) => url.pathname === '/connect');
      assert.equal(await themeAttr(page), 'auto');
      drawn[device] = await pageBackground(page);
      assert.equal(await page.locator('.theme-switch button[value=auto][aria-pressed=true]').count(), 1, '"Device" is the current choice');
      assert.deepEqual(csp, []);
      await context.close();
    }
    assert.notEqual(drawn.light, drawn.dark, 'the page background follows prefers-color-scheme');
    assert.deepEqual(drawn, { light: BACKGROUND.light, dark: BACKGROUND.dark });
  });

  test('client default auto: the remembered choice (theme buttons → cookie) beats the device; a parameter or a client default beats the choice', async () => {
    const { context, page, csp } = await openPage(browser, { colorScheme: 'dark' });
    await page.goto(authorizeUrl(almanac, { client_id: plain.clientId, user_id: 'chooser' }));
    await page.waitForURL((url) => url.pathname === '/connect');
    assert.equal(await pageBackground(page), BACKGROUND.dark);

    // Light on a dark device: posted to /connect/theme, back on the hub, remembered.
    await page.locator('.theme-switch button[value=light]').click();
    await page.waitForURL((url) => url.pathname === '/connect');
    await page.locator('.theme-switch button[value=light][aria-pressed=true]').waitFor();
    assert.equal(await themeAttr(page), 'light');
    assert.equal(await pageBackground(page), BACKGROUND.light);
    const cookie = (await context.cookies(`${almanac.url}/connect`)).find((k) => k.name === THEME_COOKIE);
    assert.equal(cookie?.value, 'light');
    assert.equal(cookie?.httpOnly, true);

    // It holds on the next page, and its own form posts back to that page.
    await page.locator('a[href="/connect/caldav"]').click();
    await page.waitForURL((url) => url.pathname === '/connect/caldav');
    assert.equal(await pageBackground(page), BACKGROUND.light);
    await page.locator('.theme-switch button[value=auto]').click();
    await page.waitForURL((url) => url.pathname === '/connect/caldav');
    await page.locator('.theme-switch button[value=auto][aria-pressed=true]').waitFor();
    assert.equal(await pageBackground(page), BACKGROUND.dark, '"Device" follows the dark device again');
    await page.locator('.theme-switch button[value=light]').click();
    await page.locator('.theme-switch button[value=light][aria-pressed=true]').waitFor();

    // A theme parameter beats the remembered light …
    await page.goto(authorizeUrl(almanac, { client_id: plain.clientId, user_id: 'chooser', theme: 'dark' }));
    await page.waitForURL((url) => url.pathname === '/connect');
    assert.equal(await themeAttr(page), 'dark');
    assert.equal(await page.locator('.theme-switch').count(), 0);
    // … and so does a client's forced default.
    await page.goto(authorizeUrl(almanac, { client_id: branded.clientId, user_id: 'chooser' }));
    await page.waitForURL((url) => url.pathname === '/connect');
    assert.equal(await themeAttr(page), 'dark');
    assert.deepEqual(csp, []);
    await context.close();
  });

  test('error pages show the support contact when set, the administrator wording when not', async () => {
    for (const lang of [EN, AR]) {
      const { context, page, csp } = await openPage(browser, { locale: lang === AR ? 'ar' : 'en-US', colorScheme: 'dark' });
      await page.goto(authorizeUrl(almanac, { client_id: branded.clientId, user_id: `support-${lang}` }));
      await page.waitForURL((url) => url.pathname === '/connect');
      await forgeCsrfError(page);
      assert.equal(await page.locator('main h1').textContent(), t(lang, 'error.csrf.title'));
      const support = page.locator('.support');
      assert.equal((await support.textContent())?.trim(), t(lang, 'error.support', { contact: SUPPORT }));
      assert.equal(await support.locator('a').getAttribute('href'), `mailto:${SUPPORT}`);
      await screenshot(page, `${lang}-dark-branded-error`);

      await page.goto(authorizeUrl(almanac, { client_id: plain.clientId, user_id: `support-${lang}` }));
      await page.waitForURL((url) => url.pathname === '/connect');
      await forgeCsrfError(page);
      assert.equal((await page.locator('.support').textContent())?.trim(), t(lang, 'error.supportAdmin'));
      assert.equal(await page.locator('.support a').count(), 0);
      assert.deepEqual(csp, []);
      await context.close();
    }
  });
});
